import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { CibImportError, importCib, parseCorosyncConf } from "./cib-import.ts";
import { clusterConfigSchema } from "./schema.ts";

/*
 * Fuzzing of the CIB import (Pacemaker XML from `pcs cluster cib` or `cibadmin --query`, and corosync.conf):
 * random text, damaged and mutated copies of the sample CIBs, hostile XML (deep nesting, entities). Every
 * input either converts into a configuration the schema accepts or fails with one FLOATIP_E_CIB_ line;
 * nothing else escapes. FLOATIP_FUZZ_SEED replays a run.
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);
const params = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

const dir = new URL("./testdata/cib/", import.meta.url);
const samples = ["seed.xml", "oci-patched.xml", "one-node-full.xml", "web-cluster.xml"].map((name) =>
  readFileSync(new URL(name, dir), "utf8"),
);
const corosync = readFileSync(new URL("oci-patched.corosync.conf", dir), "utf8");
const addrs = { node1: "10.0.0.11", node2: "10.0.0.12", n1: "10.0.0.21" };

function check(xml: string, options: Parameters<typeof importCib>[1] = { addrs }): void {
  let result: ReturnType<typeof importCib>;
  try {
    result = importCib(xml, options);
  } catch (error) {
    assert.ok(error instanceof CibImportError, `not a CibImportError: ${String(error)}`);
    assert.match(error.message, /^FLOATIP_E_CIB_[A-Z_]+: \S/);
    assert.doesNotMatch(
      error.message,
      /\p{Cc}/u,
      `raw control character in ${JSON.stringify(error.message)}`,
    );
    return;
  }
  // Whatever was converted must be storable as it is: a later commit must not be the first to object.
  const parsed = clusterConfigSchema.safeParse(result.config);
  assert.ok(
    parsed.success,
    `the converted configuration is invalid: ${JSON.stringify(parsed.error?.issues[0])}`,
  );
  for (const u of result.unconverted) assert.ok(u.reason.length > 0);
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;").replace(/>/g, "&gt;");

/** Structure-aware damage: attribute values, element names, whole elements, ids copied onto others. */
const mutated: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom(...samples), fc.nat(), fc.string({ maxLength: 20 })).map(([xml, pick, value]) => {
    const values = [...xml.matchAll(/="([^"]*)"/g)];
    const m = values[pick % values.length];
    if (!m || m.index === undefined) return xml;
    return `${xml.slice(0, m.index)}="${xmlEscape(value)}"${xml.slice(m.index + m[0].length)}`;
  }),
  fc
    .tuple(
      fc.constantFrom(...samples),
      fc.nat(),
      fc.constantFrom(
        "INFINITY",
        "-INFINITY",
        "0",
        "-1",
        "99999999999999999999",
        "",
        "x",
        "1.5",
        "10.0.0.999",
      ),
    )
    .map(([xml, pick, value]) => {
      const values = [...xml.matchAll(/="([^"]*)"/g)];
      const m = values[pick % values.length];
      if (!m || m.index === undefined) return xml;
      return `${xml.slice(0, m.index)}="${value}"${xml.slice(m.index + m[0].length)}`;
    }),
  // An element (with its content when it has any) removed.
  fc.tuple(fc.constantFrom(...samples), fc.nat()).map(([xml, pick]) => {
    const tags = [...xml.matchAll(/<([a-z_]+)\b[^>]*?(\/>|>[\s\S]*?<\/\1>)/g)];
    const m = tags[pick % tags.length];
    if (!m || m.index === undefined) return xml;
    return xml.slice(0, m.index) + xml.slice(m.index + m[0].length);
  }),
  // An element duplicated in place: two nodes, resources or constraints with one id.
  fc.tuple(fc.constantFrom(...samples), fc.nat()).map(([xml, pick]) => {
    const tags = [
      ...xml.matchAll(
        /<(node|primitive|group|rsc_location|rsc_colocation|rsc_order|nvpair|op)\b[^>]*?(\/>|>[\s\S]*?<\/\1>)/g,
      ),
    ];
    const m = tags[pick % tags.length];
    if (!m || m.index === undefined) return xml;
    return xml.slice(0, m.index) + m[0] + m[0] + xml.slice(m.index + m[0].length);
  }),
  fc.tuple(fc.constantFrom(...samples), fc.nat()).map(([xml, cut]) => xml.slice(0, cut % xml.length)),
  fc.tuple(fc.constantFrom(...samples), fc.nat(), fc.integer({ min: 1, max: 127 })).map(([xml, at, mask]) => {
    const i = at % xml.length;
    return xml.slice(0, i) + String.fromCharCode(xml.charCodeAt(i) ^ mask) + xml.slice(i + 1);
  }),
);

