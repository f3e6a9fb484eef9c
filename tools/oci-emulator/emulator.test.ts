import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, test } from "node:test";
import * as common from "oci-common";
import * as core from "oci-core";
import {
  startEmulator,
  type EmulatorSeed,
  type PrivateIpAssignedEvent,
  type RunningEmulator,
} from "./emulator.ts";

/** Drives the emulator with the real OCI SDK, the way floatip's cloud layer will. */

const VIP = "10.0.0.100";

const seed: EmulatorSeed = {
  subnets: [
    { cidr: "10.0.0.0/24", availabilityDomain: null },
    { cidr: "10.0.1.0/24", displayName: "backend", availabilityDomain: null },
  ],
  instances: [
    {
      displayName: "node1",
      availabilityDomain: "Uocm:US-ASHBURN-AD-1",
      vnics: [
        { subnet: "10.0.0.0/24", privateIp: "10.0.0.11" },
        { subnet: "10.0.1.0/24", privateIp: "10.0.1.11" },
      ],
    },
    {
      displayName: "node2",
      availabilityDomain: "Uocm:US-ASHBURN-AD-2",
      vnics: [{ subnet: "10.0.0.0/24", privateIp: "10.0.0.12" }],
    },
  ],
  privateIps: [{ ipAddress: VIP, vnic: "node1", freeformTags: { "floatip-epoch": "1" } }],
};

interface InstanceClients {
  network: core.VirtualNetworkClient;
  compute: core.ComputeClient;
}

async function clientsFor(emulator: RunningEmulator, instanceName: string): Promise<InstanceClients> {
  const builder = new common.InstancePrincipalsAuthenticationDetailsProviderBuilder();
  builder.metadataBaseUrl = emulator.metadataUrlFor(instanceName);
  builder.federationEndpoint = emulator.urls[0] ?? "";
  const authenticationDetailsProvider = await builder.build();
  const configuration = { circuitBreaker: new common.CircuitBreaker({ disableClientCircuitBreaker: true }) };
  const network = new core.VirtualNetworkClient({ authenticationDetailsProvider }, configuration);
  network.endpoint = emulator.urls[0] ?? "";
  const compute = new core.ComputeClient({ authenticationDetailsProvider }, configuration);
  compute.endpoint = emulator.urls[0] ?? "";
  return { network, compute };
}

async function rejection(promise: Promise<unknown>): Promise<{ statusCode?: number; serviceCode?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { statusCode?: number; serviceCode?: string };
  }
  assert.fail("expected the call to fail");
}

let emulator: RunningEmulator;
let node1: InstanceClients;
let node2: InstanceClients;

before(async () => {
  emulator = await startEmulator({ seed });
  [node1, node2] = await Promise.all([clientsFor(emulator, "node1"), clientsFor(emulator, "node2")]);
});

after(async () => {
  await emulator.close();
});

function vnicIdOf(name: string): string {
  const vnic = emulator.state.primaryVnicOf(emulator.state.findInstance(name));
  assert.ok(vnic, `no VNIC for ${name}`);
  return vnic.id;
}

function subnetId(cidr = "10.0.0.0/24"): string {
  const subnet = [...emulator.state.subnets.values()].find((s) => s.cidrBlock === cidr);
  assert.ok(subnet);
  return subnet.id;
}

void test("finds the VIP by subnet and address and reads it with an etag and a request id", async () => {
  const listed = await node1.network.listPrivateIps({ subnetId: subnetId(), ipAddress: VIP });
  assert.equal(listed.items.length, 1);
  const [vip] = listed.items;
  assert.equal(vip?.vnicId, vnicIdOf("node1"));
  assert.equal(vip?.isPrimary, false);
  assert.deepEqual(vip?.freeformTags, { "floatip-epoch": "1" });
  const got = await node1.network.getPrivateIp({ privateIpId: vip?.id ?? "" });
  assert.equal(got.privateIp.ipAddress, VIP);
  assert.match(got.etag ?? "", /^[0-9a-f]{32}$/);
  assert.ok(got.opcRequestId);
});

