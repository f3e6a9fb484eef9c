import { createRequire } from "node:module";
import { isDaemonProcess } from "./daemon-heap.ts";

/**
 * The daemon's fetch (the OCI SDK's signed calls, instance metadata reads, alert webhooks) is node-fetch
 * 2, the implementation oci-common itself installs through isomorphic-fetch on runtimes without one,
 * rather than node's built-in undici: undici with its WebAssembly HTTP parser adds ~11 MB of RSS to
 * the first process that calls fetch, node-fetch on node's http module ~1.5 MB (bench/README.md,
 * Findings). Installed before the SDK loads, so the SDK's requests, its instance-principal federation
 * and floatip's own calls all use the same client. Other commands keep node's fetch: they are
 * short-lived.
 */
interface NodeFetchModule {
  default: typeof fetch;
  Request: typeof Request;
  Response: typeof Response;
  Headers: typeof Headers;
}

export function useNodeFetch(target: typeof globalThis = globalThis): void {
  const nodeFetch = createRequire(import.meta.url)("node-fetch") as NodeFetchModule;
  target.fetch = nodeFetch.default;
  target.Request = nodeFetch.Request;
  target.Response = nodeFetch.Response;
  target.Headers = nodeFetch.Headers;
}

if (isDaemonProcess) useNodeFetch();
