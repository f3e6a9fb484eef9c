import type { Command } from "commander";
import { callApi, type Endpoint } from "../api/client.ts";
import type { WitnessStatus } from "../api/witness-status.ts";
import type { QuorumState } from "../quorum/votequorum.ts";
import type { QuorumDeviceStatus } from "../quorum/witness-vote.ts";
import { UsageError } from "./pcs-args.ts";

type EndpointOf = (cmd: Command) => Endpoint;

const json = (cmd: Command): boolean => cmd.optsWithGlobals<{ json?: boolean }>().json === true;

export interface QuorumStatusAnswer {
  cluster: string;
  nodeId: number | null;
  nodes: { id: number; name: string; online: boolean; local: boolean }[];
  options: { twoNode: boolean; waitForAll: boolean };
  quorum: QuorumState & { device: QuorumDeviceStatus | null };
}

interface QuorumConfigAnswer {
  options: { twoNode: boolean; waitForAll?: boolean };
  effective: { twoNode: boolean; waitForAll: boolean };
  device: { model: string; algorithm: string; host: string; addr: string; port: number } | null;
}

const yesNo = (b: boolean): string => (b ? "Yes" : "No");

/** corosync-quorumtool's layout, which `pcs quorum status` prints. */
export function formatQuorumStatus(s: QuorumStatusAnswer, now: Date = new Date()): string {
  const q = s.quorum;
  const lines = [
    "Quorum information",
    "------------------",
    `Date:             ${now.toUTCString()}`,
    "Quorum provider:  floatip_votequorum",
    `Nodes:            ${s.nodes.filter((n) => n.online).length}`,
    `Node ID:          ${s.nodeId ?? "?"}`,
    `Quorate:          ${yesNo(q.quorate)}`,
    "",
    "Votequorum information",
    "----------------------",
    `Expected votes:   ${q.expectedVotes}`,
    `Highest expected: ${q.expectedVotes}`,
    `Total votes:      ${q.totalVotes}`,
    `Quorum:           ${q.quorum}${q.quorate ? "" : " Activity blocked"}`,
    `Flags:            ${q.flags.join(" ")}`,
    "",
    "Membership information",
    "----------------------",
    "    Nodeid      Votes    Qdevice Name",
  ];
  // Qdevice column as corosync prints it: A(live)/NA, V(voted)/NV, NMW (master wins: never here).
  const deviceFlags = (online: boolean): string =>
    q.device ? `${online ? "A" : "NA"},${q.device.vote === "granted" ? "V" : "NV"},NMW` : "NR";
  for (const n of s.nodes.filter((x) => x.online)) {
    lines.push(
      `${String(n.id).padStart(10)} ${"1".padStart(10)} ${deviceFlags(true).padStart(10)} ${n.name}${n.local ? " (local)" : ""}`,
    );
  }
  if (q.device) {
    lines.push(
      `${"0".padStart(10)} ${(q.device.vote === "granted" ? "1" : "0").padStart(10)} ${"".padStart(10)} Qdevice`,
    );
  }
  if (q.waitingForAll) {
    lines.push("", "Waiting for all nodes (wait_for_all); 'floatip quorum unblock' proceeds without them.");
  }
  return lines.join("\n");
}

/** `pcs quorum config`. */
export function formatQuorumConfig(c: QuorumConfigAnswer): string {
  const lines = ["Options:"];
  if (c.options.twoNode !== undefined) lines.push(`  two_node: ${c.effective.twoNode ? 1 : 0}`);
  lines.push(
    `  wait_for_all: ${c.effective.waitForAll ? 1 : 0}${c.options.waitForAll === undefined ? " (from two_node)" : ""}`,
  );
  if (c.device) {
    lines.push("Device:", `  Model: ${c.device.model}`);
    lines.push(
      `    algorithm: ${c.device.algorithm}`,
      `    host: ${c.device.host}`,
      `    port: ${c.device.port}`,
    );
  }
  return lines.join("\n");
}