void test("moves the VIP to node2 with if-match, changes the etag and announces the assignment", async () => {
  const [vip] = (await node2.network.listPrivateIps({ subnetId: subnetId(), ipAddress: VIP })).items;
  assert.ok(vip?.id);
  const before = await node2.network.getPrivateIp({ privateIpId: vip.id });
  const announced = new Promise<PrivateIpAssignedEvent>((resolve) =>
    emulator.events.once("privateIpAssigned", resolve),
  );
  const updated = await node2.network.updatePrivateIp({
    privateIpId: vip.id,
    ifMatch: before.etag,
    updatePrivateIpDetails: { vnicId: vnicIdOf("node2"), freeformTags: { "floatip-epoch": "2" } },
  });
  assert.equal(updated.privateIp.vnicId, vnicIdOf("node2"));
  assert.deepEqual(updated.privateIp.freeformTags, { "floatip-epoch": "2" });
  assert.notEqual(updated.etag, before.etag);
  const event = await announced;
  assert.equal(event.instanceName, "node2");
  assert.equal(event.primaryIp, "10.0.0.12");
  assert.equal(event.previousVnicId, vnicIdOf("node1"));
  assert.equal(event.ipAddress, VIP);

  const stale = await rejection(
    node1.network.updatePrivateIp({
      privateIpId: vip.id,
      ifMatch: before.etag,
      updatePrivateIpDetails: { vnicId: vnicIdOf("node1") },
    }),
  );
  assert.equal(stale.statusCode, 412);
  assert.equal(stale.serviceCode, "NoEtagMatch");
  assert.equal(emulator.state.privateIps.get(vip.id)?.vnicId, vnicIdOf("node2"));
});

void test("reads a VNIC and its subnet, and creates a private IP on it", async () => {
  const vnic = await node1.network.getVnic({ vnicId: vnicIdOf("node1") });
  assert.equal(vnic.vnic.privateIp, "10.0.0.11");
  assert.equal(vnic.vnic.subnetId, subnetId());
  const subnet = await node1.network.getSubnet({ subnetId: subnetId() });
  assert.equal(subnet.subnet.cidrBlock, "10.0.0.0/24");
  const created = await node1.network.createPrivateIp({
    createPrivateIpDetails: { vnicId: vnicIdOf("node1"), ipAddress: "10.0.0.101" },
  });
  assert.equal(created.privateIp.ipAddress, "10.0.0.101");
  assert.ok(created.etag);
  const onVnic = await node1.network.listPrivateIps({ vnicId: vnicIdOf("node1") });
  assert.deepEqual(onVnic.items.map((p) => p.ipAddress).sort(), ["10.0.0.101", "10.0.0.11"]);
});

void test("refuses to update the primary private IP", async () => {
  const [primary] = (await node1.network.listPrivateIps({ subnetId: subnetId(), ipAddress: "10.0.0.11" }))
    .items;
  const error = await rejection(
    node1.network.updatePrivateIp({
      privateIpId: primary?.id ?? "",
      updatePrivateIpDetails: { vnicId: vnicIdOf("node2") },
    }),
  );
  assert.equal(error.statusCode, 400);
  assert.equal(error.serviceCode, "InvalidParameter");
});

