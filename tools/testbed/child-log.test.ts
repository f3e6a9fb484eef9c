import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { appendChildOutput } from "./child-log.ts";

void test("appendChildOutput keeps what a child prints after one of its streams has ended", async () => {
  const dir = mkdtempSync(join(tmpdir(), "floatip-child-log-"));
  try {
    const file = join(dir, "child.log");
    // stdout closes first; stderr goes on printing, as a daemon's exit notice does.
    const script = `
      process.stdout.write("out line\\n", () => {
        require("node:fs").closeSync(1);
        setTimeout(() => process.stderr.write("err after stdout closed\\n"), 100);
      });`;
    const child = spawn(process.execPath, ["-e", script]);
    const log = appendChildOutput(child, file);
    const errors: Error[] = [];
    log.on("error", (e) => errors.push(e));
    await once(log, "finish");
    assert.deepEqual(errors, []);
    assert.equal(readFileSync(file, "utf8"), "out line\nerr after stdout closed\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
