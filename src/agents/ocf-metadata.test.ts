import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import {
  listOcfAgents,
  OcfMetadataError,
  parseOcfMetadata,
  parseOcfType,
  readOcfMetadata,
  validateOcfParams,
} from "./ocf-metadata.ts";

const haveHeartbeat = existsSync("/usr/lib/ocf/resource.d/heartbeat/Dummy");
const noAgents = !haveHeartbeat && "resource-agents is not installed";

function rejects(xml: string, why: RegExp): void {
  assert.throws(
    () => parseOcfMetadata(xml, "ocf:test:X"),
    (error: unknown) =>
      error instanceof OcfMetadataError &&
      error.code === "FLOATIP_E_OCF_METADATA" &&
      /^FLOATIP_E_OCF_METADATA: meta-data of ocf:test:X is malformed: /.test(error.message) &&
      why.test(error.message),
  );
}

const minimal = (body: string) =>
  `<?xml version="1.0"?>\n<resource-agent name="X">${body}</resource-agent>\n`;

void test(
  "Dummy's real meta-data: its two parameters and its actions with timeouts",
  { skip: noAgents },
  async () => {
    const meta = await readOcfMetadata("ocf:heartbeat:Dummy");
    assert.equal(meta.name, "Dummy");
    assert.equal(meta.shortdesc, "Example stateless resource agent");
    assert.deepEqual(
      meta.parameters.map((p) => [p.name, p.required, p.unique, p.type]),
      [
        ["state", false, true, "string"],
        ["fake", false, false, "string"],
      ],
    );
    assert.equal(meta.parameters[0]?.shortdesc, "State file");
    assert.equal(meta.parameters[1]?.default, "dummy");
    const monitor = meta.actions.find((a) => a.name === "monitor");
    assert.deepEqual(
      { timeoutMs: monitor?.timeoutMs, intervalMs: monitor?.intervalMs, depth: monitor?.depth },
      { timeoutMs: 20_000, intervalMs: 10_000, depth: "0" },
    );
    assert.equal(meta.actions.find((a) => a.name === "meta-data")?.timeoutMs, 5000);
  },
);

void test("IPaddr2's real meta-data: ip is required, entities are decoded", { skip: noAgents }, async () => {
  const meta = await readOcfMetadata("ocf:heartbeat:IPaddr2");
  const ip = meta.parameters.find((p) => p.name === "ip");
  assert.equal(ip?.required, true);
  assert.equal(ip?.unique, true);
  assert.equal(meta.parameters.find((p) => p.name === "nic")?.required, false);
  assert.equal(meta.parameters.find((p) => p.name === "arp_count")?.type, "integer");
  assert.match(meta.longdesc, /clone-node-max >= 2/);
  assert.doesNotMatch(meta.longdesc, /&gt;|&lt;/);
});

void test(
  "validate names a missing required ip, and unknown parameters with the known ones",
  { skip: noAgents },
  async () => {
    const meta = await readOcfMetadata("ocf:heartbeat:IPaddr2");
    assert.deepEqual(validateOcfParams(meta, { ip: "10.0.0.5", cidr_netmask: "24" }), []);
    const problems = validateOcfParams(meta, { cidr_netmask: "24", netmask: "24" });
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? "", /^ip is required by IPaddr2 \(.+\); set ip=<value>$/);
    assert.match(
      problems[1] ?? "",
      /^netmask is not a parameter of IPaddr2; its parameters are ip, nic, cidr_netmask/,
    );
    assert.match(validateOcfParams(meta, { ip: "" })[0] ?? "", /^ip is required/);
  },
);

void test("select parameters must use one of their options", () => {
  const meta = parseOcfMetadata(
    minimal(
      `<parameters><parameter name="mode"><content type="select" default="a"><option value="a"/><option value="b"/></content></parameter></parameters>`,
    ),
    "ocf:test:X",
  );
  assert.deepEqual(meta.parameters[0]?.options, ["a", "b"]);
  assert.deepEqual(validateOcfParams(meta, { mode: "b" }), []);
  assert.deepEqual(validateOcfParams(meta, { mode: "c" }), ["mode=c is not one of a, b; pick one of them"]);
});

void test("comments, CDATA, character references and single quotes are read", () => {
  const meta = parseOcfMetadata(
    `<?xml version="1.0"?><!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd"><!-- c --><resource-agent name='X'>` +
      `<shortdesc lang="de">Beispiel</shortdesc><shortdesc lang="en">a &amp; b &#60;&#x3E; &quot;q&apos;</shortdesc>` +
      `<longdesc><![CDATA[raw <b> & ]]>tail</longdesc><parameters><parameter name="p" required="1">` +
      `<!-- inside --><content type="integer" default="5"/></parameter></parameters></resource-agent>`,
    "ocf:test:X",
  );
  assert.equal(meta.shortdesc, `a & b <> "q'`);
  assert.equal(meta.longdesc, "raw <b> & tail");
  assert.deepEqual(meta.parameters[0], {
    name: "p",
    required: true,
    unique: false,
    shortdesc: "",
    longdesc: "",
    type: "integer",
    default: "5",
  });
});