void test("answers 401 NotAuthenticated to an unsigned request", async () => {
  const response = await fetch(`${emulator.urls[0]}/20160918/vnics/${vnicIdOf("node1")}`, {
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(response.status, 401);
  assert.equal(((await response.json()) as { code: string }).code, "NotAuthenticated");
  assert.ok(response.headers.get("opc-request-id"));
});

void test("answers 401 to a request signed by a key the emulator does not know", async () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const provider = new common.SimpleAuthenticationDetailsProvider(
    emulator.state.tenancyId,
    "ocid1.user.oc1..stranger",
    "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99",
    privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    null,
    common.Region.US_ASHBURN_1,
  );
  const client = new core.VirtualNetworkClient(
    { authenticationDetailsProvider: provider },
    { circuitBreaker: new common.CircuitBreaker({ disableClientCircuitBreaker: true }) },
  );
  client.endpoint = emulator.urls[0] ?? "";
  const error = await rejection(client.getVnic({ vnicId: vnicIdOf("node1") }));
  assert.equal(error.statusCode, 401);
  assert.equal(error.serviceCode, "NotAuthenticated");
});

void test("accepts a registered API key user", async () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const userId = "ocid1.user.oc1..operator";
  const fingerprint = "11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00";
  const withUser = await startEmulator({
    seed: {
      ...seed,
      apiUsers: [
        { userId, fingerprint, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() },
      ],
    },
  });
  try {
    const provider = new common.SimpleAuthenticationDetailsProvider(
      withUser.state.tenancyId,
      userId,
      fingerprint,
      privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      null,
      common.Region.US_ASHBURN_1,
    );
    const client = new core.ComputeClient(
      { authenticationDetailsProvider: provider },
      { circuitBreaker: new common.CircuitBreaker({ disableClientCircuitBreaker: true }) },
    );
    client.endpoint = withUser.urls[0] ?? "";
    const instanceId = withUser.state.findInstance("node2")?.id ?? "";
    const got = await client.getInstance({ instanceId });
    assert.equal(got.instance.displayName, "node2");
    assert.equal(withUser.state.requestLog.at(-1)?.principal, `user:${userId}`);
  } finally {
    await withUser.close();
  }
});

void test("answers 401 when the caller's clock is 10 minutes off", async () => {
  emulator.faults.setClockSkew(10 * 60_000);
  try {
    const error = await rejection(node1.network.getVnic({ vnicId: vnicIdOf("node1") }));
    assert.equal(error.statusCode, 401);
    assert.equal(error.serviceCode, "NotAuthenticated");
  } finally {
    emulator.faults.setClockSkew(0);
  }
  await node1.network.getVnic({ vnicId: vnicIdOf("node1") });
});

void test("hides resources with 404 NotAuthorizedOrNotFound when the policy lacks a grant", async () => {
  emulator.faults.setPermissions([
    "use private-ips",
    "use subnets",
    "inspect vnic-attachments",
    "use instances",
  ]);
  try {
    const getVnic = await rejection(node1.network.getVnic({ vnicId: vnicIdOf("node1") }));
    assert.equal(getVnic.statusCode, 404);
    assert.equal(getVnic.serviceCode, "NotAuthorizedOrNotFound");
    const [vip] = (await node1.network.listPrivateIps({ subnetId: subnetId(), ipAddress: VIP })).items;
    const move = await rejection(
      node1.network.updatePrivateIp({
        privateIpId: vip?.id ?? "",
        updatePrivateIpDetails: { vnicId: vnicIdOf("node1") },
      }),
    );
    assert.equal(move.statusCode, 404);
    assert.equal(move.serviceCode, "NotAuthorizedOrNotFound");
  } finally {
    emulator.faults.setPermissions(["use virtual-network-family", "use instance-family"]);
  }
  await node1.network.getVnic({ vnicId: vnicIdOf("node1") });
});

void test("throttles with 429 TooManyRequests past the rate limit", async () => {
  emulator.faults.setRateLimit({ perSecond: 1, burst: 2 });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        await node1.network.getVnic({ vnicId: vnicIdOf("node1") });
        statuses.push(200);
      } catch (error) {
        const e = error as { statusCode: number; serviceCode: string };
        assert.equal(e.serviceCode, "TooManyRequests");
        statuses.push(e.statusCode);
      }
    }
    assert.deepEqual(statuses, [200, 200, 429, 429]);
  } finally {
    emulator.faults.setRateLimit(null);
  }
});

