import { HttpsProxyAgent } from "https-proxy-agent";
import { cidrContains, isIpv4, parseIpv4Cidr } from "../../config/ipv4.ts";
import { OciCloudError } from "./errors.ts";

/**
 * HTTPS through a proxy, for instances that reach the OCI endpoints through one (no service gateway or NAT
 * gateway), configured as the OCI CLI and Python SDK are: `https_proxy` (or `HTTPS_PROXY`) names the proxy
 * and `no_proxy` (or `NO_PROXY`) the hosts that bypass it, with the matching rules of Python's requests,
 * which the OCI CLI uses. The instance metadata service is never reached through a proxy, whatever
 * no_proxy says: it answers only on the instance's own link, and rejects proxied requests (a common failure
 * of tools that send it there). Plain-HTTP URLs are never proxied (http_proxy is not read): the OCI calls
 * that matter are HTTPS, and the plain-HTTP ones are metadata and an operator's http:// webhooks.
 */

export interface ProxySettings {
  /** The proxy, without credentials in anything printed (see describeProxy). */
  proxy: URL;
  /** no_proxy entries, lower case, without spaces or empty entries. */
  noProxy: string[];
  /** Which variable named the proxy, for messages. */
  source: "https_proxy" | "HTTPS_PROXY";
}

/** The metadata service's addresses (IPv4 link-local, and OCI's IPv6 one): never proxied. */
const METADATA_HOSTS = new Set(["169.254.169.254", "[fd00:c1::a9fe:a9fe]"]);

/** The lower-case variable wins over the upper-case one, even when empty (as in Python's urllib). */
function envVariable(
  env: Readonly<Record<string, string | undefined>>,
  lower: string,
): { name: string; value: string } | undefined {
  const upper = lower.toUpperCase();
  if (env[lower] !== undefined) return { name: lower, value: env[lower] ?? "" };
  if (env[upper] !== undefined) return { name: upper, value: env[upper] ?? "" };
  return undefined;
}

/**
 * The proxy settings in `env`, or undefined when no HTTPS proxy is set. A value without a scheme means
 * http:// (as requests reads it); only http:// and https:// proxies are supported.
 */
export function proxySettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): ProxySettings | undefined {
  const named = envVariable(env, "https_proxy");
  const text = named?.value.trim() ?? "";
  if (named === undefined || text === "") return undefined;
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) ? text : `http://${text}`;
  let proxy: URL;
  try {
    proxy = new URL(withScheme);
  } catch {
    throw new OciCloudError(
      "FLOATIP_E_OCI_SETTINGS_INVALID",
      `${named.name} is not a proxy URL; set it to http://HOST:PORT (e.g. http://proxy.example.com:3128)`,
    );
  }
  if (proxy.protocol !== "http:" && proxy.protocol !== "https:") {
    throw new OciCloudError(
      "FLOATIP_E_OCI_SETTINGS_INVALID",
      `${named.name} uses ${proxy.protocol.replace(/:$/, "")}://, which floatip does not support; use an http:// or https:// proxy`,
    );
  }
  if (proxy.hostname === "" || (proxy.pathname !== "/" && proxy.pathname !== "")) {
    throw new OciCloudError(
      "FLOATIP_E_OCI_SETTINGS_INVALID",
      `${named.name} must be http://HOST:PORT with no path; got ${describeProxy(proxy)}`,
    );
  }
  const noProxy = (envVariable(env, "no_proxy")?.value ?? "")
    .replace(/\s/g, "")
    .toLowerCase()
    .split(",")
    .filter((entry) => entry !== "");
  return { proxy, noProxy, source: named.name as ProxySettings["source"] };
}

/** The proxy URL for messages and logs: credentials are replaced by "***". */
export function describeProxy(proxy: URL): string {
  const shown = new URL(proxy.href);
  if (shown.username !== "" || shown.password !== "") {
    shown.username = "***";
    shown.password = "";
  }
  return shown.href.replace(/\/$/, "");
}

/**
 * Whether no_proxy exempts `url`, by requests' rules: `*` exempts everything; an IPv4 host matches an
 * equal address or a CIDR block; a name matches an entry equal to it (with or without its port) or a
 * domain it is in (`example.com` and `.example.com` both match `iaas.example.com`).
 */
export function bypassesProxy(url: URL, noProxy: readonly string[]): boolean {
  const hostname = url.hostname.toLowerCase();
  if (noProxy.includes("*")) return true;
  if (isIpv4(hostname)) {
    return noProxy.some((entry) => {
      if (!entry.includes("/")) return entry === hostname;
      const cidr = parseIpv4Cidr(entry);
      return cidr !== undefined && cidrContains(cidr, hostname);
    });
  }
  const withPort = url.port === "" ? hostname : `${hostname}:${url.port}`;
  return noProxy.some((raw) => {
    const entry = raw.replace(/^\.+/, "");
    if (entry === "") return false;
    return (
      hostname === entry ||
      withPort === entry ||
      hostname.endsWith(`.${entry}`) ||
      withPort.endsWith(`.${entry}`)
    );
  });
}

/** The proxy for `url`, or undefined to connect directly. Metadata and plain HTTP always go direct. */
export function proxyFor(url: URL, settings: ProxySettings | undefined): URL | undefined {
  if (settings === undefined || url.protocol !== "https:") return undefined;
  if (METADATA_HOSTS.has(url.hostname.toLowerCase())) return undefined;
  return bypassesProxy(url, settings.noProxy) ? undefined : settings.proxy;
}

/** The proxy's http.Agent (node-fetch takes any http.Agent). */
type ProxyAgent = HttpsProxyAgent<string>;

/** A fetch in the shape of node-fetch 2: its init takes an http.Agent, or a function of the URL. */
export type AgentFetch = (
  input: unknown,
  init?: { agent?: unknown } & Record<string, unknown>,
) => Promise<unknown>;

/**
 * `fetch` with every HTTPS request that the settings send through the proxy tunnelled there by CONNECT
 * (https-proxy-agent), and everything else sent as before. One agent per proxy, reused.
 */
export function proxiedFetch<F extends AgentFetch>(fetch: F, settings: ProxySettings): F {
  const agent: ProxyAgent = new HttpsProxyAgent(settings.proxy.href, { keepAlive: true });
  const agentFor = (url: URL): ProxyAgent | undefined => (proxyFor(url, settings) ? agent : undefined);
  const wrapped: AgentFetch = (input, init) => {
    if (init?.agent !== undefined) return fetch(input, init);
    return fetch(input, { ...init, agent: agentFor });
  };
  return wrapped as F;
}
