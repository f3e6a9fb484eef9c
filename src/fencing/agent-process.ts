import { spawn } from "node:child_process";

export interface ProcessOutcome {
  /** Exit status; 128 + signal number when killed by a signal. */
  code: number;
  output: string;
}

const SIGNALS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * Runs a fence program without a shell, feeding `input` on stdin. Resolves with the exit status and the
 * last part of its output; resolves with a description when it cannot be started; is killed (SIGKILL)
 * when `timeoutMs` passes or `signal` aborts, so nothing outlives the call.
 */
export function runFenceProgram(
  path: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs: number; signal: AbortSignal },
): Promise<ProcessOutcome | { spawnError: string } | { timedOut: true } | { aborted: true }> {
  return new Promise((resolve) => {
    if (options.signal.aborted) {
      resolve({ aborted: true });
      return;
    }
    let output = "";
    let stoppedBy: "timeout" | "abort" | undefined;
    const child = spawn(path, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: options.env ?? process.env,
      windowsHide: true,
      // Its own process group, so a kill reaches what a script started too (a hung `sleep` would otherwise
      // keep the output pipes open and the call waiting).
      detached: true,
    });
    const keep = (chunk: Buffer) => {
      // Only the tail matters for the record; an agent that prints megabytes must not grow memory.
      output = (output + chunk.toString("utf8")).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.stdin.on("error", () => {
      // An agent that exits without reading stdin closes the pipe; its exit status still tells the result.
    });
    child.stdin.end(options.input ?? "");
    const stop = (why: "timeout" | "abort") => {
      stoppedBy ??= why;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const timer = setTimeout(() => stop("timeout"), options.timeoutMs);
    const onAbort = () => stop("abort");
    options.signal.addEventListener("abort", onAbort, { once: true });
    const finish = () => {
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      finish();
      resolve({ spawnError: `cannot run ${path} (${error.code ?? error.message})` });
    });
    child.once("close", (code, signalName) => {
      finish();
      if (stoppedBy === "timeout") resolve({ timedOut: true });
      else if (stoppedBy === "abort") resolve({ aborted: true });
      else resolve({ code: code ?? 128 + (SIGNALS[signalName ?? ""] ?? 0), output });
    });
  });
}

/** The last non-empty line of an agent's output, for one-line records. */
export function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  return (lines[lines.length - 1] ?? "").slice(0, 300);
}
