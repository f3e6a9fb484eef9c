import { createSocket } from "node:dgram";
import { parseArgs } from "node:util";
import type { ProbeEvent } from "./probe.ts";

/**
 * Runs in the client namespace: sends `<seq>` to VIP:port every interval from one unconnected socket (so a
 * reply from any source address counts) and prints one JSON line per request sent and per reply, for the
 * test process to read. On SIGTERM/SIGINT it stops sending, waits `--grace-ms` for late replies, prints
 * {"ev":"end"} and exits.
 *   node --import tsx tools/testbed/probe-cli.ts --vip 10.0.0.200 --port 7000 [--interval-ms 10]
 */

const { values } = parseArgs({
  options: {
    vip: { type: "string" },
    port: { type: "string", default: "7000" },
    "interval-ms": { type: "string", default: "10" },
    "grace-ms": { type: "string", default: "100" },
  },
});
const vip = values.vip ?? "";
const port = Number(values.port);
const intervalMs = Number(values["interval-ms"]);
const graceMs = Number(values["grace-ms"]);
if (
  !/^\d{1,3}(\.\d{1,3}){3}$/.test(vip) ||
  !(port >= 1 && port <= 65535) ||
  !(intervalMs >= 1) ||
  !(graceMs >= 0)
) {
  process.stderr.write("FLOATIP_E_USAGE: probe-cli needs --vip <IPv4> --port <1-65535> [--interval-ms N]\n");
  process.exit(2);
}

const started = performance.now();
const now = (): number => Math.round((performance.now() - started) * 100) / 100;
const emit = (event: ProbeEvent): boolean => process.stdout.write(`${JSON.stringify(event)}\n`);

const socket = createSocket("udp4");
socket.on("message", (msg, rinfo) => {
  const [seq, node] = msg.toString("utf8").split(":");
  if (seq === undefined || node === undefined || !/^\d+$/.test(seq)) return;
  emit({ ev: "reply", seq: Number(seq), node, from: rinfo.address, ms: now() });
});
// Sending to an unreachable VIP yields ICMP errors on some paths; they are outages, not crashes.
socket.on("error", () => undefined);

let seq = 0;
let timer: NodeJS.Timeout | undefined;
socket.bind(0, "0.0.0.0", () => {
  emit({ ev: "start", ms: now() });
  // Schedule against the start time so the cadence does not drift with event-loop delays.
  const tick = (): void => {
    seq += 1;
    const sentMs = now();
    socket.send(String(seq), port, vip, () => undefined);
    emit({ ev: "sent", seq, ms: sentMs });
    timer = setTimeout(tick, Math.max(0, started + (seq + 1) * intervalMs - performance.now()));
  };
  tick();
});

let ending = false;
const end = (): void => {
  if (ending) return;
  ending = true;
  clearTimeout(timer);
  setTimeout(() => {
    emit({ ev: "end", ms: now() });
    socket.close();
    process.stdout.end(() => process.exit(0));
  }, graceMs);
};
process.on("SIGTERM", end);
process.on("SIGINT", end);
