import { spawn } from "node:child_process";
import type { AgentResult } from "./agent.ts";
import { HealthCheckAgent } from "./health-check-agent.ts";
import { parseCheckTimeout } from "./http-check.ts";

/**
 * Health check by command: "running" between start and stop as long as `command args` exits with
 * expect_exit within the timeout. The command runs without a shell, in its own process group, and the
 * whole group is killed on timeout: a script's children (a `sleep`, a `curl`) die with it.
 */

export const EXEC_CHECK_TYPE = "floatip:check:exec";

const DEFAULT_TIMEOUT_MS = 5000;
/** Output kept per stream; a check's verdict is its exit code, the output only explains it. */
const OUTPUT_LIMIT_BYTES = 64 * 1024;
/** After the command exits, how long to wait for output still in the pipes before giving up on it. */
const DRAIN_GRACE_MS = 100;

export type GroupRunOutcome =
  | { kind: "exited"; code: number; stdout: string; stderr: string }
  | { kind: "timeout"; stdout: string; stderr: string }
  | { kind: "aborted" }
  | { kind: "spawn-error"; errno: string; detail: string };

export interface GroupRunOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

const signalNumbers: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * Runs `cmd args` without a shell as the leader of a new process group. On timeout or abort the whole
 * group gets SIGKILL, and the call settles when the leader is gone, not when every descendant has closed
 * its copy of stdout (runCommand waits for that, so a script's `sleep 60` outlives its timeout there).
 */
export function runProcessGroup(
  cmd: string,
  args: string[],
  opts: GroupRunOptions,
): Promise<GroupRunOutcome> {
  return new Promise((resolve) => {
    if (opts.signal?.aborted) {
      resolve({ kind: "aborted" });
      return;
    }
    const child = spawn(cmd, args, {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: opts.env ?? process.env,
      windowsHide: true,
    });
    const out = { stdout: "", stderr: "" };
    const collect = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      // Keep the tail: the last lines say why a command failed.
      out[stream] = (out[stream] + chunk.toString("utf8")).slice(-OUTPUT_LIMIT_BYTES);
    };
    child.stdout.on("data", collect("stdout"));
    child.stderr.on("data", collect("stderr"));
    let stoppedBy: "timeout" | "abort" | undefined;
    let settled = false;
    const killGroup = (why: "timeout" | "abort"): void => {
      stoppedBy ??= why;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // the group is already gone
      }
    };
    const timer = setTimeout(() => killGroup("timeout"), opts.timeoutMs);
    const onAbort = (): void => killGroup("abort");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const settle = (outcome: GroupRunOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve(outcome);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      settle({ kind: "spawn-error", errno: error.code ?? "EUNKNOWN", detail: error.message });
    });
    child.once("exit", (code, signal) => {
      const finish = (): void => {
        if (stoppedBy === "abort") settle({ kind: "aborted" });
        else if (stoppedBy === "timeout") settle({ kind: "timeout", ...out });
        else settle({ kind: "exited", code: code ?? 128 + (signalNumbers[signal ?? ""] ?? 0), ...out });
      };
      // Output written just before exit may still sit in the pipes; "close" says it has all been read.
      const grace = setTimeout(finish, DRAIN_GRACE_MS);
      child.once("close", () => {
        clearTimeout(grace);
        finish();
      });
    });
  });
}

/** The last non-empty line of a command's output, shortened for a one-line message. */
export function lastLine(text: string): string {
  const lines = text.split("\n").map((line) => line.trim());
  const last = lines.filter((line) => line !== "").at(-1) ?? "";
  return last.length > 200 ? `${last.slice(0, 200)}...` : last;
}

export interface ExecCheckParams {
  command: string;
  args: string[];
  expectExit: number;
  timeoutMs: number;
}

export function parseExecCheckParams(
  params: Readonly<Record<string, string>>,
): { params: ExecCheckParams } | { problems: string[] } {
  const problems: string[] = [];
  const command = params.command ?? "";
  if (command.trim() === "") {
    problems.push(
      "command is required; set command=<absolute path of an executable>, e.g. command=/usr/bin/pg_isready",
    );
  } else if (!command.startsWith("/") || /[\s\0]/.test(command)) {
    problems.push(
      `command=${command} is not an absolute path without spaces; the check runs no shell and no PATH search, so give e.g. command=/usr/bin/pg_isready and put arguments in args=`,
    );
  }
  const argsText = params.args ?? "";
  if (argsText.includes("\0"))
    problems.push("args contains a NUL character, which no command can receive; remove it");
  const exitText = params.expect_exit?.trim() ?? "";
  const expectExit = exitText === "" ? 0 : /^\d{1,3}$/.test(exitText) ? Number(exitText) : NaN;
  if (!(expectExit >= 0 && expectExit <= 255)) {
    problems.push(
      `expect_exit=${params.expect_exit ?? ""} is not an exit status between 0 and 255; e.g. expect_exit=0`,
    );
  }
  const timeout = parseCheckTimeout(params.timeout, DEFAULT_TIMEOUT_MS);
  if ("problem" in timeout) problems.push(timeout.problem);
  if (problems.length > 0 || "problem" in timeout) return { problems };
  return {
    params: {
      command,
      args: argsText.split(/\s+/).filter((arg) => arg !== ""),
      expectExit,
      timeoutMs: timeout.ms,
    },
  };
}

export function validateExecCheckParams(params: Readonly<Record<string, string>>): string[] {
  const parsed = parseExecCheckParams(params);
  return "problems" in parsed ? parsed.problems : [];
}

/** One run of the command; the result a start or a monitor reports. */
export async function checkExec(check: ExecCheckParams, signal: AbortSignal): Promise<AgentResult> {
  const what = [check.command, ...check.args].join(" ");
  const outcome = await runProcessGroup(check.command, check.args, { timeoutMs: check.timeoutMs, signal });
  switch (outcome.kind) {
    case "exited": {
      if (outcome.code === check.expectExit)
        return { state: "running", message: `${what} exited ${outcome.code}` };
      const said = lastLine(outcome.stderr) || lastLine(outcome.stdout);
      return {
        state: "failed",
        message: `FLOATIP_E_CHECK_EXIT: ${what} exited ${outcome.code}, expected ${check.expectExit}${said === "" ? "" : `: ${said}`}; check the service on this node`,
      };
    }
    case "timeout":
      return {
        state: "failed",
        message: `FLOATIP_E_CHECK_TIMEOUT: ${what} did not finish within ${check.timeoutMs} ms and was killed; check that the service is not hung, or raise timeout=`,
      };
    case "aborted":
      // The caller gave up (operation timeout or shutdown): no evidence about the service either way.
      return { state: "unknown", message: `${what} was cancelled and killed` };
    case "spawn-error":
      return {
        state: "failed",
        message: `FLOATIP_E_CHECK_COMMAND: cannot run ${check.command} (${outcome.errno}); install it on this node or fix command=`,
      };
  }
}

export class ExecCheckAgent extends HealthCheckAgent<ExecCheckParams> {
  constructor() {
    super({ parse: parseExecCheckParams, validate: validateExecCheckParams, check: checkExec });
  }
}
