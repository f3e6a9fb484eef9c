import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { floatipMain } from "../tools/testbed/repo-paths.ts";

function floatip(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [floatipMain, "--socket", "/nonexistent/floatip.sock", ...args],
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function assertOneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0);
  const first = r.stderr.split("\n")[0] ?? "";
  assert.match(first, /^Error: /);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
}

void test("an unknown command gives one error line with a hint and exit code 1", async () => {
  const r = await floatip(["frobnicate"]);
  assertOneLineError(r, /unknown command 'frobnicate'[\s\S]*floatip --help/);
});

void test("a stopped daemon gives FLOATIP_E_DAEMON_DOWN and says how to start it", async () => {
  const r = await floatip(["status"]);
  assertOneLineError(r, /FLOATIP_E_DAEMON_DOWN: .*floatip daemon/);
});

void test("bad resource parameters are rejected before reaching the daemon", async () => {
  assertOneLineError(
    await floatip(["resource", "create", "V", "ocf:heartbeat:IPaddr2", "ip=10.0.0.5", "op", "frob"]),
    /'op' must be followed by one of monitor/,
  );
  assertOneLineError(
    await floatip(["resource", "create", "V", "ocf:heartbeat:IPaddr2", "garbage"]),
    /'garbage' is not of the form name=value/,
  );
  assertOneLineError(
    await floatip(["resource", "create", "V", "ocf:heartbeat:IPaddr2", "op", "monitor", "interval=soon"]),
    /interval=soon is not a duration/,
  );
});

void test("cluster setup without nodes says what it needs", async () => {
  assertOneLineError(await floatip(["cluster", "setup", "--name", "c"]), /at least one node is required/);
  assertOneLineError(
    await floatip(["cluster", "setup", "c", "n1", "addr=1.2.3.4", "addr=5.6.7.8"]),
    /more than one addr/,
  );
});

void test("help lists the pcs-style commands", async () => {
  const r = await floatip(["--help"]);
  assert.equal(r.code, 0);
  for (const word of ["cluster", "resource", "status", "daemon"]) assert.match(r.stdout, new RegExp(word));
});
