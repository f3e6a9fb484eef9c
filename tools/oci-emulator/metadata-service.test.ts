import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { request } from "node:http";
import { after, before, test } from "node:test";
import { startEmulator, type RunningEmulator } from "./emulator.ts";

/** Instance metadata v2 as an instance (or a loopback test standing in for one) sees it. */

let emulator: RunningEmulator;

before(async () => {
  emulator = await startEmulator({
    seed: {
      region: "us-ashburn-1",
      subnets: [{ cidr: "127.0.0.0/24", availabilityDomain: null }],
      instances: [
        {
          displayName: "node1",
          availabilityDomain: "Uocm:US-ASHBURN-AD-1",
          faultDomain: "FAULT-DOMAIN-2",
          vnics: [{ subnet: "127.0.0.0/24", privateIp: "127.0.0.11" }],
        },
        {
          displayName: "node2",
          availabilityDomain: "Uocm:US-ASHBURN-AD-2",
          vnics: [{ subnet: "127.0.0.0/24", privateIp: "127.0.0.12" }],
        },
      ],
    },
  });
});

after(async () => {
  await emulator.close();
});

const metadata = (path: string, headers: Record<string, string> = { authorization: "Bearer Oracle" }) =>
  fetch(`${emulator.metadataUrlFor("node1")}${path}`, { headers, signal: AbortSignal.timeout(10_000) });

/** A GET from a chosen loopback source address, as a node in its own namespace would send it. */
function getFrom(localAddress: string, path: string): Promise<{ status: number; body: string }> {
  const url = new URL(path, emulator.urls[0]);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { localAddress, headers: { authorization: "Bearer Oracle" }, timeout: 5000 },
      (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("metadata request timed out")));
    req.on("error", reject);
    req.end();
  });
}

void test("serves the instance document, its keys as plain text, and the VNIC list", async () => {
  const doc = (await (await metadata("instance/")).json()) as Record<string, unknown>;
  assert.equal(doc["displayName"], "node1");
  assert.equal(doc["id"], emulator.state.findInstance("node1")?.id);
  assert.equal(doc["canonicalRegionName"], "us-ashburn-1");
  assert.equal(doc["region"], "iad");
  assert.equal(doc["faultDomain"], "FAULT-DOMAIN-2");
  assert.equal(doc["compartmentId"], emulator.state.compartmentId);
  assert.equal(await (await metadata("instance/availabilityDomain")).text(), "Uocm:US-ASHBURN-AD-1");
  assert.equal(await (await metadata("instance/regionInfo/regionKey")).text(), "IAD");
  const vnics = (await (await metadata("vnics/")).json()) as Record<string, unknown>[];
  assert.deepEqual(
    vnics.map((v) => [v["privateIp"], v["subnetCidrBlock"], v["virtualRouterIp"], v["nicIndex"]]),
    [["127.0.0.11", "127.0.0.0/24", "127.0.0.1", 0]],
  );
  assert.equal((await metadata("instance/nosuchkey")).status, 404);
});

void test("rejects requests without Authorization: Bearer Oracle and proxied requests", async () => {
  const bare = await metadata("instance/", {});
  assert.equal(bare.status, 401);
  const forwarded = await metadata("instance/", {
    authorization: "Bearer Oracle",
    "x-forwarded-for": "10.1.1.1",
  });
  assert.equal(forwarded.status, 400);
});

void test("issues a leaf certificate naming instance, tenancy and compartment, signed by the intermediate", async () => {
  const leaf = new X509Certificate(await (await metadata("identity/cert.pem")).text());
  const intermediate = new X509Certificate(await (await metadata("identity/intermediate.pem")).text());
  const instanceId = emulator.state.findInstance("node1")?.id ?? "";
  assert.match(leaf.subject, new RegExp(`OU=opc-instance:${instanceId.replaceAll(".", "\\.")}`));
  assert.match(leaf.subject, /OU=opc-tenant:ocid1\.tenancy\./);
  assert.match(leaf.subject, /OU=opc-compartment:ocid1\.compartment\./);
  assert.ok(leaf.verify(intermediate.publicKey));
  assert.match(await (await metadata("identity/key.pem")).text(), /BEGIN PRIVATE KEY/);
  const again = new X509Certificate(await (await metadata("identity/cert.pem")).text());
  assert.equal(again.fingerprint, leaf.fingerprint, "the certificate is generated once and cached");
});

void test("identifies the calling instance by its source address, and answers 404 to strangers", async () => {
  const fromNode2 = await getFrom("127.0.0.12", "/opc/v2/instance/displayName");
  assert.deepEqual(fromNode2, { status: 200, body: "node2" });
  const fromNode1 = await getFrom("127.0.0.11", "/opc/v2/instance/displayName");
  assert.deepEqual(fromNode1, { status: 200, body: "node1" });
  const stranger = await getFrom("127.0.0.99", "/opc/v2/instance/");
  assert.equal(stranger.status, 404);
});
