import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { parseArgs } from "node:util";

/**
 * "The seed recipe replayed": a stand-in for one node of the seed's corosync + Pacemaker + hacked IPaddr2
 * stack, run inside a node namespace of the test bed by bench/failover.ts. It keeps the parts of that
 * stack that decide the failover time and nothing else.
 *
 * Assumptions (what the stand-in models, and how):
 * - Failure detection is corosync 3 with its defaults for two nodes (ha-peers.md section 1): the nodes
 *   exchange UDP heartbeats every `--heartbeat-ms` (250 ms, about corosync's token_retransmit of 238 ms
 *   for 2 nodes); when nothing has come from the peer for `--token-ms` (3000) the token is lost, and
 *   the new membership is formed `--consensus-ms` (3600 = 1.2 * token) later, so the peer is declared
 *   lost about token + consensus = 6.6 s after its last packet. The ~50 ms ring reform is ignored.
 *   (Cross-check: real Pacemaker 2.1.5 + corosync 3.1.7 on such a bed, ha-peers.md section 9, showed a
 *   6.2 s median client outage with a purely local IPaddr2, so this detection is not optimistic by
 *   more than a few hundred ms; if anything it is ~0.4 s pessimistic.)
 * - Pacemaker's recovery: with stonith-enabled=false (the seed sets no fencing) the surviving node starts
 *   the resource as soon as the membership changes; the scheduler/transition time is modelled as
 *   `--recovery-ms` (default 0: no extra cost is charged to Pacemaker).
 * - The resource start is the seed's hacked IPaddr2: a one-shot cloud CLI process per call, as oci-cli
 *   is (`oci network vnic assign-private-ip --unassign-if-already-assigned`). Here the CLI is floatip's
 *   own `floatip oci move <vip>` (node, not Python: oci-cli's start-up of one to several seconds is
 *   NOT reproduced, which favours the seed); its process start-up, instance-principal authentication
 *   and API calls are all part of the measured time. Then `ip addr add <vip>/24 dev eth0`, as IPaddr2
 *   does. The CLI's exit code is ignored and nothing is verified, as in the recipe.
 * - Service failure (`--service-url`): the recipe monitors its resource every 10 s (`--monitor-ms`); the
 *   stand-in checks the service behind the VIP at that interval on the holder and, at the first failed
 *   check, removes the address and tells the peer in its heartbeats, which then starts the resource. That
 *   is kinder than Pacemaker, whose default (migration-threshold INFINITY) restarts in place first.
 * - Quorum: two_node (each side keeps quorum alone). The node that held the resource keeps it when it
 *   loses its peer; there is no failback in a run (the bench ends each run after the failover).
 *
 * Prints one JSON line per event on stdout: {"ev": ..., "at": Date.now()} (wall clock, shared with the
 * bench on the same host).
 */

const { values } = parseArgs({
  options: {
    name: { type: "string" },
    self: { type: "string" },
    peer: { type: "string" },
    vip: { type: "string" },
    port: { type: "string", default: "5405" },
    "heartbeat-ms": { type: "string", default: "250" },
    "token-ms": { type: "string", default: "3000" },
    "consensus-ms": { type: "string", default: "3600" },
    "recovery-ms": { type: "string", default: "0" },
    holder: { type: "boolean", default: false },
    cli: { type: "string" },
    dev: { type: "string", default: "eth0" },
    "service-url": { type: "string" },
    "monitor-ms": { type: "string", default: "10000" },
  },
});

const num = (key: keyof typeof values): number => Number(values[key]);
const name = values.name ?? "";
const self = values.self ?? "";
const peer = values.peer ?? "";
const vip = values.vip ?? "";
const cli = values.cli ?? "";
if (!name || !self || !peer || !vip || !cli) {
  process.stderr.write(
    "usage: seed-replay-node --name N --self IP --peer IP --vip IP --cli /path/main.js [--holder]\n",
  );
  process.exit(2);
}
const port = num("port");
const heartbeatMs = num("heartbeat-ms");
const tokenMs = num("token-ms");
const consensusMs = num("consensus-ms");
const recoveryMs = num("recovery-ms");

function emit(ev: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ev, node: name, at: Date.now(), ...extra })}\n`);
}

function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", (error) => resolve({ code: 127, output: error.message }));
    child.on("close", (code) => resolve({ code: code ?? 1, output: output.trim() }));
  });
}

let holding = false;
let starting = false;

/** The hacked IPaddr2 start: cloud CLI (one process), then the local address; no verification. */
async function startResource(reason: string): Promise<void> {
  if (holding || starting) return;
  starting = true;
  emit("start", { reason });
  const move = await run(process.execPath, [cli, "oci", "move", vip]);
  emit("cli-done", { code: move.code, output: move.output.slice(0, 300) });
  const add = await run("ip", ["addr", "add", `${vip}/24`, "dev", values.dev ?? "eth0"]);
  emit("addr-added", { code: add.code });
  holding = true;
  starting = false;
}

/** Set once the holder's service check failed: heartbeats say so, and the peer takes over. */
let failed = false;

async function monitorService(url: string): Promise<void> {
  if (!holding || failed) return;
  const ok = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(
    (res) => res.ok,
    () => false,
  );
  if (ok) return;
  failed = true;
  emit("monitor-failed", { url });
  const del = await run("ip", ["addr", "del", `${vip}/24`, "dev", values.dev ?? "eth0"]);
  holding = false;
  emit("addr-removed", { code: del.code });
}

let lastHeard = 0;
let peerMember = false;
let tokenLostAt: number | undefined;

const socket = createSocket("udp4");
socket.on("message", (msg) => {
  if (!msg.toString().startsWith("hb:")) return;
  lastHeard = Date.now();
  tokenLostAt = undefined;
  if (msg.toString().endsWith(":failed") && !holding && !failed) void startResource("peer's resource failed");
  if (!peerMember) {
    peerMember = true;
    emit("membership", {
      online: [
        name,
        msg
          .toString()
          .slice(3)
          .replace(/:failed$/, ""),
      ],
    });
  }
});
socket.on("error", (error) => {
  process.stderr.write(`seed-replay-node: ${error.message}\n`);
  process.exit(1);
});

socket.bind(port, self, () => {
  emit("ready");
  setInterval(
    () => socket.send(`hb:${name}${failed ? ":failed" : ""}`, port, peer, () => undefined),
    heartbeatMs,
  );
  const serviceUrl = values["service-url"];
  if (serviceUrl) setInterval(() => void monitorService(serviceUrl), num("monitor-ms"));
  setInterval(() => {
    if (!peerMember) return;
    const now = Date.now();
    if (tokenLostAt === undefined && now - lastHeard > tokenMs) {
      tokenLostAt = now;
      emit("token-lost");
    }
    if (tokenLostAt !== undefined && now - tokenLostAt >= consensusMs) {
      peerMember = false;
      tokenLostAt = undefined;
      emit("membership", { online: [name], lost: peer });
      setTimeout(() => void startResource("peer lost"), recoveryMs);
    }
  }, 20);
  if (values.holder) void startResource("initial placement");
});

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
