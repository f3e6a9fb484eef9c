import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import fc from "fast-check";
import "./client.ts";
import { lazyModels, lazyModelNamespace, parseModelIndex } from "./sdk-models.ts";

const require = createRequire(import.meta.url);
const indexPath = require.resolve("oci-core/lib/model/index.js");

/** name:typeof:sorted own keys of every export of a model namespace, one line each. */
const SHAPE = `(ns) => Object.keys(ns).sort().map((k) => k + ":" + typeof ns[k] + ":" + Object.keys(ns[k] ?? {}).sort().join(",")).join("\\n")`;

void test("the installed SDK's model index is replaced by the stand-in once client.ts is loaded", () => {
  assert.deepEqual(lazyModels, { installed: true, models: 720 });
});

void test("the stand-in exposes exactly the exports of oci-core's own model index, with the same shapes", () => {
  // The eager index, in a process without the stand-in.
  const eager = execFileSync(
    process.execPath,
    ["-e", `process.stdout.write((${SHAPE})(require(${JSON.stringify(indexPath)})))`],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  const core = require("oci-core") as { models: Record<string, unknown> };
  const shape = new Function(`return ${SHAPE}`)() as (ns: Record<string, unknown>) => string;
  assert.equal(shape(core.models), eager);
});

void test("a model module is loaded when its export is first read, not before", () => {
  const loads: string[] = [];
  const ns = lazyModelNamespace(
    new Map([
      ["PrivateIp", "private-ip"],
      ["Vnic", "vnic"],
    ]),
    (file) => {
      loads.push(file);
      return { PrivateIp: { kind: "ip" }, Vnic: { kind: "vnic" } };
    },
  );
  assert.equal(ns.__esModule, true);
  assert.deepEqual(loads, []);
  assert.deepEqual(ns.PrivateIp, { kind: "ip" });
  assert.equal(ns.PrivateIp, ns.PrivateIp);
  assert.deepEqual(loads, ["private-ip"]);
  assert.equal(ns.Missing, undefined);
  assert.deepEqual(Object.keys(ns), ["PrivateIp", "Vnic"]);
  assert.ok("Vnic" in ns && !("Missing" in ns));
  assert.throws(() => {
    "use strict";
    ns.Vnic = 1;
  }, TypeError);
});

void test("an index of another form is not replaced: the SDK then loads as it always did", () => {
  const real = readFileSync(indexPath, "utf8");
  assert.ok(parseModelIndex(real) instanceof Map);
  const extraRequire = `${real}\nconst helper = require("./helper");\n`;
  assert.match(errorOf(parseModelIndex(extraRequire)), /721 requires, 720 of them model imports/);
  const renamed = real.replace(
    "exports.PrivateIp = PrivateIp.PrivateIp;",
    "exports.PrivateIp = PrivateIp.PrivateIpV2;",
  );
  assert.match(errorOf(parseModelIndex(renamed)), /unexpected export line/);
  const missingExport = real.replace("exports.PrivateIp = PrivateIp.PrivateIp;", "");
  assert.match(errorOf(parseModelIndex(missingExport)), /720 model imports, 719 exports/);
  assert.match(errorOf(parseModelIndex("")), /0 requires/);
});

void test("parseModelIndex never throws on arbitrary or mangled text", () => {
  const real = readFileSync(indexPath, "utf8").slice(0, 20_000);
  fc.assert(
    fc.property(fc.string(), fc.nat(real.length), fc.nat(200), (junk, at, cut) => {
      const result = parseModelIndex(real.slice(0, at) + junk + real.slice(at + cut));
      assert.ok(result instanceof Map || typeof result.error === "string");
    }),
    { numRuns: 300 },
  );
});

function errorOf(result: Map<string, string> | { error: string }): string {
  assert.ok(!(result instanceof Map), "expected the index to be refused");
  return result.error;
}
