import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeReport, encodeReport, nodeReportSchema, type NodeReport } from "./node-report.ts";

/*
 * The node report is the body of every authenticated heartbeat. A peer with the key but a bug, or another
 * floatip version, can still send anything there: decoding must answer ok or a short reason, never throw.
 * FLOATIP_FUZZ_SEED replays a run.
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);
const params = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

const valid: NodeReport = {
  v: 1,
  name: "node1",
  configEpoch: 3,
  configHash: "abc",
  probed: true,
  leaving: false,
  resources: { vip: { state: "running", failCount: 0 } },
  dc: {
    quorate: true,
    online: ["node1"],
    actions: [{ op: "start", resource: "vip", node: "node1" }],
    notes: [],
  },
};

function checkDecode(bytes: Uint8Array): void {
  const result = decodeReport(bytes);
  if (result.ok) assert.ok(nodeReportSchema.safeParse(result.report).success);
  else {
    assert.equal(typeof result.error, "string");
    assert.ok(result.error.length > 0 && !result.error.includes("\n"), result.error);
  }
}

/** A copy of `root` with the value at a random path replaced by arbitrary JSON (or the key deleted). */
function mutateAt(root: unknown, path: number[], replacement: unknown, drop: boolean): unknown {
  const copy = structuredClone(root);
  let node: unknown = copy;
  for (let depth = 0; depth < path.length; depth++) {
    if (node === null || typeof node !== "object") break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const k = keys[(path[depth] ?? 0) % keys.length] as string;
    const child = (node as Record<string, unknown>)[k];
    const last = depth === path.length - 1 || child === null || typeof child !== "object";
    if (last) {
      if (drop) delete (node as Record<string, unknown>)[k];
      else (node as Record<string, unknown>)[k] = replacement;
      break;
    }
    node = child;
  }
  return copy;
}

void test("fuzz: random bytes, random JSON and mutated reports decode to ok or a one-line reason", () => {
  const good = encodeReport(valid);
  assert.ok(decodeReport(good).ok);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.json().map((text) => Buffer.from(text)),
        fc
          .tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), fc.jsonValue(), fc.boolean())
          .map(([path, value, drop]) => Buffer.from(JSON.stringify(mutateAt(valid, path, value, drop)))),
        fc.integer({ min: 0, max: good.length }).map((cut) => good.subarray(0, cut)),
        fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, mask]) => {
          const bytes = Uint8Array.from(good);
          bytes[at % bytes.length] = (bytes[at % bytes.length] ?? 0) ^ mask;
          return bytes;
        }),
      ),
      checkDecode,
    ),
    params(1000),
  );
});

void test("deeply nested JSON in a report is refused, not a stack overflow", () => {
  const depth = 50_000;
  checkDecode(Buffer.from(`${"[".repeat(depth)}${"]".repeat(depth)}`));
  const nested = `{"a":`.repeat(depth) + "1" + "}".repeat(depth);
  checkDecode(Buffer.from(JSON.stringify({ ...valid, config: "X" }).replace('"X"', nested)));
  checkDecode(Buffer.from(JSON.stringify({ ...valid, resources: "X" }).replace('"X"', nested)));
});
