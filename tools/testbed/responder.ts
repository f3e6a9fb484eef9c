import { createSocket } from "node:dgram";
import { parseArgs } from "node:util";

/**
 * UDP responder for the test bed: answers every datagram `<seq>` with `<seq>:<name>`, so the probe can
 * tell which node served each request. Run in a node namespace:
 *   node --import tsx tools/testbed/responder.ts --name node1 --port 7000 [--bind 10.0.2.200]
 * Prints one JSON line {"listening": port} once bound. Bound to one address (a VIP, with
 * net.ipv4.ip_nonlocal_bind=1 while it is elsewhere), its replies leave from that address, as a service's
 * replies to a VIP do; bound to 0.0.0.0 the kernel picks the source by route.
 */

const { values } = parseArgs({
  options: {
    name: { type: "string" },
    port: { type: "string", default: "7000" },
    bind: { type: "string", default: "0.0.0.0" },
  },
});
const name = values.name;
const port = Number(values.port);
const bind = values.bind ?? "0.0.0.0";
if (
  !/^\d{1,3}(\.\d{1,3}){3}$/.test(bind) ||
  name === undefined ||
  !/^[A-Za-z0-9_.-]{1,64}$/.test(name) ||
  !Number.isInteger(port) ||
  port < 1 ||
  port > 65535
) {
  process.stderr.write(
    "FLOATIP_E_USAGE: responder needs --name <node name> --port <1-65535> [--bind <IPv4>]\n",
  );
  process.exit(2);
}

const socket = createSocket("udp4");
socket.on("message", (msg, rinfo) => {
  const seq = msg.toString("utf8").split(":", 1)[0]?.trim() ?? "";
  socket.send(`${seq}:${name}`, rinfo.port, rinfo.address);
});
socket.on("error", (error) => {
  process.stderr.write(`FLOATIP_E_RESPONDER: ${error.message}\n`);
  process.exit(1);
});
socket.bind(port, bind, () => process.stdout.write(`${JSON.stringify({ listening: port })}\n`));
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => socket.close(() => process.exit(0)));