export function formatDeviceStatus(d: QuorumDeviceStatus, full: boolean): string {
  const lines = [
    "Qdevice information",
    "-------------------",
    "Model:                  Net",
    `Membership node list:   ${d.members.join(", ")}`,
    `Vote:                   ${d.vote === "granted" ? "ACK (ACK)" : d.vote === "pending" ? "Wait for reply" : "NACK (NACK)"}`,
    "",
    "Qdevice-net information",
    "----------------------",
    `Qnetd host:             ${d.host} (${d.addr}:${d.port})`,
    `Algorithm:              Fifty-Fifty split (${d.algorithm})`,
    `State:                  ${d.lastAnswerAgoMs !== null && d.lastAnswerAgoMs < 5000 ? "Connected" : "Not connected"}`,
    `Vote holder:            ${d.holder.length > 0 ? `partition of node${d.holder.length > 1 ? "s" : ""} ${d.holder.join(", ")}` : "none"}`,
  ];
  if (full) {
    lines.push(
      `View id:                ${d.viewId}`,
      `Grant left:             ${d.grantLeftMs === null ? "-" : `${d.grantLeftMs} ms`}`,
      `Last answer:            ${d.lastAnswerAgoMs === null ? "never" : `${d.lastAnswerAgoMs} ms ago (${d.lastVerdict ?? "?"})`}`,
      `Packets:                ${d.sent} sent, ${d.received} accepted`,
      `Rejected:               ${
        Object.entries(d.rejectedPackets)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ") || "none"
      }`,
    );
  }
  return lines.join("\n");
}

/** `pcs quorum update wait_for_all=1 two_node=0`: 0/1 (corosync) or true/false, on/off. */
export function parseQuorumOptions(words: readonly string[]): { waitForAll?: boolean; twoNode?: boolean } {
  if (words.length === 0)
    throw new UsageError("nothing to update: quorum update wait_for_all=0|1 [two_node=0|1]");
  const out: { waitForAll?: boolean; twoNode?: boolean } = {};
  for (const word of words) {
    const eq = word.indexOf("=");
    const key = eq === -1 ? word : word.slice(0, eq);
    const value = eq === -1 ? "" : word.slice(eq + 1);
    const flag = (
      { "1": true, on: true, true: true, "0": false, off: false, false: false } as Record<string, boolean>
    )[value.toLowerCase()];
    if (flag === undefined) throw new UsageError(`'${word}': give a value 0 or 1, e.g. 'wait_for_all=0'`);
    if (key === "wait_for_all") out.waitForAll = flag;
    else if (key === "two_node") out.twoNode = flag;
    else if (["auto_tie_breaker", "last_man_standing", "last_man_standing_window"].includes(key))
      throw new UsageError(
        `quorum option '${key}' is not supported by floatip; supported: wait_for_all, two_node`,
      );
    else throw new UsageError(`unknown quorum option '${key}'; supported: wait_for_all, two_node`);
  }
  return out;
}

/** `quorum device add model net host=HOST [algorithm=ffsplit] [port=5403]`. */
export function parseDeviceAdd(words: readonly string[]): {
  model: "net";
  host: string;
  algorithm: "ffsplit";
  port: number;
} {
  const usage = "usage: quorum device add model net host=HOST [algorithm=ffsplit] [port=5403]";
  const rest = [...words];
  if (rest[0] !== "model") throw new UsageError(`missing 'model net'; ${usage}`);
  rest.shift();
  const model = rest.shift();
  if (model !== "net") throw new UsageError(`unknown device model '${model ?? ""}'; only 'net' is supported`);
  const options: Record<string, string> = {};
  for (const word of rest) {
    if (word === "heuristics") throw new UsageError("quorum device heuristics are not supported by floatip");
    const eq = word.indexOf("=");
    if (eq <= 0) throw new UsageError(`'${word}' is not an option=value; ${usage}`);
    options[word.slice(0, eq)] = word.slice(eq + 1);
  }
  for (const key of Object.keys(options)) {
    if (!["host", "algorithm", "port"].includes(key))
      throw new UsageError(`unknown model net option '${key}'; supported: host, algorithm, port`);
  }
  const host = options["host"];
  if (!host) throw new UsageError(`host= is required; ${usage}`);
  const algorithm = options["algorithm"] ?? "ffsplit";
  if (algorithm !== "ffsplit")
    throw new UsageError(`algorithm '${algorithm}' is not supported; floatip's witness implements ffsplit`);
  const port = options["port"] === undefined ? 5403 : Number(options["port"]);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`port=${options["port"]} is not a port number`);
  return { model: "net", host, algorithm, port };
}

