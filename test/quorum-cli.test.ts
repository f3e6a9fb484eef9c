import assert from "node:assert/strict";
import { after, test } from "node:test";
import { LoopbackDaemon } from "../tools/testbed/loopback-daemon.ts";

const daemons: LoopbackDaemon[] = [];
after(() => {
  for (const d of daemons) d.stop();
});

void test("setup ... quorum wait_for_all=0, quorum update and config, and clear errors without a device", async () => {
  const d = await LoopbackDaemon.start({ configured: false });
  daemons.push(d);
  const setup = await d.cli([
    "cluster",
    "setup",
    "--name",
    "q",
    "node1",
    "addr=127.0.0.1",
    "quorum",
    "wait_for_all=0",
  ]);
  assert.equal(setup.code, 0, setup.stderr);
  const config = JSON.parse((await d.cli(["--json", "quorum", "config"])).stdout) as {
    options: { waitForAll?: boolean };
  };
  assert.equal(config.options.waitForAll, false);
  assert.equal((await d.cli(["quorum", "update", "wait_for_all=1"])).code, 0);
  assert.match((await d.cli(["quorum", "config"])).stdout, /^ {2}wait_for_all: 1$/m);
  const bad = await d.cli(["cluster", "setup", "--force", "--name", "q", "node1", "quorum", "bogus=1"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Error: FLOATIP_E_USAGE: unknown quorum option 'bogus'/);
  const notRunning = await d.cli(["quorum", "status"]);
  assert.match(notRunning.stderr, /^Error: FLOATIP_E_NOT_RUNNING: /);
  const none = await d.cli(["quorum", "device", "remove"]);
  assert.match(none.stderr, /^Error: FLOATIP_E_QDEVICE_NONE: /);
  const noAuth = await d.cli(["quorum", "device", "add", "model", "net", "host=witness"]);
  assert.match(noAuth.stderr, /^Error: FLOATIP_E_NOT_AUTHORIZED: witness: not authorized/);
  const unblock = await d.cli(["quorum", "unblock", "--force"]);
  assert.match(unblock.stderr, /^Error: FLOATIP_E_NOT_RUNNING: /);
});
