import type { Command } from "commander";
import { callApi, type Endpoint } from "../api/client.ts";
import type { StatusSnapshot } from "../api/status-types.ts";
import type { StonithDeviceConfig } from "../config/schema.ts";
import type { FenceHistoryEntry } from "../api/fence-history.ts";
import type { FenceResult } from "../fencing/types.ts";
import { parseResourceArgs, UsageError } from "./pcs-args.ts";

/**
 * pcs stonith commands: create, delete|remove, config, status, list, fence, history. Formatting is pure
 * and exported for tests; each command is one admin call to the local daemon.
 */

interface Globals {
  json?: boolean;
}

const wantsJson = (cmd: Command) => cmd.optsWithGlobals<Globals>().json === true;
const write = (text: string) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);

/** pcs stonith config: one block per device, as pcs 0.11 prints primitives. */
export function formatStonithConfig(devices: readonly StonithDeviceConfig[]): string {
  const lines: string[] = [];
  for (const d of devices) {
    lines.push(`Resource: ${d.id} (class=stonith type=${d.type})`);
    const params = Object.entries(d.params);
    if (params.length > 0) {
      lines.push(`  Attributes: ${d.id}-instance_attributes`);
      for (const [k, v] of params) lines.push(`    ${k}=${v}`);
    }
    const meta = Object.entries(d.meta);
    if (meta.length > 0) {
      lines.push(`  Meta Attributes: ${d.id}-meta_attributes`);
      for (const [k, v] of meta) lines.push(`    ${k}=${v}`);
    }
    if (d.ops.length > 0) {
      lines.push("  Operations:");
      for (const op of d.ops) {
        lines.push(`    ${op.name}: ${d.id}-${op.name}-interval-${op.intervalMs / 1000}s`);
        lines.push(`      interval=${op.intervalMs / 1000}s timeout=${op.timeoutMs / 1000}s`);
      }
    }
  }
  return lines.join("\n");
}

/** pcs stonith status: the devices as crm_mon lists them, or pcs's line when there are none. */
export function formatStonithStatus(s: Pick<StatusSnapshot, "stonith" | "fencing" | "warnings">): string {
  const devices = s.stonith ?? [];
  const lines: string[] = [];
  for (const w of s.warnings ?? []) lines.push(`Warning: ${w}`);
  if (devices.length === 0) lines.push("NO stonith devices configured");
  for (const d of devices)
    lines.push(`  * ${d.id}\t(stonith:${d.type}):\t ${d.startedOn ? `Started ${d.startedOn}` : "Stopped"}`);
  for (const n of s.fencing?.unclean ?? []) lines.push(`Node ${n} is UNCLEAN: waiting to be fenced`);
  for (const n of s.fencing?.pending ?? []) lines.push(`Fencing of ${n} in progress`);
  return lines.join("\n");
}

/** pcs stonith history (stonith_admin --history): one line per operation, then each attempt. */
export function formatFenceHistory(history: readonly FenceHistoryEntry[]): string {
  if (history.length === 0) return "No fencing history";
  const lines: string[] = [];
  for (const h of [...history].reverse()) {
    const state = h.state === "done" ? "successful" : h.state === "failed" ? "failed" : "pending";
    const when = h.completedAt ? `, completed='${new Date(h.completedAt).toISOString()}'` : "";
    lines.push(
      `${h.action} of ${h.target} ${state}: delegate=${h.device ?? "none"}, origin=${h.origin}, reason=${h.reason}, requested='${new Date(h.requestedAt).toISOString()}'${when}`,
    );
    for (const a of h.attempts) {
      lines.push(
        `  attempt ${a.attempt} with ${a.device}: ${a.ok ? "ok" : "failed"} in ${a.durationMs} ms: ${a.message}`,
      );
    }
  }
  return lines.join("\n");
}

