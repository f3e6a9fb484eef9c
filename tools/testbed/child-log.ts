import { createWriteStream, type WriteStream } from "node:fs";
import type { ChildProcess } from "node:child_process";

/**
 * Appends a child's stdout and stderr to one file. Both pipes leave the file open (`end: false`): with
 * the default, whichever stream ends first closes the file and the other's last lines (a daemon's exit
 * message, a profiler's notice) fail with a write-after-end error that takes the caller down. The file
 * is closed when the child's streams have all closed.
 */
export function appendChildOutput(child: ChildProcess, file: string): WriteStream {
  const log = createWriteStream(file, { flags: "a" });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once("close", () => log.end());
  return log;
}
