import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import type { AgentContext } from "./agent.ts";
import { ExecCheckAgent, runProcessGroup, validateExecCheckParams } from "./exec-check.ts";

function ctx(params: Record<string, string>, signal = AbortSignal.timeout(10_000)): AgentContext {
  return { resourceId: "app-check", params, signal };
}

/** Writes an executable shell script into a temporary directory removed after the test. */
function script(t: { after: (fn: () => void) => void }, body: string): string {
  const dir = mkdtempSync(join(tmpdir(), "floatip-exec-check-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "check.sh");
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** True while `pid` runs; a zombie (killed, not yet reaped by init) counts as gone. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

void test("/bin/true starts and monitors as running", async () => {
  const agent = new ExecCheckAgent();
  assert.equal((await agent.start(ctx({ command: "/bin/true" }))).state, "running");
  assert.equal((await agent.monitor(ctx({ command: "/bin/true" }))).state, "running");
});

void test("/bin/false is refused at start with the exit status in the message", async () => {
  const result = await new ExecCheckAgent().start(ctx({ command: "/bin/false" }));
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /^FLOATIP_E_CHECK_EXIT: \/bin\/false exited 1, expected 0/);
});

void test("expect_exit turns a non-zero status into health", async () => {
  const result = await new ExecCheckAgent().monitor(ctx({ command: "/bin/false", expect_exit: "1" }));
  assert.equal(result.state, "running");
});

void test("args are passed as separate words without a shell", async (t) => {
  const path = script(t, '[ "$1" = "a;b" ] && [ "$2" = "*" ] && [ $# -eq 2 ]');
  assert.equal((await new ExecCheckAgent().monitor(ctx({ command: path, args: "a;b  *" }))).state, "running");
});

void test("monitor follows a service that dies and comes back, and quotes its stderr", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "floatip-exec-state-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const flag = join(dir, "healthy");
  const path = script(t, `[ -e ${flag} ] || { echo "service is down" >&2; exit 3; }`);
  const agent = new ExecCheckAgent();
  writeFileSync(flag, "");
  assert.equal((await agent.monitor(ctx({ command: path }))).state, "running");
  rmSync(flag);
  const down = await agent.monitor(ctx({ command: path }));
  assert.equal(down.state, "failed");
  assert.match(down.message ?? "", /exited 3, expected 0: service is down/);
  writeFileSync(flag, "");
  assert.equal((await agent.monitor(ctx({ command: path }))).state, "running");
});

void test("a script that sleeps past the timeout is killed with its children when the timeout ends", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "floatip-exec-pid-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, "sleep.pid");
  const path = script(t, `sleep 30 & echo $! > ${pidFile}; wait`);
  const began = Date.now();
  const result = await new ExecCheckAgent().monitor(ctx({ command: path, timeout: "400ms" }));
  const took = Date.now() - began;
  assert.equal(result.state, "failed");
  assert.match(result.message ?? "", /^FLOATIP_E_CHECK_TIMEOUT: .* within 400 ms/);
  assert.ok(took >= 380 && took < 2000, `took ${took} ms`);
  const sleepPid = Number(readFileSync(pidFile, "utf8").trim());
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(alive(sleepPid), false, "the script's child outlived the timeout");
});

void test("a check cancelled by the caller reports unknown and kills the command", async (t) => {
  const path = script(t, "sleep 30");
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const began = Date.now();
  const result = await new ExecCheckAgent().monitor(
    ctx({ command: path, timeout: "10s" }, controller.signal),
  );
  assert.equal(result.state, "unknown");
  assert.ok(Date.now() - began < 2000);
});

void test("a missing command fails with a message saying to install it", async () => {
  const result = await new ExecCheckAgent().start(ctx({ command: "/nonexistent/floatip-check" }));
  assert.equal(result.state, "failed");
  assert.match(
    result.message ?? "",
    /^FLOATIP_E_CHECK_COMMAND: cannot run \/nonexistent\/floatip-check \(ENOENT\)/,
  );
});

void test("runProcessGroup returns output written just before exit", async () => {
  const outcome = await runProcessGroup("/bin/sh", ["-c", "echo out; echo err >&2; exit 4"], {
    timeoutMs: 5000,
  });
  assert.deepEqual(outcome, { kind: "exited", code: 4, stdout: "out\n", stderr: "err\n" });
});

void test("stop and probe report stopped", async () => {
  const agent = new ExecCheckAgent();
  assert.equal((await agent.stop(ctx({ command: "/bin/false" }))).state, "stopped");
  assert.equal((await agent.probe(ctx({ command: "/bin/true" }))).state, "stopped");
});

void test("bad parameters give one message each, naming the parameter", () => {
  assert.deepEqual(validateExecCheckParams({ command: "/bin/true", args: "-x y", expect_exit: "3" }), []);
  const problems = validateExecCheckParams({ command: "true", expect_exit: "256", timeout: "1 fortnight" });
  assert.equal(problems.length, 3);
  assert.match(problems[0] ?? "", /^command=true is not an absolute path/);
  assert.match(problems[1] ?? "", /^expect_exit=256 /);
  assert.match(problems[2] ?? "", /^timeout=1 fortnight /);
  assert.match(validateExecCheckParams({})[0] ?? "", /^command is required/);
});

void test("the validator never throws and always returns strings, whatever the params", () => {
  const key = fc.constantFrom("command", "args", "expect_exit", "timeout", "other");
  fc.assert(
    fc.property(fc.dictionary(key, fc.oneof(fc.string(), fc.nat(300).map(String))), (params) => {
      const problems = validateExecCheckParams(params);
      return Array.isArray(problems) && problems.every((p) => typeof p === "string" && p.length > 0);
    }),
  );
});