void test("malformed meta-data is refused with a coded error naming the problem and line", () => {
  rejects("", /Start tag expected.* \(line 1\)/);
  rejects("just text", /char 'j' is not expected.* \(line 1, column 1\)/);
  rejects(minimal("<a></b>"), /closing tag 'a' .*instead of closing tag 'b'/);
  rejects('<resource-agent name="X">', /Unclosed tag 'resource-agent'/);
  rejects(minimal("x &nbsp; y"), /unknown entity &nbsp;/);
  rejects(minimal("a & b"), /char '&' is not expected/);
  rejects(minimal("&#0;"), /unknown entity &#0;/);
  rejects("<resource-agent name=X></resource-agent>", /Attribute 'name' is without value/);
  rejects('<resource-agent name="X" name="Y"></resource-agent>', /Attribute 'name' is repeated/);
  rejects('<resource-agent name="X"/><resource-agent name="Y"/>', /a second root element/);
  rejects('<other name="X"/>', /the root element is <other>/);
  rejects("<resource-agent/>", /<resource-agent> has no name/);
  rejects(minimal("<![CDATA[x"), /Unclosed tag 'resource-agent'/);
  rejects('<!DOCTYPE x [<!ENTITY e "v">]><resource-agent name="X"/>', /the DOCTYPE declares entities \(e\)/);
  rejects(minimal('<parameters><parameter name="a"/><parameter name="a"/></parameters>'), /declared twice/);
  rejects(
    '\n\n<resource-agent name="X">\n<a>\n</resource-agent>',
    /closing tag 'a' \(opened in line 4.*\(line 5, column 1\)/,
  );
  rejects(minimal("<a"), /invalid name/);
  rejects(`<resource-agent name="X">${"<a>".repeat(40)}${"</a>".repeat(40)}</resource-agent>`, /nested tags/);
  rejects(`<resource-agent name="X">${"x".repeat(4 * 1024 * 1024)}</resource-agent>`, /longer than/);
});

void test("random text never makes the parser throw anything but its coded error", () => {
  const xmlish = fc.stringMatching(/^[<>/?!\-[\]a-z="' &;#x0-9CDATA\n]{0,80}$/);
  fc.assert(
    fc.property(fc.oneof(fc.string(), xmlish, fc.string({ unit: "binary" })), (text) => {
      try {
        parseOcfMetadata(text, "ocf:test:X");
      } catch (error) {
        return error instanceof OcfMetadataError && error.code === "FLOATIP_E_OCF_METADATA";
      }
      return true;
    }),
    { numRuns: 2000 },
  );
});

void test("damaged copies of real meta-data parse or fail with the coded error only", () => {
  const good = minimal(
    `<shortdesc lang="en">S &amp; T</shortdesc><parameters><parameter name="ip" unique="1" required="1">` +
      `<longdesc lang="en">L</longdesc><shortdesc lang="en">IP</shortdesc><content type="string" default=""/>` +
      `</parameter></parameters><actions><action name="start" timeout="20s"/></actions>`,
  );
  assert.equal(parseOcfMetadata(good, "ocf:test:X").parameters[0]?.name, "ip");
  fc.assert(
    fc.property(fc.nat(good.length), fc.nat(good.length), fc.string({ maxLength: 3 }), (at, to, insert) => {
      const damaged = good.slice(0, Math.min(at, to)) + insert + good.slice(Math.max(at, to));
      try {
        const meta = parseOcfMetadata(damaged, "ocf:test:X");
        return typeof meta.name === "string" && Array.isArray(meta.parameters);
      } catch (error) {
        return error instanceof OcfMetadataError && error.code === "FLOATIP_E_OCF_METADATA";
      }
    }),
    { numRuns: 2000 },
  );
});

void test("OCF types must be ocf:<provider>:<agent> without path tricks", () => {
  assert.deepEqual(parseOcfType("ocf:heartbeat:IPaddr2"), { provider: "heartbeat", agent: "IPaddr2" });
  for (const bad of [
    "IPaddr2",
    "lsb:heartbeat:x",
    "ocf:..:x",
    "ocf:heartbeat:../../bin/sh",
    "ocf:a:b:c",
    "ocf::x",
  ]) {
    assert.throws(
      () => parseOcfType(bad),
      /^OcfMetadataError: FLOATIP_E_AGENT_UNKNOWN: .* write ocf:<provider>:<agent>/,
    );
  }
});

void test(
  "listOcfAgents lists the installed agents and skips helper libraries",
  { skip: noAgents },
  async () => {
    const types = await listOcfAgents();
    assert.ok(types.includes("ocf:heartbeat:Dummy"));
    assert.ok(types.includes("ocf:heartbeat:IPaddr2"));
    assert.ok(!types.some((t) => /ocf-shellfuncs|__pycache__|\.ocf/.test(t)), types.join(" "));
    assert.deepEqual([...types].sort(), types);
  },
);

void test("listOcfAgents scans every provider of a root and only executable files", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "floatip-ocf-root-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "resource.d", "acme", "subdir"), { recursive: true });
  mkdirSync(join(root, "resource.d", "beta"), { recursive: true });
  for (const [path, mode] of [
    ["acme/Web", 0o755],
    ["acme/notes.txt", 0o644],
    ["acme/.hidden", 0o755],
    ["beta/Db", 0o755],
  ] as const) {
    writeFileSync(join(root, "resource.d", path), "#!/bin/sh\n");
    chmodSync(join(root, "resource.d", path), mode);
  }
  assert.deepEqual(await listOcfAgents(root), ["ocf:acme:Web", "ocf:beta:Db"]);
  assert.deepEqual(await listOcfAgents(join(root, "missing")), []);
});

void test("reading meta-data of an agent that is not installed says what to install", async () => {
  await assert.rejects(
    readOcfMetadata("ocf:floatip-test:Missing", { root: "/nonexistent-ocf-root" }),
    /^OcfMetadataError: FLOATIP_E_AGENT_UNKNOWN: cannot run \/nonexistent-ocf-root\/resource.d\/floatip-test\/Missing \(ENOENT\); install/,
  );
});
