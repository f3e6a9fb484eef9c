import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../tools/testbed/repo-paths.ts";
import { unitMemoryEnv } from "./unit-env.ts";

void test("picks the malloc settings of a unit and leaves its other environment alone", () => {
  const unit = [
    "[Service]",
    "Environment=FLOATIP_STATE_DIR=/var/lib/floatip",
    "Environment=GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072",
    "Environment=MALLOC_ARENA_MAX=2",
    "# Environment=MALLOC_TOP_PAD_=1",
  ].join("\n");
  assert.deepEqual(unitMemoryEnv(unit), {
    GLIBC_TUNABLES: "glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072",
    MALLOC_ARENA_MAX: "2",
  });
});

void test("the shipped unit trims malloc arenas, which bench:footprint then applies", () => {
  const env = unitMemoryEnv(readFileSync(join(repoRoot, "systemd/floatip.service"), "utf8"));
  assert.match(env["GLIBC_TUNABLES"] ?? "", /glibc\.malloc\.trim_threshold=\d+/);
  assert.match(env["GLIBC_TUNABLES"] ?? "", /glibc\.malloc\.mmap_threshold=\d+/);
});
