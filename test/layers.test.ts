import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, dirname, resolve } from "node:path";
import { test } from "node:test";

/** Lowest first: a folder may import only folders earlier in this list (and itself). */
const LAYERS = [
  "clock",
  "observability",
  "config",
  "membership",
  "quorum",
  "policy",
  "cloud/oci",
  "agents",
  "fencing",
  "coordinator",
  "api",
  "web",
  "daemon",
  "cli",
];

const srcDir = resolve(import.meta.dirname, "../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

function layerOf(file: string): number {
  const rel = relative(srcDir, file);
  const index = LAYERS.findIndex((l) => rel === l || rel.startsWith(`${l}/`));
  return index;
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1] ?? "");
}

void test("every source file lives in a known layer", () => {
  const strays = sourceFiles(srcDir).filter((f) => layerOf(f) === -1);
  assert.deepEqual(
    strays.map((f) => relative(srcDir, f)),
    [],
  );
});

void test("a lower layer never imports a higher one", () => {
  const violations: string[] = [];
  for (const file of sourceFiles(srcDir)) {
    const own = layerOf(file);
    for (const spec of imports(file)) {
      if (!spec.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      const other = layerOf(target);
      if (other > own) violations.push(`${relative(srcDir, file)} imports ${relative(srcDir, target)}`);
    }
  }
  assert.deepEqual(violations, []);
});

void test("policy is pure: no I/O modules, no clock, no randomness", () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(join(srcDir, "policy"))) {
    const text = readFileSync(file, "utf8");
    for (const spec of imports(file))
      if (spec.startsWith("node:")) offenders.push(`${relative(srcDir, file)}: ${spec}`);
    if (/\bDate\.now\(|\bnew Date\(|Math\.random\(|performance\.now\(/.test(text)) {
      offenders.push(`${relative(srcDir, file)}: reads the clock or randomness`);
    }
  }
  assert.deepEqual(offenders, []);
});

void test("only the official SDK talks to the OCI API: no hand-written request signing in src/cloud", () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(join(srcDir, "cloud"))) {
    const text = readFileSync(file, "utf8");
    if (/createSign|http-signature|\(request-target\)|x-content-sha256|from "node:https?"/.test(text)) {
      offenders.push(relative(srcDir, file));
    }
  }
  assert.deepEqual(offenders, []);
});
