import assert from "node:assert/strict";
import { test } from "node:test";
import * as common from "oci-common";
import * as core from "oci-core";
import { disableAuthCircuitBreakers } from "../../src/cloud/oci/client.ts";
import { loadSeedFile, startEmulator } from "../oci-emulator/emulator.ts";
import {
  endpointOverridesIn,
  hostsFileText,
  parseGetent,
  productionPathProblems,
  regionEndpointHosts,
} from "./production-path.ts";

void test("the bed's endpoint names are the ones the SDK derives: region -> realm -> second-level domain", () => {
  assert.deepEqual(regionEndpointHosts("us-ashburn-1"), {
    region: "us-ashburn-1",
    federation: "auth.us-ashburn-1.oraclecloud.com",
    core: "iaas.us-ashburn-1.oraclecloud.com",
  });
  assert.equal(regionEndpointHosts("us-langley-1").core, "iaas.us-langley-1.oraclegovcloud.com");
  assert.equal(regionEndpointHosts("eu-dcc-dublin-1").federation, "auth.eu-dcc-dublin-1.oraclecloud14.com");
});

void test("a Core client given only a region calls https://iaas.<region>.<domain>: the host the bed resolves", async () => {
  for (const region of ["us-ashburn-1", "us-langley-1", "eu-frankfurt-1"]) {
    const seen: string[] = [];
    const httpClient: common.HttpClient = {
      send: (request: common.HttpRequest) => {
        seen.push(request.uri);
        return Promise.reject(new Error("not sent: the test only records where the SDK would go"));
      },
    };
    const client = new core.VirtualNetworkClient(
      { httpClient },
      {
        retryConfiguration: { terminationStrategy: new common.MaxAttemptsTerminationStrategy(1) },
        circuitBreaker: new common.CircuitBreaker({ disableClientCircuitBreaker: true }),
      },
    );
    client.regionId = region;
    await assert.rejects(client.getVnic({ vnicId: "ocid1.vnic.oc1..x" }));
    client.close();
    assert.equal(new URL(seen[0] ?? "").origin, `https://${regionEndpointHosts(region).core}`);
  }
});

void test("instance principals without a federation endpoint read the region from metadata and derive https://auth.<region>.<domain>", async () => {
  const emulator = await startEmulator({ seed: await loadSeedFile("tools/oci-emulator/seeds/two-ads.json") });
  try {
    const builder = new common.InstancePrincipalsAuthenticationDetailsProviderBuilder();
    builder.metadataBaseUrl = emulator.metadataUrlFor("node1");
    disableAuthCircuitBreakers(builder);
    // build() reads metadata only; the token (a call to the federation endpoint) is fetched on first use.
    const provider = await builder.build();
    assert.equal(provider.getRegion().regionId, "us-ashburn-1");
    // Where the provider's federation client will POST /v1/x509 (the SDK keeps it on that client).
    const federation = (provider as unknown as { federationClient: { federationEndpoint: string } })
      .federationClient;
    assert.equal(federation.federationEndpoint, `https://${regionEndpointHosts("us-ashburn-1").federation}`);
    const region = emulator.state.requestLog.map((r) => r.path).filter((p) => p.endsWith("instance/region"));
    assert.equal(region.length, 1, "the region came from instance metadata");
  } finally {
    await emulator.close();
  }
});

void test("the production path may run only where every name resolves to the emulator and to nothing else", () => {
  const at = (ns: string, name: string, addresses: string[]) => ({ ns, name, addresses });
  assert.deepEqual(
    productionPathProblems(
      [at("fi12ab-node1", "iaas.x", ["192.0.2.10"]), at("fi12ab-node1", "auth.x", ["192.0.2.10"])],
      "192.0.2.10",
    ),
    [],
  );
  assert.deepEqual(productionPathProblems([at("fi12ab-node1", "iaas.x", [])], "192.0.2.10"), [
    "iaas.x does not resolve in fi12ab-node1",
  ]);
  assert.deepEqual(
    productionPathProblems([at("fi12ab-node2", "iaas.x", ["192.0.2.10", "134.70.24.1"])], "192.0.2.10"),
    ["iaas.x resolves to 192.0.2.10, 134.70.24.1 in fi12ab-node2, not only to 192.0.2.10"],
  );
});

void test("getent output, hosts files and the daemons' environment are read as the check needs", () => {
  assert.deepEqual(
    parseGetent("192.0.2.10      STREAM iaas.x\n192.0.2.10      DGRAM  \n192.0.2.10      RAW    \n"),
    ["192.0.2.10"],
  );
  assert.deepEqual(parseGetent(""), []);
  const hosts = hostsFileText({ "iaas.x": "192.0.2.10" });
  assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(hosts, /^192\.0\.2\.10\tiaas\.x$/m);
  assert.deepEqual(endpointOverridesIn({ FLOATIP_OCI_ENDPOINT: "http://x", FLOATIP_OCI_METADATA_URL: " " }), [
    "FLOATIP_OCI_ENDPOINT",
  ]);
  assert.deepEqual(endpointOverridesIn({ NODE_EXTRA_CA_CERTS: "/tmp/ca.pem", FLOATIP_CLOUD: "oci" }), []);
});
