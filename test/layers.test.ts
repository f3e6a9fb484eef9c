import assert from "node:assert/strict";
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import ts from "typescript";

/**
 * docs/architecture.md's layer table is the authority on which folder may import which; this reads it and
 * checks every import under src/. The checker also runs on a copy of the tree with a forbidden import
 * added, to show that it catches one.
 */

const root = resolve(import.meta.dirname, "..");
const srcDir = join(root, "src");
const architecture = readFileSync(join(root, "docs/architecture.md"), "utf8");

/** One row of the table: a folder under src/ and what it must never import. */
interface Layer {
  folder: string;
  never: { target: string; except: string[] }[];
}

/**
 * Imports the architecture still has to move out, each with where it goes; a pending entry that no longer
 * matches an import fails the test, so the list only shrinks.
 */
const PENDING: { file: string; target: string; move: string }[] = [
  { file: "cli/daemon-command.ts", target: "daemon/", move: "the launcher moves to src/daemon/main.ts" },
  { file: "cli/witness-command.ts", target: "daemon/", move: "the witness moves to src/witness/" },
];

/** The layer table of the "## Layers" section: rows of `folder/` | owns | never imports. */
function parseLayers(markdown: string): Layer[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith("Layers\n")) ?? "";
  const rows = section.split("\n").filter((line) => /^\| `[a-z/-]+\/` +\|/.test(line));
  return rows.map((row) => {
    const cells = row.split("|").map((c) => c.trim());
    const folder = /^`([a-z/-]+\/)`$/.exec(cells[1] ?? "")?.[1] ?? "";
    const never = (cells[3] ?? "")
      .split(/,\s*/)
      .filter((part) => part.includes("`"))
      .map((part) => {
        const [target = "", ...except] = [...part.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "");
        return { target, except };
      });
    return { folder, never };
  });
}

interface ImportRef {
  spec: string;
  typeOnly: boolean;
}

