import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../", import.meta.url));

/** What `globalThis.fetch` is after the built module loads in a process started as `floatip <args>`. */
function fetchAfterLoad(args: string[], env: Record<string, string> = {}): string {
  const built = new URL("../../dist/src/cli/daemon-fetch.js", import.meta.url).href;
  const script = `
    import { createRequire } from "node:module";
    process.argv = [process.execPath, "floatip", ...${JSON.stringify(args)}];
    await import(${JSON.stringify(built)});
    const nodeFetch = createRequire(${JSON.stringify(built)})("node-fetch");
    const classes = globalThis.Request === nodeFetch.Request && globalThis.Response === nodeFetch.Response &&
      globalThis.Headers === nodeFetch.Headers;
    console.log(globalThis.fetch === nodeFetch.default && classes ? "node-fetch"
      : classes && globalThis.fetch.name === "wrapped" ? "node-fetch through the proxy" : "node");`;
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(https?|all|no)_proxy$/i.test(name)),
  );
  return execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { ...clean, ...env },
  }).trim();
}

void test("the daemon's fetch, Request, Response and Headers are node-fetch's; other commands keep node's", () => {
  assert.equal(fetchAfterLoad(["daemon", "--state-dir", "/x"]), "node-fetch");
  assert.equal(fetchAfterLoad(["status"]), "node");
});

void test("with an HTTPS proxy in the environment every command gets node-fetch, whose requests take the proxy agent", () => {
  assert.equal(
    fetchAfterLoad(["status"], { https_proxy: "http://10.0.0.1:3128" }),
    "node-fetch through the proxy",
  );
  assert.equal(
    fetchAfterLoad(["daemon"], { HTTPS_PROXY: "http://10.0.0.1:3128" }),
    "node-fetch through the proxy",
  );
  assert.equal(fetchAfterLoad(["status"], { http_proxy: "http://10.0.0.1:3128" }), "node");
});

void test("a bad https_proxy stops a command at once with what to fix, not a stack trace", () => {
  const built = new URL("../../dist/src/cli/daemon-fetch.js", import.meta.url).href;
  const run = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", `await import(${JSON.stringify(built)});`],
    {
      encoding: "utf8",
      env: { PATH: process.env["PATH"] ?? "", https_proxy: "socks5://10.0.0.1:1080" },
    },
  );
  assert.equal(run.status, 1);
  assert.match(
    run.stderr,
    /^Error: FLOATIP_E_OCI_SETTINGS_INVALID: https_proxy uses socks5:\/\/, .*use an http:\/\/ or https:\/\/ proxy\n$/,
  );
});

void test("main.ts installs it right after the V8 tuning, before the OCI SDK loads", () => {
  const main = readFileSync(new URL("./main.ts", import.meta.url), "utf8");
  const imports = main.split("\n").filter((l) => l.startsWith("import"));
  assert.deepEqual(imports.slice(0, 2), ['import "./daemon-heap.ts";', 'import "./daemon-fetch.ts";']);
});

void test("SDK calls (instance-principal federation, signed Core calls), instance metadata and alert webhooks pass their tests with the daemon's fetch", () => {
  // The same test files, in processes that install node-fetch first as the daemon does.
  const preload = `data:text/javascript,${encodeURIComponent(
    `import { useNodeFetch } from ${JSON.stringify(new URL("./daemon-fetch.ts", import.meta.url).href)}; useNodeFetch();`,
  )}`;
  const run = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--import",
      preload,
      "--test",
      "src/cloud/oci/private-ip-mover.emulator.test.ts",
      "src/cloud/oci/metadata.test.ts",
      "src/observability/alert-runner.test.ts",
    ],
    // Without the parent runner's NODE_TEST_CONTEXT the child reports in TAP, as from a shell.
    { cwd: repo, encoding: "utf8", env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
  );
  assert.equal(run.status, 0, `${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`);
  assert.match(run.stdout, /# fail 0/);
});
