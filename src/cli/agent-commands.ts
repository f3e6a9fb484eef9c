import type { Command } from "commander";
import { UsageError } from "./pcs-args.ts";

/** Native types and what they do, shown next to the installed OCF agents. */
const NATIVE_AGENTS: Record<string, string> = {
  "ocf:heartbeat:IPaddr2": "virtual IP (native; an OCI secondary private IP on cloud=oci clusters)",
  "floatip:check:http": "health check: an HTTP URL answers with the expected status",
  "floatip:check:tcp": "health check: a TCP port accepts connections",
  "floatip:check:exec": "health check: a command exits with the expected code",
};

/** `resource agents` and `resource describe`: what can be created, and with which parameters. */
export function registerAgentCommands(resource: Command, json: (cmd: Command) => boolean): void {
  resource
    .command("agents")
    .description("list the resource agents floatip can run (native ones and installed OCF agents)")
    .argument("[filter]", "e.g. ocf:heartbeat")
    .action(async (filter: string | undefined, _opts: unknown, cmd: Command) => {
      const { listOcfAgents } = await import("../agents/ocf-metadata.ts");
      const all = [...new Set([...Object.keys(NATIVE_AGENTS), ...(await listOcfAgents())])];
      const shown = all.filter((a) => filter === undefined || a.startsWith(filter));
      if (json(cmd)) process.stdout.write(`${JSON.stringify(shown)}\n`);
      else
        process.stdout.write(
          shown.map((a) => `${a}${NATIVE_AGENTS[a] ? ` - ${NATIVE_AGENTS[a]}` : ""}\n`).join(""),
        );
    });
  resource
    .command("describe")
    .description("show an agent's parameters and default operations")
    .argument("<type>", "e.g. ocf:heartbeat:Dummy")
    .action(async (type: string, _opts: unknown, cmd: Command) => {
      const native = NATIVE_AGENTS[type];
      if (native && type !== "ocf:heartbeat:IPaddr2") {
        process.stdout.write(`${type} - ${native}\n(see README: health checks)\n`);
        return;
      }
      const { readOcfMetadata } = await import("../agents/ocf-metadata.ts");
      let meta;
      try {
        meta = await readOcfMetadata(type, { timeoutMs: 10_000 });
      } catch (error) {
        throw new UsageError(
          `Agent '${type}' is not installed or does not provide valid metadata: ${(error as Error).message}`,
        );
      }
      if (json(cmd)) {
        process.stdout.write(`${JSON.stringify(meta, null, 2)}\n`);
        return;
      }
      const lines = [`${type} - ${meta.shortdesc}`, "", meta.longdesc.trim(), "", "Resource options:"];
      for (const p of meta.parameters) {
        lines.push(
          `  ${p.name}${p.required ? " (required)" : ""}: ${p.shortdesc}${p.default !== undefined ? ` [default: ${p.default}]` : ""}`,
        );
      }
      lines.push("", "Default operations:");
      for (const a of meta.actions) {
        const extras = Object.entries(a)
          .filter(([k]) => k !== "name")
          .map(([k, v]) => `${k}=${String(v)}`);
        lines.push(`  ${a.name}: ${extras.join(" ")}`);
      }
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