/** Static imports, re-exports and dynamic import() calls of a source file. */
function importsOf(file: string): ImportRef[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
  const found: ImportRef[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, typeOnly: node.importClause?.isTypeOnly ?? false });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push({ spec: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      found.push({ spec: node.arguments[0].text, typeOnly: false });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      found.push({ spec: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const isTest = (rel: string) => rel.endsWith(".test.ts");
/** Used only by tests: may reach into tools/ (the emulator, the test bed). */
const isTestSupport = (rel: string) =>
  isTest(rel) ||
  rel.endsWith(".fixture.ts") ||
  rel.endsWith("-testing.ts") ||
  rel.split("/").includes("testing");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Every way the tree under `src` breaks the layers: "file imports target: rule" lines. */
function checkLayers(src: string, layers: readonly Layer[]): string[] {
  const layerOf = (rel: string): number => {
    let best = -1;
    layers.forEach((l, i) => {
      if (rel.startsWith(l.folder) && (best === -1 || l.folder.length > (layers[best]?.folder.length ?? 0)))
        best = i;
    });
    return best;
  };
  const problems: string[] = [];
  const pendingUsed = new Set<number>();
  for (const file of sourceFiles(src)) {
    const rel = relative(src, file);
    if (isTest(rel)) continue;
    const own = layerOf(rel);
    if (own === -1) {
      problems.push(`${rel}: in no layer of docs/architecture.md`);
      continue;
    }
    const layer = layers[own] as Layer;
    for (const { spec, typeOnly } of importsOf(file)) {
      const local = spec.startsWith(".");
      const target = local ? relative(src, resolve(dirname(file), spec)) : spec;
      const broken = (rule: string): void => {
        const pending = PENDING.findIndex((p) => p.file === rel && target.startsWith(p.target));
        if (pending !== -1) pendingUsed.add(pending);
        else problems.push(`${rel} imports ${target}: ${rule}`);
      };
      for (const never of layer.never) {
        const hit =
          never.target === "node:*"
            ? target.startsWith("node:")
            : target.startsWith(never.target) || target === never.target;
        if (hit && !never.except.includes(target)) broken(`${layer.folder} never imports ${never.target}`);
      }
      if (!local) continue;
      if (target.startsWith("..")) {
        if (!isTestSupport(rel)) broken("src/ never imports tools/, test/ or bench/");
        continue;
      }
      const other = layerOf(target);
      if (other > own) broken(`${layer.folder} is below ${layers[other]?.folder}`);
      if (rel.startsWith("web/dashboard/") && !target.startsWith("web/dashboard/") && !typeOnly)
        broken("the dashboard's browser code imports other layers for types only");
    }
  }
  PENDING.forEach((p, i) => {
    if (existsSync(join(src, p.file)) && !pendingUsed.has(i))
      problems.push(`${p.file}: no longer imports ${p.target}; remove it from PENDING (${p.move})`);
  });
  return problems;
}

const layers = parseLayers(architecture);

void test("docs/architecture.md has the layer table, lowest first, with the forbidden pairs", () => {
  const folders = layers.map((l) => l.folder);
  for (const folder of [
    "clock/",
    "config/",
    "membership/",
    "quorum/",
    "policy/",
    "cloud/oci/",
    "agents/",
    "api/",
    "coordinator/",
    "daemon/",
    "cli/",
  ])
    assert.ok(folders.includes(folder), `${folder} is a row`);
  const never = (folder: string) => layers.find((l) => l.folder === folder)?.never.map((n) => n.target) ?? [];
  assert.ok(never("cli/").includes("coordinator/") && never("cli/").includes("daemon/"));
  assert.ok(never("policy/").includes("node:*"));
  assert.ok(never("cloud/oci/").includes("coordinator/"));
  assert.ok(never("membership/").includes("policy/"));
});

void test("every file under src/ is in a layer and imports only what the layer table allows", () => {
  assert.deepEqual(checkLayers(srcDir, layers), []);
});

void test("a forbidden import added to a copy of src/ makes the check fail", (t) => {
  const copy = mkdtempSync(join(tmpdir(), "floatip-layers-"));
  t.after(() => rmSync(copy, { recursive: true, force: true }));
  cpSync(srcDir, copy, { recursive: true, filter: (path) => !path.endsWith(".test.ts") });
  appendFileSync(
    join(copy, "cli/status-format.ts"),
    '\nimport type { ClusterNode } from "../coordinator/cluster-node.ts";\n',
  );
  appendFileSync(join(copy, "policy/decide.ts"), '\nimport { readFileSync } from "node:fs";\n');
  appendFileSync(
    join(copy, "cloud/oci/errors.ts"),
    '\nexport { decide } from "../../coordinator/cluster-node.ts";\n',
  );
  appendFileSync(join(copy, "membership/errors.ts"), '\nawait import("../policy/decide.ts");\n');
  appendFileSync(join(copy, "coordinator/local-executor.ts"), '\nimport "../agents/oci-vip.ts";\n');
  assert.deepEqual(checkLayers(copy, layers).sort(), [
    "cli/status-format.ts imports coordinator/cluster-node.ts: cli/ never imports coordinator/",
    "cloud/oci/errors.ts imports coordinator/cluster-node.ts: cloud/oci/ is below coordinator/",
    "cloud/oci/errors.ts imports coordinator/cluster-node.ts: cloud/oci/ never imports coordinator/",
    "coordinator/local-executor.ts imports agents/oci-vip.ts: coordinator/ never imports agents/",
    "membership/errors.ts imports policy/decide.ts: membership/ is below policy/",
    "membership/errors.ts imports policy/decide.ts: membership/ never imports policy/",
    "policy/decide.ts imports node:fs: policy/ never imports node:*",
  ]);
});

void test("the checker on a small tree: order, nevers, tools/ and the dashboard's type-only rule", (t) => {
  const tree = mkdtempSync(join(tmpdir(), "floatip-layers-fixture-"));
  t.after(() => rmSync(tree, { recursive: true, force: true }));
  const files: Record<string, string> = {
    "clock/clock.ts": "export const now = 0;\n",
    "config/value.ts": 'import { now } from "../clock/clock.ts";\nexport const v = now;\n',
    "config/net.ts": 'import { connect } from "node:net";\nexport const c = connect;\n',
    "api/shape.ts": "export interface Shape { a: number }\n",
    "web/dashboard/main.ts":
      'import type { Shape } from "../../api/shape.ts";\nimport { v } from "../../config/value.ts";\nexport const s: Shape = { a: v };\n',
    "agents/agent.ts": 'import { helper } from "../../tools/helper.ts";\nexport const a = helper;\n',
    "agents/agent-testing.ts": 'import { helper } from "../../tools/helper.ts";\nexport const b = helper;\n',
    "stray/thing.ts": "export const x = 1;\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), text);
  }
  assert.deepEqual(checkLayers(tree, layers).sort(), [
    "agents/agent.ts imports ../tools/helper.ts: src/ never imports tools/, test/ or bench/",
    "config/net.ts imports node:net: config/ never imports node:net",
    "stray/thing.ts: in no layer of docs/architecture.md",
    "web/dashboard/main.ts imports config/value.ts: the dashboard's browser code imports other layers for types only",
  ]);
});

void test("policy is pure: no clock, no randomness", () => {
  const offenders = sourceFiles(join(srcDir, "policy"))
    .filter((file) => !isTest(file))
    .filter((file) =>
      /\bDate\.now\(|\bnew Date\(|Math\.random\(|performance\.now\(/.test(readFileSync(file, "utf8")),
    )
    .map((file) => relative(srcDir, file));
  assert.deepEqual(offenders, []);
});

void test("only the official SDK talks to the OCI API: no hand-written request signing in src/cloud", () => {
  const offenders = sourceFiles(join(srcDir, "cloud"))
    .filter((file) => !isTest(file))
    .filter((file) =>
      /createSign|http-signature|\(request-target\)|x-content-sha256|from "node:https?"/.test(
        readFileSync(file, "utf8"),
      ),
    )
    .map((file) => relative(srcDir, file));
  assert.deepEqual(offenders, []);
});

void test("every source path docs/architecture.md names exists, except on its Not yet lines", () => {
  const missing: string[] = [];
  for (const line of architecture.split("\n")) {
    if (/^\s*\*\*Not yet:\*\*/.test(line)) continue;
    for (const [, folder, file] of line.matchAll(
      /`((?:src\/|bin\/|test\/|tools\/)?[a-z-]+(?:\/[a-z.*-]+)*\/)`|`((?:src\/|bin\/|test\/|tools\/)?[a-z-]+(?:\/[a-z.*-]+)+)`/g,
    )) {
      const path = folder ?? file ?? "";
      if (path.includes("*")) continue;
      const candidates = [join(root, path), join(srcDir, path)];
      const isFolderRow = /^[a-z-]+\/(?:oci\/)?$/.test(path);
      if (!candidates.some((c) => existsSync(c)) && !isFolderRow) missing.push(path);
    }
  }
  assert.deepEqual(missing, []);
});