export function registerQuorumCommands(program: Command, endpointOf: EndpointOf): void {
  const print = (cmd: Command, value: unknown, text: () => string): void => {
    process.stdout.write(`${json(cmd) ? JSON.stringify(value, null, 2) : text()}\n`);
  };
  const quorum = program
    .command("quorum")
    .description("quorum options, wait_for_all and the witness (pcs quorum)");

  quorum
    .command("status")
    .description("votes, flags and membership as corosync-quorumtool shows them")
    .action(async (_o: unknown, cmd: Command) => {
      const s = await callApi<QuorumStatusAnswer>(endpointOf(cmd), "GET", "/v1/quorum/status");
      print(cmd, s, () => formatQuorumStatus(s));
    });

  quorum
    .command("config", { isDefault: true })
    .description("show the quorum options and device")
    .action(async (_o: unknown, cmd: Command) => {
      const c = await callApi<QuorumConfigAnswer>(endpointOf(cmd), "GET", "/v1/quorum/config");
      print(cmd, c, () => formatQuorumConfig(c));
    });

  quorum
    .command("update")
    .description("change quorum options: update wait_for_all=0|1 [two_node=0|1]")
    .argument("<options...>")
    .action(async (words: string[], _o: unknown, cmd: Command) => {
      const answer = await callApi<{ epoch: number }>(
        endpointOf(cmd),
        "POST",
        "/v1/quorum/update",
        parseQuorumOptions(words),
      );
      if (json(cmd)) process.stdout.write(`${JSON.stringify(answer)}\n`);
    });

  quorum
    .command("unblock")
    .description("cancel waiting for all nodes (wait_for_all) on this running node")
    .option("--force", "do not ask for confirmation")
    .action(async (opts: { force?: boolean }, cmd: Command) => {
      if (opts.force !== true) {
        const { createInterface } = await import("node:readline/promises");
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question(
          "WARNING: If nodes are not started but can still run resources, a split brain may follow. " +
            "Are you sure you want to continue? [y/N] ",
        );
        rl.close();
        if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError("cancelled; nothing changed");
      }
      await callApi(endpointOf(cmd), "POST", "/v1/quorum/unblock", {});
      process.stdout.write("Quorum unblocked\n");
    });

  const device = quorum.command("device").description("the witness (quorum device, model net)");
  device
    .command("add")
    .description(
      "add the witness: add model net host=HOST [algorithm=ffsplit] [port=5403] (after 'host auth HOST')",
    )
    .argument("<words...>")
    .action(async (words: string[], _o: unknown, cmd: Command) => {
      const answer = await callApi<{ epoch: number }>(
        endpointOf(cmd),
        "POST",
        "/v1/quorum/device/add",
        parseDeviceAdd(words),
        30_000,
      );
      if (json(cmd)) process.stdout.write(`${JSON.stringify(answer)}\n`);
    });
  device
    .command("remove")
    .description("remove the witness from the cluster")
    .action(async (_o: unknown, cmd: Command) => {
      const answer = await callApi<{ epoch: number; witnessAnswered: boolean }>(
        endpointOf(cmd),
        "POST",
        "/v1/quorum/device/remove",
        {},
        30_000,
      );
      if (!answer.witnessAnswered)
        process.stderr.write(
          "Warning: the witness did not answer; it still lists this cluster until removed there\n",
        );
      if (json(cmd)) process.stdout.write(`${JSON.stringify(answer)}\n`);
    });
  device
    .command("status")
    .description("the witness connection and vote as this node sees it")
    .option("--full", "more detail")
    .action(async (opts: { full?: boolean }, cmd: Command) => {
      const s = await callApi<{ quorum: QuorumStatusAnswer["quorum"] | null }>(
        endpointOf(cmd),
        "GET",
        "/v1/quorum/device/status",
      );
      if (!s.quorum?.device) {
        throw new UsageError("cluster services are not running on this node; start them to see the witness");
      }
      const d = s.quorum.device;
      print(cmd, s, () => formatDeviceStatus(d, opts.full === true));
    });
}

