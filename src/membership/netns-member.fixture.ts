/**
 * A one-node heartbeat member for the network-namespace test: run inside a namespace with
 * `node --import tsx netns-member.fixture.ts '<json>'`; prints each view as one JSON line and exits on
 * SIGTERM or when stdin closes (so it never outlives the test that spawned it).
 */
import { systemClock } from "../clock/system-clock.ts";
import { Membership, type MembershipPeer } from "./membership.ts";
import { UdpTransport } from "./udp-transport.ts";

interface FixtureConfig {
  self: { id: number; name: string };
  address: string;
  port: number;
  peers: MembershipPeer[];
  keyHex: string;
  tokenMs: number;
  heartbeatIntervalMs: number;
  heartbeatCopies?: number;
}

const config = JSON.parse(process.argv[2] ?? "{}") as FixtureConfig;
const transport = await UdpTransport.bind({ address: config.address, port: config.port });
const membership = new Membership({
  self: config.self,
  peers: config.peers,
  key: Buffer.from(config.keyHex, "hex"),
  clusterName: "netns",
  tokenMs: config.tokenMs,
  heartbeatIntervalMs: config.heartbeatIntervalMs,
  ...(config.heartbeatCopies === undefined ? {} : { heartbeatCopies: config.heartbeatCopies }),
  transport,
  clock: systemClock,
});
membership.on("view", (view) => process.stdout.write(`${JSON.stringify(view)}\n`));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

const shutdown = (): void => {
  membership.stop();
  void transport.close().then(() => process.exit(0));
};
process.on("SIGTERM", shutdown);
process.stdin.on("close", shutdown);
process.stdin.resume();
