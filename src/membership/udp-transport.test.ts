import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { createHook } from "node:async_hooks";
import dns from "node:dns";
import { once } from "node:events";
import { systemClock } from "../clock/system-clock.ts";
import { Membership, type MembershipView } from "./membership.ts";
import { MembershipError } from "./errors.ts";
import { UdpTransport } from "./udp-transport.ts";

const key = Buffer.alloc(32, 0x33);

async function nextView(membership: Membership, match: (view: MembershipView) => boolean, timeoutMs: number) {
  const signal = AbortSignal.timeout(timeoutMs);
  for (;;) {
    const [view] = (await once(membership, "view", { signal })) as [MembershipView];
    if (match(view)) return view;
  }
}

void test("two members on 127.0.0.1 with different ports exchange heartbeats over real UDP and see a loss", async (t) => {
  const a = await UdpTransport.bind({ address: "127.0.0.1", port: 0 });
  t.after(() => a.close());
  const b = await UdpTransport.bind({ address: "127.0.0.1", port: 0 });
  t.after(() => b.close());
  const peers = [
    { id: 1, name: "a", addrs: ["127.0.0.1"], port: a.port },
    { id: 2, name: "b", addrs: ["127.0.0.1"], port: b.port },
  ];
  const common = {
    peers,
    key,
    clusterName: "loop",
    tokenMs: 400,
    heartbeatIntervalMs: 50,
    clock: systemClock,
  };
  const memberA = new Membership({ ...common, self: { id: 1, name: "a" }, transport: a });
  t.after(() => memberA.stop());
  const memberB = new Membership({ ...common, self: { id: 2, name: "b" }, transport: b });
  t.after(() => memberB.stop());
  memberB.setPayload(new TextEncoder().encode("hello from b"));

  const payload = once(memberA, "payload", { signal: AbortSignal.timeout(3000) });
  const joinedA = nextView(memberA, (v) => v.joined.includes(2), 3000);
  const joinedB = nextView(memberB, (v) => v.joined.includes(1), 3000);
  assert.deepEqual((await joinedA).alive, [1, 2]);
  assert.deepEqual((await joinedB).alive, [1, 2]);
  const [event] = (await payload) as [{ nodeId: number; payload: Uint8Array }];
  assert.equal(event.nodeId, 2);
  assert.equal(new TextDecoder().decode(event.payload), "hello from b");

  const lostAt = nextView(memberA, (v) => v.lost.includes(2), 3000);
  const stoppedAt = Date.now();
  memberB.stop();
  const view = await lostAt;
  assert.deepEqual(view.alive, [1]);
  assert.ok(Date.now() - stoppedAt >= 300, "not lost before the token ran out");
  const stats = memberA.stats();
  assert.ok(stats.accepted > 0);
  assert.equal(stats.rejected.badMac + stats.rejected.replay + stats.rejected.badSource, 0);
});

void test("binding an address this host does not have fails with FLOATIP_E_HEARTBEAT_BIND", async () => {
  // 192.0.2.0/24 is TEST-NET-1: never configured, and binding sends nothing.
  await assert.rejects(
    UdpTransport.bind({ address: "192.0.2.1", port: 0 }),
    (err: unknown) =>
      err instanceof MembershipError &&
      err.code === "FLOATIP_E_HEARTBEAT_BIND" &&
      /EADDRNOTAVAIL/.test(err.message),
  );
});

void test("binding a port another daemon holds on the same address fails with FLOATIP_E_HEARTBEAT_BIND", async (t) => {
  const first = await UdpTransport.bind({ address: "127.0.0.1", port: 0 });
  t.after(() => first.close());
  await assert.rejects(
    UdpTransport.bind({ address: "127.0.0.1", port: first.port }),
    (err: unknown) => err instanceof MembershipError && /EADDRINUSE/.test(err.message),
  );
});

void test("a bind cancelled by its signal fails with FLOATIP_E_HEARTBEAT_BIND and leaves nothing open", async () => {
  await assert.rejects(
    UdpTransport.bind({ address: "127.0.0.1", port: 0, signal: AbortSignal.abort() }),
    (err: unknown) => err instanceof MembershipError && /cancelled/.test(err.message),
  );
});

void test("sending to a host name is refused without a DNS lookup and counted", async (t) => {
  const transport = await UdpTransport.bind({ address: "127.0.0.1", port: 0 });
  t.after(() => transport.close());
  transport.send("node2.example.com", Uint8Array.of(1));
  assert.equal(transport.stats().badDestinations, 1);
});

void test("a heartbeat send does no DNS lookup and queues no tick: it is handed to the kernel at once", async (t) => {
  const a = await UdpTransport.bind({ address: "127.0.0.1", port: 0 });
  t.after(() => a.close());
  const b = await UdpTransport.bind({ address: "127.0.0.1", port: 0 });
  t.after(() => b.close());
  const received: number[] = [];
  b.onMessage((bytes) => received.push(bytes[0] ?? -1));
  const lookups = mock.method(dns, "lookup");
  t.after(() => lookups.mock.restore());
  let ticks = 0;
  const hook = createHook({
    init: (_id, type) => {
      if (type === "TickObject") ticks++;
    },
  }).enable();
  for (let i = 0; i < 10; i++) a.send("127.0.0.1", Uint8Array.of(i), b.port);
  hook.disable();
  assert.equal(ticks, 0, "ticks queued by 10 sends");
  assert.equal(lookups.mock.callCount(), 0);
  const deadline = Date.now() + 2000;
  while (received.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(received, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});