void test("injects failures for the next calls and an outage", async () => {
  emulator.faults.failNext(1, 500);
  const injected = await rejection(node1.network.getVnic({ vnicId: vnicIdOf("node1") }));
  assert.equal(injected.statusCode, 500);
  await node1.network.getVnic({ vnicId: vnicIdOf("node1") });
  emulator.faults.outage(60_000);
  const down = await rejection(node1.network.getVnic({ vnicId: vnicIdOf("node1") }));
  assert.equal(down.statusCode, 503);
  emulator.faults.outage(null);
  await node1.network.getVnic({ vnicId: vnicIdOf("node1") });
});

void test("adds latency to Core calls", async () => {
  emulator.faults.setLatency(150);
  try {
    const started = performance.now();
    await node1.network.getVnic({ vnicId: vnicIdOf("node1") });
    assert.ok(performance.now() - started >= 145);
  } finally {
    emulator.faults.setLatency(0);
  }
});

void test("STOP fences an instance: its state changes and the action is announced", async () => {
  const instanceId = emulator.state.findInstance("node2")?.id ?? "";
  const announced = new Promise<{ action: string; state: string }>((resolve) =>
    emulator.events.once("instanceAction", resolve),
  );
  const stopped = await node1.compute.instanceAction({ instanceId, action: "STOP" });
  assert.equal(stopped.instance.lifecycleState, "STOPPED");
  assert.deepEqual(await announced, { instanceId, instanceName: "node2", action: "STOP", state: "STOPPED" });
  const got = await node1.compute.getInstance({ instanceId });
  assert.equal(got.instance.lifecycleState, "STOPPED");
  const fenced = await rejection(node2.network.getVnic({ vnicId: vnicIdOf("node2") }));
  assert.equal(fenced.statusCode, 401, "a stopped instance can no longer call the API");
  const attachments = await node1.compute.listVnicAttachments({
    compartmentId: emulator.state.compartmentId,
    instanceId,
  });
  assert.deepEqual(
    attachments.items.map((a) => a.vnicId),
    [vnicIdOf("node2")],
  );
  await node1.compute.instanceAction({ instanceId, action: "START" });
  await node2.network.getVnic({ vnicId: vnicIdOf("node2") });
});

void test("records every call with its principal and request id", () => {
  const core = emulator.state.requestLog.filter((e) => e.path.startsWith("/20160918/"));
  assert.ok(core.length > 10);
  assert.ok(core.some((e) => e.principal === "instance:node1" && e.status === 200));
  assert.ok(core.every((e) => e.opcRequestId !== ""));
});

void test("refuses to move a private IP to a VNIC in another subnet", async () => {
  const [vip] = (await node1.network.listPrivateIps({ subnetId: subnetId(), ipAddress: VIP })).items;
  const backendVnic = emulator.state.findInstance("node1")?.vnicIds[1] ?? "";
  const error = await rejection(
    node1.network.updatePrivateIp({
      privateIpId: vip?.id ?? "",
      updatePrivateIpDetails: { vnicId: backendVnic },
    }),
  );
  assert.equal(error.statusCode, 400);
  assert.equal(error.serviceCode, "InvalidParameter");
});

void test("deletes a private IP only with a current etag and announces it", async () => {
  const created = await node1.network.createPrivateIp({
    createPrivateIpDetails: { vnicId: vnicIdOf("node1"), ipAddress: "10.0.0.150" },
  });
  await node1.network.updatePrivateIp({
    privateIpId: created.privateIp.id ?? "",
    updatePrivateIpDetails: { displayName: "renamed" },
  });
  const stale = await rejection(
    node1.network.deletePrivateIp({ privateIpId: created.privateIp.id ?? "", ifMatch: created.etag }),
  );
  assert.equal(stale.statusCode, 412);
  const announced = new Promise<{ ipAddress: string }>((resolve) =>
    emulator.events.once("privateIpDeleted", resolve),
  );
  await node1.network.deletePrivateIp({ privateIpId: created.privateIp.id ?? "" });
  assert.equal((await announced).ipAddress, "10.0.0.150");
  const gone = await rejection(node1.network.getPrivateIp({ privateIpId: created.privateIp.id ?? "" }));
  assert.equal(gone.statusCode, 404);
});