void test("fuzz: random text and random XML-ish documents convert or fail with one FLOATIP_E_CIB_ line", () => {
  const tag = fc.constantFrom(
    "cib",
    "configuration",
    "nodes",
    "node",
    "resources",
    "primitive",
    "group",
    "a",
  );
  const attrs = fc.dictionary(
    fc.constantFrom("id", "uname", "type", "class", "provider", "name", "value"),
    fc.string({ maxLength: 8 }),
    { maxKeys: 3 },
  );
  const el = (inner: fc.Arbitrary<string[]>): fc.Arbitrary<string> =>
    fc.tuple(tag, attrs, inner).map(([name, a, children]) => {
      const text = Object.entries(a)
        .map(([k, v]) => ` ${k}="${xmlEscape(v)}"`)
        .join("");
      return `<${name}${text}>${children.join("")}</${name}>`;
    });
  // Three levels deep is enough to reach every section the converter reads.
  const element = el(fc.array(el(fc.array(el(fc.constant([])), { maxLength: 3 })), { maxLength: 3 }));
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.constant(""), element), (xml) => check(xml)),
    params(800),
  );
});

void test("fuzz: damaged and mutated sample CIBs convert to a valid configuration or fail with one FLOATIP_E_CIB_ line", () => {
  for (const xml of samples) check(xml);
  fc.assert(
    fc.property(mutated, fc.boolean(), (xml, withCorosync) =>
      check(xml, withCorosync ? { addrs, corosyncConf: corosync } : { addrs }),
    ),
    params(600),
  );
});

void test("fuzz: corosync.conf text of any shape is read or refused with one FLOATIP_E_CIB_ line", () => {
  const lines = corosync.split("\n");
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.tuple(fc.nat(), fc.string({ maxLength: 20 })).map(([at, text]) => {
          const copy = [...lines];
          copy[at % copy.length] = text;
          return copy.join("\n");
        }),
        fc.nat().map((cut) => corosync.slice(0, cut % corosync.length)),
      ),
      (text) => {
        try {
          parseCorosyncConf(text);
        } catch (error) {
          assert.ok(error instanceof CibImportError, `not a CibImportError: ${String(error)}`);
          assert.doesNotMatch(error.message, /\p{Cc}/u, JSON.stringify(error.message));
        }
      },
    ),
    params(400),
  );
});

void test("hostile XML: deep nesting, entity expansion and external entities are refused or bounded, not thrown raw", () => {
  const depth = 20_000;
  check(`<cib>${"<a>".repeat(depth)}${"</a>".repeat(depth)}</cib>`);
  check(
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
      '<cib><configuration><nodes><node id="1" uname="n1"/></nodes><resources/></configuration></cib>',
  );
  const lol = (n: number) => `<!ENTITY l${n} "${`&l${n - 1};`.repeat(10)}">`;
  const laughs =
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY l0 "lol">' +
    [1, 2, 3, 4, 5, 6, 7, 8].map(lol).join("") +
    ']><cib><configuration><crm_config><cluster_property_set id="c"><nvpair id="n" name="cluster-name" value="&l8;"/>' +
    '</cluster_property_set></crm_config><nodes><node id="1" uname="n1"/></nodes><resources/></configuration></cib>';
  const started = Date.now();
  check(laughs);
  assert.ok(Date.now() - started < 5_000, "entity expansion is bounded");
  check('<cib><configuration><nodes><node id="1" uname="n\u001b[2J1"/></nodes></configuration></cib>');
  check("<c\u001bib/>");
});
