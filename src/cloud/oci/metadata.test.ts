import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { systemClock } from "../../clock/system-clock.ts";
import { MetadataClient } from "./metadata.ts";

const INSTANCE = {
  id: "ocid1.instance.oc1.phx.abc",
  displayName: "node1",
  region: "phx",
  canonicalRegionName: "us-phoenix-1",
  availabilityDomain: "Uocm:PHX-AD-1",
  compartmentId: "ocid1.compartment.oc1..c",
};
const VNICS = [
  {
    vnicId: "ocid1.vnic.oc1.phx.v1",
    privateIp: "10.0.0.11",
    vlanTag: 0,
    macAddr: "02:00:17:00:00:01",
    virtualRouterIp: "10.0.0.1",
    subnetCidrBlock: "10.0.0.0/24",
    nicIndex: 0,
  },
];

/** A loopback IMDS that answers `failures` with the given status before answering properly. */
async function fakeImds(failures: number[], seen: string[] = []) {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.url} ${req.headers.authorization ?? "-"}`);
    const status = failures.shift();
    if (status !== undefined) {
      res.writeHead(status).end();
      return;
    }
    const body =
      req.url === "/opc/v2/instance/" ? INSTANCE : req.url === "/opc/v2/vnics/" ? VNICS : undefined;
    res.writeHead(body ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/opc/v2`, close: () => new Promise((r) => server.close(r)) };
}

void test("reads instance and VNICs with the v2 header and the canonical region name", async (t) => {
  const seen: string[] = [];
  const imds = await fakeImds([], seen);
  t.after(imds.close);
  const client = new MetadataClient({ baseUrl: imds.url, clock: systemClock, timeoutMs: 1000 });
  const metadata = await client.instance();
  assert.equal(metadata.instanceId, INSTANCE.id);
  assert.equal(metadata.region, "us-phoenix-1");
  assert.equal(metadata.vnics[0]?.subnetCidrBlock, "10.0.0.0/24");
  assert.ok(seen.every((line) => line.endsWith(" Bearer Oracle")));
});

void test("retries 404, 429 and 5xx as the IMDS documentation asks", async (t) => {
  const imds = await fakeImds([404, 429, 503]);
  t.after(imds.close);
  const client = new MetadataClient({
    baseUrl: imds.url,
    clock: systemClock,
    timeoutMs: 1000,
    retryBaseDelayMs: 5,
  });
  assert.equal((await client.instance()).displayName, "node1");
});

void test("gives up after three retries with a coded error that says where it must run", async (t) => {
  const imds = await fakeImds([500, 500, 500, 500, 500, 500, 500, 500]);
  t.after(imds.close);
  const client = new MetadataClient({
    baseUrl: imds.url,
    clock: systemClock,
    timeoutMs: 1000,
    retryBaseDelayMs: 5,
  });
  await assert.rejects(client.instance(), (error: Error) =>
    /^FLOATIP_E_OCI_METADATA: instance metadata http:\/\/127\.0\.0\.1:\d+\/opc\/v2\/(instance|vnics)\/ is not reachable \(HTTP 500 .*must run on an OCI instance/.test(
      error.message,
    ),
  );
});

void test("does not retry a 401: a missing header is a bug, not a maintenance window", async (t) => {
  const seen: string[] = [];
  const imds = await fakeImds([401, 401], seen);
  t.after(imds.close);
  const client = new MetadataClient({
    baseUrl: imds.url,
    clock: systemClock,
    timeoutMs: 1000,
    retryBaseDelayMs: 5,
  });
  await assert.rejects(client.instance(), /HTTP 401/);
  assert.equal(seen.length, 1, "no retry");
});