/** `floatip witness` (the daemon on the third host) and `floatip qdevice status net` (there). */
export function registerWitnessCommands(program: Command, endpointOf: EndpointOf): void {
  program
    .command("witness")
    .description("run the witness (third vote, like corosync-qnetd) on a host outside the cluster")
    .option(
      "--state-dir <dir>",
      "state directory (env FLOATIP_STATE_DIR)",
      process.env["FLOATIP_STATE_DIR"] ?? "/var/lib/floatip",
    )
    .option("--address <addr>", "UDP address for votes", "0.0.0.0")
    .option("--port <port>", "UDP port for votes", "5403")
    .option(
      "--admin-port <port>",
      "admin API TCP port (host auth, enrolment)",
      process.env["FLOATIP_ADMIN_PORT"] ?? "2224",
    )
    .option(
      "--admin-address <addr>",
      "admin API listen address",
      process.env["FLOATIP_ADMIN_ADDRESS"] ?? "0.0.0.0",
    )
    .action(async (opts: Record<string, string>, cmd: Command) => {
      const port = Number(opts["port"]);
      const adminPort = Number(opts["adminPort"]);
      for (const [name, value] of [
        ["--port", port],
        ["--admin-port", adminPort],
      ] as const) {
        if (!Number.isInteger(value) || value < 0 || value > 65535)
          throw new UsageError(`${name} must be a port number`);
      }
      const { runWitness } = await import("./witness-command.ts");
      await runWitness({
        stateDir: String(opts["stateDir"]),
        socketPath: (endpointOf(cmd) as { socketPath: string }).socketPath,
        address: String(opts["address"]),
        port,
        adminHost: String(opts["adminAddress"]),
        adminPort,
      });
    });

  program
    .command("qdevice")
    .description("on the witness host: qdevice status net [--full] [CLUSTER]")
    .command("status")
    .argument("[model]", "net")
    .argument("[cluster]")
    .option("--full", "more detail")
    .action(
      async (
        model: string | undefined,
        cluster: string | undefined,
        opts: { full?: boolean },
        cmd: Command,
      ) => {
        if (model !== undefined && model !== "net")
          throw new UsageError(`unknown device model '${model}'; only 'net'`);
        const s = await callApi<WitnessStatus>(endpointOf(cmd), "GET", "/v1/witness/status");
        const clusters = s.clusters.filter((c) => cluster === undefined || c.cluster === cluster);
        if (cluster !== undefined && clusters.length === 0)
          throw new UsageError(`cluster '${cluster}' is not enrolled here`);
        if (json(cmd)) {
          process.stdout.write(`${JSON.stringify({ ...s, clusters }, null, 2)}\n`);
          return;
        }
        const lines = [
          `QNetd address:                  ${s.address}:${s.port}`,
          `Connected clusters:             ${clusters.length}`,
        ];
        for (const c of clusters) {
          lines.push(`Cluster "${c.cluster}":`, "    Algorithm:          Fifty-Fifty split (ffsplit)");
          lines.push(
            `    Vote holder:        ${c.holder ? c.holder.join(", ") : c.restartHold ? "none (restart hold)" : "none"}`,
          );
          for (const n of c.nodes) {
            lines.push(`    Node ID ${n.id} (${n.name}):`);
            lines.push(`        Client address:         ${n.address ?? "-"}`);
            lines.push(`        Membership node list:   ${n.view ? n.view.join(", ") : "-"}`);
            lines.push(
              `        Vote:                   ${n.view && c.holder && c.holder.join() === n.view.join() ? "ACK (ACK)" : "NACK (NACK)"}`,
            );
            if (opts.full)
              lines.push(
                `        Last report:            ${n.lastReportAgoMs === null ? "never" : `${n.lastReportAgoMs} ms ago`}`,
              );
          }
          if (opts.full)
            lines.push(
              `    Answers:            ${Object.entries(c.answered)
                .map(([k, v]) => `${k}=${v}`)
                .join(" ")}`,
            );
        }
        if (opts.full)
          lines.push(
            `Rejected packets:               ${
              Object.entries(s.rejected)
                .filter(([, v]) => v > 0)
                .map(([k, v]) => `${k}=${v}`)
                .join(" ") || "none"
            }`,
          );
        process.stdout.write(`${lines.join("\n")}\n`);
      },
    );
}
