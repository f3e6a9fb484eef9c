import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const libfaketime = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
].find((p) => existsSync(p));
const systemClockFile = fileURLToPath(new URL("./system-clock.ts", import.meta.url));

void test(
  "the system clock's durations ignore a wall-clock step of the process (libfaketime: +10 min, then -10 min)",
  {
    skip: libfaketime === undefined ? "Debian package libfaketime is not installed" : false,
    timeout: 30_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "floatip-clock-"));
    const offsetFile = join(dir, "offset");
    writeFileSync(offsetFile, "+0\n");
    const script = `import { systemClock } from ${JSON.stringify(systemClockFile)};
      setInterval(() => console.log(JSON.stringify({ wall: Date.now(), clock: systemClock.now() })), 100);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      env: {
        ...process.env,
        LD_PRELOAD: libfaketime,
        FAKETIME_TIMESTAMP_FILE: offsetFile,
        FAKETIME_CACHE_DURATION: "1",
        FAKETIME_DONT_FAKE_MONOTONIC: "1",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const samples: { wall: number; clock: number }[] = [];
      const lines = createInterface({ input: child.stdout });
      const until = (done: () => boolean): Promise<void> =>
        new Promise((resolve) => {
          const check = (): void => {
            if (done()) {
              lines.off("line", onLine);
              resolve();
            }
          };
          const onLine = (line: string): void => {
            samples.push(JSON.parse(line) as { wall: number; clock: number });
            check();
          };
          lines.on("line", onLine);
        });
      await until(() => samples.length >= 3);
      const before = samples.length;
      writeFileSync(offsetFile, "+600\n");
      await until(() => (samples.at(-1)?.wall ?? 0) - (samples[before - 1]?.wall ?? 0) > 500_000);
      const forward = samples.length;
      writeFileSync(offsetFile, "-600\n");
      await until(() => (samples.at(-1)?.wall ?? 0) < (samples[forward - 1]?.wall ?? 0) - 1_000_000);
      for (let i = 1; i < samples.length; i++) {
        const step = (samples[i]?.clock ?? 0) - (samples[i - 1]?.clock ?? 0);
        assert.ok(step >= 0 && step < 2_000, `clock stepped ${step} ms between two ticks 100 ms apart`);
      }
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
