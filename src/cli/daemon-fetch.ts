import { createRequire } from "node:module";
import { proxiedFetch, proxySettingsFromEnv, type AgentFetch } from "../cloud/oci/https-proxy.ts";
import { isDaemonProcess } from "./daemon-heap.ts";

/**
 * The daemon's fetch (the OCI SDK's signed calls, instance metadata reads, alert webhooks) is node-fetch
 * 2, the implementation oci-common itself installs through isomorphic-fetch on runtimes without one,
 * rather than node's built-in undici: undici with its WebAssembly HTTP parser adds ~11 MB of RSS to
 * the first process that calls fetch, node-fetch on node's http module ~1.5 MB (bench/README.md,
 * Findings). Installed before the SDK loads, so the SDK's requests, its instance-principal federation
 * and floatip's own calls all use the same client. Other commands keep node's fetch: they are
 * short-lived.
 *
 * With an HTTPS proxy in the environment (https_proxy, no_proxy: see https-proxy.ts) every floatip
 * process uses node-fetch, whose requests take an http.Agent: each HTTPS request the proxy settings send
 * through the proxy gets a CONNECT tunnel there, in the SDK's Core calls and federation as in floatip's own.
 */
interface NodeFetchModule {
  default: typeof fetch;
  Request: typeof Request;
  Response: typeof Response;
  Headers: typeof Headers;
}

export function useNodeFetch(
  target: typeof globalThis = globalThis,
  env: Readonly<Record<string, string | undefined>> = process.env,
): void {
  const nodeFetch = createRequire(import.meta.url)("node-fetch") as NodeFetchModule;
  const proxy = proxySettingsFromEnv(env);
  target.fetch = proxy
    ? (proxiedFetch(nodeFetch.default as unknown as AgentFetch, proxy) as unknown as typeof fetch)
    : nodeFetch.default;
  target.Request = nodeFetch.Request;
  target.Response = nodeFetch.Response;
  target.Headers = nodeFetch.Headers;
}

/** Whether this process needs node-fetch: the daemon always, any command when a proxy is configured. */
export function wantsNodeFetch(daemon: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return daemon || proxySettingsFromEnv(env) !== undefined;
}

try {
  if (wantsNodeFetch(isDaemonProcess, process.env)) useNodeFetch();
} catch (error) {
  // A bad https_proxy is a configuration error: say so before anything else runs, not as a stack trace.
  process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