export function registerStonithCommands(program: Command, socketOf: (cmd: Command) => Endpoint): void {
  const stonith = program.command("stonith").description("fence devices and fencing (pcs stonith)");

  stonith
    .command("create")
    .description(
      "create a fence device: create NAME fence_oci|fence_exec|fence_AGENT [param=value...] [pcmk_host_map=node1:ocid...] [op ...] [meta ...]",
    )
    .argument("<id>")
    .argument("<type>")
    .argument("[args...]")
    .option("--force", "create it even if the agent is not installed on this node")
    .allowUnknownOption()
    .action(async (id: string, type: string, words: string[], opts: { force?: boolean }, cmd: Command) => {
      const args = parseResourceArgs(words);
      await callApi(socketOf(cmd), "POST", "/v1/stonith/create", {
        id,
        type,
        ...args,
        force: opts.force === true,
      });
    });

  for (const alias of ["delete", "remove"]) {
    stonith
      .command(alias)
      .description("delete a fence device")
      .argument("<id>")
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        await callApi(socketOf(cmd), "POST", "/v1/stonith/delete", { id });
        write(`Deleting Resource - ${id}`);
      });
  }

  stonith
    .command("config")
    .description("show fence device configuration: config [NAME...]")
    .argument("[ids...]")
    .action(async (ids: string[], _opts: unknown, cmd: Command) => {
      const status = await callApi<StatusSnapshot>(socketOf(cmd), "GET", "/v1/status");
      const all = status.config?.stonith ?? [];
      for (const id of ids) {
        if (!all.some((d) => d.id === id)) throw new UsageError(`Unable to find stonith device: ${id}`);
      }
      const devices = ids.length > 0 ? all.filter((d) => ids.includes(d.id)) : all;
      if (wantsJson(cmd)) write(JSON.stringify({ primitives: devices }, null, 2));
      else if (devices.length > 0) write(formatStonithConfig(devices));
    });

  const showStatus = async (_opts: unknown, cmd: Command) => {
    const status = await callApi<StatusSnapshot>(socketOf(cmd), "GET", "/v1/status");
    if (wantsJson(cmd)) {
      write(
        JSON.stringify(
          { stonith: status.stonith ?? [], fencing: status.fencing ?? null, warnings: status.warnings ?? [] },
          null,
          2,
        ),
      );
      return;
    }
    write(formatStonithStatus(status));
  };
  stonith.command("status", { isDefault: true }).description("show fence devices").action(showStatus);

  stonith
    .command("list")
    .description("list the available fence agents")
    .action(async (_opts: unknown, cmd: Command) => {
      const { types } = await callApi<{ types: { type: string; description: string }[] }>(
        socketOf(cmd),
        "GET",
        "/v1/stonith/types",
      );
      if (wantsJson(cmd)) write(JSON.stringify(types, null, 2));
      else write(types.map((t) => `${t.type} - ${t.description}`).join("\n"));
    });

  stonith
    .command("fence")
    .description("fence a node now through the fence devices: fence NODE [--off]")
    .argument("<node>")
    .option("--off", "power the node off instead of rebooting it")
    .action(async (node: string, opts: { off?: boolean }, cmd: Command) => {
      const result = await callApi<FenceResult>(
        socketOf(cmd),
        "POST",
        "/v1/stonith/fence",
        { node, action: opts.off === true ? "off" : "reboot" },
        // stonith-timeout (60 s by default) per attempt, two attempts per device, plus retry pauses.
        600_000,
      );
      if (wantsJson(cmd)) write(JSON.stringify(result, null, 2));
      else write(`Node: ${node} fenced (${result.action} by ${result.device ?? "?"}: ${result.message})`);
    });

  stonith
    .command("history")
    .description("show fencing history: history [show] [NODE]")
    .argument("[words...]")
    .action(async (words: string[], _opts: unknown, cmd: Command) => {
      const rest = words[0] === "show" ? words.slice(1) : words;
      if (rest.length > 1) throw new UsageError("usage: stonith history [show] [NODE]");
      const node = rest[0];
      const { history } = await callApi<{ history: FenceHistoryEntry[] }>(
        socketOf(cmd),
        "POST",
        "/v1/stonith/history",
        node === undefined ? {} : { node },
      );
      if (wantsJson(cmd)) write(JSON.stringify(history, null, 2));
      else write(formatFenceHistory(history));
    });
}
