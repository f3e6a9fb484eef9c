import assert from "node:assert/strict";
import { test } from "node:test";
import { createBed } from "./bed.ts";
import { EmulatedCloud } from "./cloud-bed.ts";
import { regionEndpointHosts, verifyProductionPath } from "./production-path.ts";

/**
 * The guard in front of every production-path run (names resolved to the emulator inside the bed's own
 * namespaces, or nothing runs), and what the bed then offers: the region's endpoints over TLS verified with
 * the bed's CA, instance metadata over plain HTTP only.
 */

const isRoot = process.getuid?.() === 0;
const names = Object.values(regionEndpointHosts("us-ashburn-1")).filter((v) => v.includes("."));

/** `node -e` inside the node's namespace: what a request from there gets (status line or error code). */
async function fetchFrom(
  bed: Awaited<ReturnType<typeof createBed>>,
  url: string,
  env: Record<string, string>,
): Promise<string> {
  const script = `fetch(${JSON.stringify(url)}, { headers: { Authorization: "Bearer Oracle" } }).then(
    (r) => console.log("HTTP " + r.status),
    (e) => console.log("ERR " + (e.cause?.code ?? e.code ?? e.message)))`;
  const out = await bed.execIn(bed.nodeNs("node1"), "env", [
    "-i",
    `PATH=${process.env["PATH"] ?? ""}`,
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    process.execPath,
    "-e",
    script,
  ]);
  return out.stdout.trim();
}

void test(
  "the production path is refused unless the endpoint names resolve to the emulator inside bed namespaces",
  { skip: !isRoot, timeout: 120_000 },
  async (t) => {
    const bed = await createBed({ nodes: ["node1"], clientSubnet: "routed" });
    t.after(() => bed.destroy());
    const ns = bed.nodeNs("node1");
    const check = (namespaces: string[]) =>
      verifyProductionPath({ namespaces, names, emulatorAddr: bed.apiAddr });

    await assert.rejects(check([ns]), /refusing to run the production path.*does not resolve in/);
    bed.writeHosts(ns, Object.fromEntries(names.map((name) => [name, "192.0.2.99"])));
    await assert.rejects(check([ns]), /resolves to 192\.0\.2\.99 in .*, not only to 192\.0\.2\.10/);
    await assert.rejects(check(["default"]), /default is not a test-bed namespace/);
    await assert.rejects(check([`${bed.prefix}-gone`]), /does not exist/);
    await assert.rejects(check([]), /no namespace/);
    bed.writeHosts(ns, Object.fromEntries(names.map((name) => [name, bed.apiAddr])));
    await check([ns]);
  },
);

void test(
  "in a bed, the region's endpoints answer over TLS verified with the bed's CA, and metadata over plain HTTP only",
  { skip: !isRoot, timeout: 120_000 },
  async (t) => {
    const bed = await createBed({ nodes: ["node1"], clientSubnet: "routed" });
    const parts: { cloud?: EmulatedCloud } = {};
    t.after(async () => {
      await parts.cloud?.stop();
      await bed.destroy();
    });
    const cloud = (parts.cloud = await EmulatedCloud.start(bed, { latencyMs: 0 }));
    const trusted = cloud.nodeEnvVariables;
    const core = `https://${cloud.endpoints.core}/20160918/vnics/ocid1.vnic.oc1..nothing`;
    // Unsigned: the emulator answers 401 NotAuthenticated, which takes a verified TLS connection to see.
    assert.equal(await fetchFrom(bed, core, trusted), "HTTP 401");
    assert.equal(
      await fetchFrom(bed, `https://${cloud.endpoints.federation}/v1/x509`, trusted),
      "HTTP 404",
      "the federation endpoint answers (a GET is not a federation request)",
    );
    assert.match(
      await fetchFrom(bed, core, {}),
      /^ERR (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/,
    );
    assert.equal(
      await fetchFrom(bed, `http://${bed.metadataAddr}/opc/v2/instance/region`, trusted),
      "HTTP 200",
    );
    assert.match(
      await fetchFrom(bed, `http://${bed.metadataAddr}/20160918/vnics/ocid1.vnic.oc1..nothing`, trusted),
      /^HTTP 404$/,
      "no Core API over plain HTTP",
    );
    assert.match(
      await fetchFrom(bed, `https://${bed.metadataAddr}/opc/v2/instance/`, trusted),
      /^ERR ECONNREFUSED/,
    );
  },
);
