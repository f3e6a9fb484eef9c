import { execFile } from "node:child_process";

export interface CommandOutcome {
  /** Exit status; a child killed by a signal reports 128 + signal number, as a shell would. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export type CommandErrorCode =
  "FLOATIP_E_COMMAND_SPAWN" | "FLOATIP_E_COMMAND_TIMEOUT" | "FLOATIP_E_COMMAND_ABORTED";

/** A command that could not run to completion; a non-zero exit is not an error, it is a result. */
export class CommandError extends Error {
  override readonly name = "CommandError";
  readonly code: CommandErrorCode;

  constructor(code: CommandErrorCode, detail: string, options: { cause?: unknown } = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

const signalNumbers: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * Runs `cmd args` without a shell. Resolves with the exit code for any exit, so callers decide what a
 * non-zero status means; rejects only when the command could not be started, ran past `timeoutMs`,
 * or was aborted (the child is killed with SIGKILL in both cases, so nothing outlives the call).
 */
export function runCommand(cmd: string, args: string[], opts: RunOptions): Promise<CommandOutcome> {
  const line = [cmd, ...args].join(" ");
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new CommandError("FLOATIP_E_COMMAND_ABORTED", `${line} was cancelled before it started`));
      return;
    }
    let stoppedBy: "timeout" | "abort" | undefined;
    const child = execFile(
      cmd,
      args,
      { encoding: "utf8", maxBuffer: 16 * 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        if (stoppedBy === "timeout") {
          reject(
            new CommandError(
              "FLOATIP_E_COMMAND_TIMEOUT",
              `${line} did not finish within ${opts.timeoutMs} ms and was killed; check that the system is not overloaded or raise the operation timeout`,
            ),
          );
          return;
        }
        if (stoppedBy === "abort") {
          reject(new CommandError("FLOATIP_E_COMMAND_ABORTED", `${line} was cancelled and killed`));
          return;
        }
        if (error === null) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        const errno = (error as NodeJS.ErrnoException).code;
        if (typeof errno === "string") {
          reject(
            new CommandError(
              "FLOATIP_E_COMMAND_SPAWN",
              `cannot run ${cmd} (${errno}); install it or fix PATH (${process.env.PATH ?? "unset"})`,
              { cause: error },
            ),
          );
          return;
        }
        const exit = error as { code?: number | null; signal?: NodeJS.Signals | null };
        const code =
          typeof exit.code === "number" ? exit.code : 128 + (signalNumbers[exit.signal ?? ""] ?? 0);
        resolve({ code, stdout, stderr });
      },
    );
    const stop = (why: "timeout" | "abort"): void => {
      stoppedBy ??= why;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => stop("timeout"), opts.timeoutMs);
    const onAbort = (): void => stop("abort");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
