import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startConnectProxy } from "../../../tools/testbed/connect-proxy.ts";
import { makeTestCa } from "../../../tools/testbed/test-ca.ts";
import { bypassesProxy, describeProxy, proxyFor, proxySettingsFromEnv } from "./https-proxy.ts";

const settings = (env: Record<string, string>) => proxySettingsFromEnv(env);

void test("https_proxy names the proxy (lower case first, as requests and curl read it); none means direct", () => {
  assert.equal(settings({}), undefined);
  assert.equal(settings({ https_proxy: "  " }), undefined);
  assert.equal(settings({ HTTPS_PROXY: "http://upper:3128" })?.proxy.host, "upper:3128");
  assert.equal(
    settings({ https_proxy: "http://lower:3128", HTTPS_PROXY: "http://upper:3128" })?.proxy.host,
    "lower:3128",
  );
  assert.equal(
    settings({ https_proxy: "", HTTPS_PROXY: "http://upper:3128" }),
    undefined,
    "an empty lower-case one wins",
  );
  assert.equal(settings({ https_proxy: "proxy.corp:8080" })?.proxy.href, "http://proxy.corp:8080/");
  assert.equal(settings({ https_proxy: "https://proxy.corp:8443" })?.proxy.protocol, "https:");
  assert.equal(
    settings({ http_proxy: "http://only-http:3128" }),
    undefined,
    "http_proxy is not used: no plain-HTTP API calls",
  );
});

void test("a proxy setting floatip cannot use is refused with what to set, without echoing credentials", () => {
  assert.throws(
    () => settings({ https_proxy: "socks5://p:1080" }),
    /FLOATIP_E_OCI_SETTINGS_INVALID: https_proxy uses socks5:\/\/.*use an http:\/\/ or https:\/\/ proxy/,
  );
  assert.throws(
    () => settings({ HTTPS_PROXY: "http://p:3128/path" }),
    /HTTPS_PROXY must be http:\/\/HOST:PORT with no path/,
  );
  assert.throws(
    () => settings({ https_proxy: "http://user:secret@[::1" }),
    (error: Error) => {
      assert.match(error.message, /https_proxy is not a proxy URL; set it to http:\/\/HOST:PORT/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    },
  );
  assert.equal(describeProxy(new URL("http://user:secret@proxy:3128")), "http://***@proxy:3128");
});

void test("no_proxy exempts hosts by requests' rules: names and their subdomains, ports, IPs, CIDR blocks, *", () => {
  const cases: [string, string, boolean][] = [
    ["https://iaas.us-ashburn-1.oraclecloud.com/", "oraclecloud.com", true],
    ["https://iaas.us-ashburn-1.oraclecloud.com/", ".oraclecloud.com", true],
    ["https://iaas.us-ashburn-1.oraclecloud.com/", "iaas.us-ashburn-1.oraclecloud.com", true],
    ["https://iaas.us-ashburn-1.oraclecloud.com/", "auth.us-ashburn-1.oraclecloud.com", false],
    ["https://iaas.us-ashburn-1.oraclecloud.com/", "cloud.com", false],
    ["https://notoraclecloud.com/", "oraclecloud.com", false],
    ["https://hooks.corp:8443/", "hooks.corp:8443", true],
    ["https://hooks.corp:8443/", "hooks.corp:9443", false],
    ["https://10.1.2.3/", "10.1.2.3", true],
    ["https://10.1.2.3/", "10.0.0.0/8", true],
    ["https://10.1.2.3/", "192.168.0.0/16,10.1.2.4", false],
    ["https://anything.example/", "*", true],
    ["https://IAAS.Example.COM/", "example.com", true],
  ];
  for (const [url, noProxy, bypass] of cases) {
    const entries = noProxy.toLowerCase().split(",");
    assert.equal(bypassesProxy(new URL(url), entries), bypass, `${url} with no_proxy=${noProxy}`);
  }
  assert.deepEqual(settings({ https_proxy: "p:1", no_proxy: " a.com , ,.B.com " })?.noProxy, [
    "a.com",
    ".b.com",
  ]);
  assert.deepEqual(settings({ https_proxy: "p:1", NO_PROXY: "upper.com" })?.noProxy, ["upper.com"]);
});

void test("instance metadata and plain HTTP never go through the proxy, whatever no_proxy says", () => {
  const proxied = settings({ https_proxy: "http://proxy:3128", no_proxy: "" });
  for (const url of [
    "http://169.254.169.254/opc/v2/instance/",
    "https://169.254.169.254/opc/v2/instance/",
    "https://[fd00:c1::a9fe:a9fe]/opc/v2/instance/",
    "http://iaas.us-ashburn-1.oraclecloud.com/",
  ]) {
    assert.equal(proxyFor(new URL(url), proxied), undefined, url);
  }
  assert.equal(
    proxyFor(new URL("https://iaas.us-ashburn-1.oraclecloud.com/20160918/vnics"), proxied)?.host,
    "proxy:3128",
  );
  assert.equal(
    proxyFor(new URL("https://auth.us-ashburn-1.oraclecloud.com/v1/x509"), proxied)?.host,
    "proxy:3128",
  );
  assert.equal(proxyFor(new URL("https://iaas.us-ashburn-1.oraclecloud.com/"), undefined), undefined);
});

void test("a process with https_proxy set sends HTTPS through a CONNECT tunnel and verifies TLS at the far end", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "floatip-proxy-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A reserved .test name: were the request sent directly by mistake, no real name would be looked up.
  const name = "iaas.region.floatip.test";
  const ca = await makeTestCa(dir, [name]);
  const server = createServer({ cert: ca.serverCertPem, key: ca.serverKeyPem }, (req, res) => {
    res.end(`answered ${req.method} ${req.url} for ${req.headers.host}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const serverPort = (server.address() as AddressInfo).port;
  const proxy = await startConnectProxy({
    host: "127.0.0.1",
    port: 0,
    hosts: { [name]: `127.0.0.1:${serverPort}` },
  });
  t.after(() => proxy.close());
  const daemonFetch = new URL("../../cli/daemon-fetch.ts", import.meta.url).href;
  const script = `
    const { useNodeFetch } = await import(${JSON.stringify(daemonFetch)});
    useNodeFetch();
    const show = (p) => p.then(async (r) => "HTTP " + r.status + " " + (await r.text()), (e) => "ERR " + (e.code ?? e.message));
    console.log(await show(fetch("https://${name}/20160918/vnics")));
    console.log(await show(fetch("https://127.0.0.1:${serverPort}/direct")));`;
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        env: {
          PATH: process.env["PATH"] ?? "",
          NODE_EXTRA_CA_CERTS: ca.caCertFile,
          https_proxy: `http://127.0.0.1:${proxy.port}`,
          no_proxy: "127.0.0.1",
        },
        timeout: 30_000,
      },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
  const [viaProxy, direct] = output.trim().split("\n");
  assert.equal(viaProxy, `HTTP 200 answered GET /20160918/vnics for ${name}`);
  // Exempted by no_proxy, so sent directly; the certificate names no IP address, so TLS rightly refuses it.
  assert.match(direct ?? "", /^ERR ERR_TLS_CERT_ALTNAME_INVALID/);
  assert.deepEqual(
    proxy.records.map((r) => `${r.ev} ${r.target}`),
    [`connect ${name}:443`],
  );
});