void test("answers 401 to a body changed after the SDK signed it", async () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const userId = "ocid1.user.oc1..signer";
  const fingerprint = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";
  const withUser = await startEmulator({
    seed: {
      ...seed,
      apiUsers: [
        { userId, fingerprint, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() },
      ],
    },
  });
  try {
    const provider = new common.SimpleAuthenticationDetailsProvider(
      withUser.state.tenancyId,
      userId,
      fingerprint,
      privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      null,
      common.Region.US_ASHBURN_1,
    );
    const vip = [...withUser.state.privateIps.values()].find((p) => p.ipAddress === VIP);
    const node2Vnic = withUser.state.primaryVnicOf(withUser.state.findInstance("node2"))?.id ?? "";
    const uri = `${withUser.urls[0]}/20160918/privateIps/${vip?.id}`;
    const send = async (body: string): Promise<Response> => {
      const signed: common.HttpRequest = {
        uri,
        method: "PUT",
        headers: new Headers(),
        body: JSON.stringify({ vnicId: node2Vnic }),
      };
      await new common.DefaultRequestSigner(provider).signHttpRequest(signed);
      return fetch(uri, { method: "PUT", headers: signed.headers, body, signal: AbortSignal.timeout(5000) });
    };
    const tampered = await send(JSON.stringify({ vnicId: vnicIdOf("node1") }));
    assert.equal(tampered.status, 401);
    assert.equal(((await tampered.json()) as { code: string }).code, "NotAuthenticated");
    assert.equal(vip?.vnicId, withUser.state.primaryVnicOf(withUser.state.findInstance("node1"))?.id);
    const honest = await send(JSON.stringify({ vnicId: node2Vnic }));
    assert.equal(honest.status, 200);
    assert.equal(vip?.vnicId, node2Vnic);
  } finally {
    await withUser.close();
  }
});

void test("the SDK re-federates when its token expires and keeps working", async () => {
  // Tokens run from the whole second they were issued in, so a TTL of T seconds leaves T - 1 to T. With
  // T = 1 a token fetched late in its second could expire on the way to the emulator on a busy host. The
  // SDK treats a token as expired from exp - 0.5 s (it rounds the time), so 2.1 s is past the first one.
  const shortLived = await startEmulator({ seed, tokenTtlSeconds: 2 });
  try {
    const clients = await clientsFor(shortLived, "node1");
    await clients.network.getVnic({ vnicId: vnicIdOf("node1") });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await clients.network.getVnic({ vnicId: vnicIdOf("node1") });
    const federations = shortLived.state.requestLog.filter((e) => e.path === "/v1/x509" && e.status === 200);
    assert.equal(federations.length, 2);
  } finally {
    await shortLived.close();
  }
});

void test("the control endpoints set faults and power actions over HTTP", async () => {
  const base = `${emulator.urls[0]}/_emulator`;
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
  assert.equal((await post("/faults", { failNext: { count: 1, status: 503 } })).status, 200);
  const failed = await rejection(node1.network.getVnic({ vnicId: vnicIdOf("node1") }));
  assert.equal(failed.statusCode, 503);
  assert.equal((await post("/faults", { nonsense: true })).status, 400);
  const reset = await post("/instances/node2/action", { action: "RESET" });
  assert.equal(((await reset.json()) as { lifecycleState: string }).lifecycleState, "RUNNING");
  const state = (await (await fetch(`${base}/state`, { signal: AbortSignal.timeout(5000) })).json()) as {
    privateIps: { ipAddress: string }[];
    faults: { failNext: unknown };
  };
  assert.ok(state.privateIps.some((p) => p.ipAddress === VIP));
  assert.equal(state.faults.failNext, null);
});
