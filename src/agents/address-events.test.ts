import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { AddressEvents, parseMonitorLine, type AddressChange } from "./address-events.ts";
import { mustRun, NamespaceRegistry } from "../../tools/testbed/netns.ts";

const isRoot = process.getuid?.() === 0;

void test("parses added, deleted and peer lines of ip -o monitor address and ignores IPv6", () => {
  assert.deepEqual(
    parseMonitorLine("3: eth0    inet 10.0.0.100/24 scope global secondary eth0\\       valid_lft forever"),
    { kind: "added", change: { ip: "10.0.0.100", prefix: 24, nic: "eth0" } },
  );
  assert.deepEqual(
    parseMonitorLine("Deleted 3: eth0    inet 10.0.0.100/32 scope global eth0\\       valid_lft forever"),
    { kind: "deleted", change: { ip: "10.0.0.100", prefix: 32, nic: "eth0" } },
  );
  assert.deepEqual(parseMonitorLine("3: v1    inet 10.1.2.1 peer 10.1.2.2/32 scope global v1\\ x"), {
    kind: "added",
    change: { ip: "10.1.2.1", prefix: 32, nic: "v1" },
  });
  assert.equal(parseMonitorLine("3: eth0    inet6 fe80::1/64 scope link \\ valid_lft forever"), null);
  assert.equal(parseMonitorLine("garbage"), null);
});

void test(
  "reports a deleted address within 100 ms and an added one, inside a namespace",
  { skip: !isRoot && "needs root" },
  async (t) => {
    const registry = new NamespaceRegistry();
    registry.registerExitCleanup();
    const events = new AddressEvents({ netns: `${registry.prefix}-n1` });
    t.after(async () => {
      await events.stop();
      await registry.teardown();
    });
    const ns = await registry.createNamespace("n1");
    await registry.addVeth({ ns, name: "eth0" }, { ns, name: "peer0" });
    await events.start(AbortSignal.timeout(5000));

    const added = once(events, "added", { signal: AbortSignal.timeout(2000) });
    await mustRun("ip", ["-n", ns, "addr", "add", "10.0.0.100/24", "dev", "eth0"]);
    assert.deepEqual((await added)[0] as AddressChange, { ip: "10.0.0.100", prefix: 24, nic: "eth0" });

    const deleted = once(events, "deleted", { signal: AbortSignal.timeout(2000) });
    const removedAt = performance.now();
    await mustRun("ip", ["-n", ns, "addr", "del", "10.0.0.100/24", "dev", "eth0"]);
    assert.deepEqual((await deleted)[0] as AddressChange, { ip: "10.0.0.100", prefix: 24, nic: "eth0" });
    const latency = performance.now() - removedAt;
    assert.ok(latency < 100, `deletion seen after ${latency.toFixed(1)} ms`);
  },
);

void test("stop ends the monitor process and emits no error", { skip: !isRoot && "needs root" }, async () => {
  const events = new AddressEvents();
  const errors: Error[] = [];
  events.on("error", (error) => errors.push(error));
  await events.start(AbortSignal.timeout(5000));
  await events.stop();
  await events.stop();
  assert.deepEqual(errors, []);
});

void test("start rejects with FLOATIP_E_ADDRESS_EVENTS for a namespace that does not exist", async () => {
  const events = new AddressEvents({ netns: "fi0000-does-not-exist" });
  await assert.rejects(events.start(AbortSignal.timeout(5000)), /FLOATIP_E_ADDRESS_EVENTS/);
});
