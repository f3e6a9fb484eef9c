import type { Logger } from "pino";
import type { Clock } from "../../clock/clock.ts";
import { OciSdkApi, type OciCallRecord } from "./client.ts";
import { cachedLocalInstance, type LocalInstance } from "./discovery.ts";
import { describeProxy, proxySettingsFromEnv } from "./https-proxy.ts";
import { MetadataClient } from "./metadata.ts";
import { PrivateIpMover } from "./private-ip-mover.ts";
import type { OciSettings } from "./settings.ts";

/** The OCI pieces of one node, wired from settings: what the daemon and `floatip oci` commands use. */
export interface OciRuntime {
  settings: OciSettings;
  metadata: MetadataClient;
  api: OciSdkApi;
  localInstance: (signal?: AbortSignal) => Promise<LocalInstance>;
  mover: PrivateIpMover;
  close(): void;
}

export function createOciRuntime(
  settings: OciSettings,
  options: { clock: Clock; logger: Logger; onCall?: (call: OciCallRecord) => void },
): OciRuntime {
  const { clock, logger } = options;
  const proxy = proxySettingsFromEnv(process.env);
  if (proxy) {
    logger.info(
      { proxy: describeProxy(proxy.proxy), noProxy: proxy.noProxy, from: proxy.source },
      "OCI API and federation calls go through the HTTPS proxy; instance metadata never does",
    );
  }
  const metadata = new MetadataClient({
    baseUrl: settings.metadataBaseUrl,
    clock,
    timeoutMs: settings.requestTimeoutMs,
  });
  const api = new OciSdkApi({
    settings,
    clock,
    logger,
    region: async (signal) => (await metadata.instance(signal)).region,
    ...(options.onCall ? { onCall: options.onCall } : {}),
  });
  const localInstance = cachedLocalInstance(metadata, api);
  const mover = new PrivateIpMover({
    api,
    localInstance,
    clock,
    leaseMs: settings.leaseMs,
    logger,
    ...(settings.stateFile === undefined ? {} : { stateFile: settings.stateFile }),
  });
  return { settings, metadata, api, localInstance, mover, close: () => api.close() };
}
