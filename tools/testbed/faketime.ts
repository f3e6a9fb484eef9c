import { existsSync, writeFileSync } from "node:fs";

/**
 * A real wall-clock jump seen by one process: Debian's libfaketime (package `libfaketime`) preloaded into
 * it reads its offset from a file that the test rewrites at run time. The monotonic clock is left alone,
 * as an NTP step or an operator's `date -s` leaves CLOCK_MONOTONIC alone.
 */
const candidates = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/faketime/libfaketime.so.1",
];

export function libfaketimePath(): string | null {
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** Environment that makes a process's wall clock follow `offsetFile` (checked about once a second). */
export function faketimeEnv(library: string, offsetFile: string): NodeJS.ProcessEnv {
  return {
    LD_PRELOAD: library,
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_CACHE_DURATION: "1",
    FAKETIME_DONT_FAKE_MONOTONIC: "1",
  };
}

/** Sets the wall-clock offset (seconds, may be negative) of every process reading `offsetFile`. */
export function setClockOffset(offsetFile: string, seconds: number): void {
  writeFileSync(offsetFile, `${seconds >= 0 ? "+" : ""}${seconds}\n`);
}
