import { test } from "node:test";
import assert from "node:assert/strict";
import { CommandError, runCommand } from "./command-runner.ts";

void test("returns stdout and a zero code for a successful command", async () => {
  const out = await runCommand("sh", ["-c", "printf hello"], { timeoutMs: 5000 });
  assert.deepEqual(out, { code: 0, stdout: "hello", stderr: "" });
});

void test("returns a non-zero exit code and stderr instead of rejecting", async () => {
  const out = await runCommand("sh", ["-c", "echo bad >&2; exit 3"], { timeoutMs: 5000 });
  assert.equal(out.code, 3);
  assert.equal(out.stderr, "bad\n");
});

void test("passes arguments without a shell, so metacharacters stay literal", async () => {
  const out = await runCommand("printf", ["%s", "$(echo no); rm -rf /nothing"], { timeoutMs: 5000 });
  assert.equal(out.stdout, "$(echo no); rm -rf /nothing");
});

void test("rejects with FLOATIP_E_COMMAND_SPAWN when the program does not exist", async () => {
  await assert.rejects(
    runCommand("floatip-no-such-program", [], { timeoutMs: 5000 }),
    (error: unknown) => error instanceof CommandError && error.code === "FLOATIP_E_COMMAND_SPAWN",
  );
});

void test("kills the child and rejects with FLOATIP_E_COMMAND_TIMEOUT after timeoutMs", async () => {
  const started = Date.now();
  await assert.rejects(
    runCommand("sleep", ["10"], { timeoutMs: 100 }),
    (error: unknown) => error instanceof CommandError && error.code === "FLOATIP_E_COMMAND_TIMEOUT",
  );
  assert.ok(Date.now() - started < 2000, "returned long after the timeout");
});

void test("kills the child and rejects with FLOATIP_E_COMMAND_ABORTED when the signal aborts", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const started = Date.now();
  await assert.rejects(
    runCommand("sleep", ["10"], { timeoutMs: 5000, signal: controller.signal }),
    (error: unknown) => error instanceof CommandError && error.code === "FLOATIP_E_COMMAND_ABORTED",
  );
  assert.ok(Date.now() - started < 2000);
});

void test("does not start the command when the signal is already aborted", async () => {
  await assert.rejects(
    runCommand("sh", ["-c", "exit 0"], { timeoutMs: 5000, signal: AbortSignal.abort() }),
    (error: unknown) => error instanceof CommandError && error.code === "FLOATIP_E_COMMAND_ABORTED",
  );
});
