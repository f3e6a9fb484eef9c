import { statSync } from "node:fs";
import * as common from "oci-common";
import { runCommand } from "../../src/agents/command-runner.ts";
import { OCI_SETTINGS_ENV } from "../../src/cloud/oci/settings.ts";

/**
 * The production path in a test bed: daemons set no endpoint, so the SDK derives the region's endpoint
 * names from instance metadata and connects to them over verified TLS. In the bed those names resolve, inside
 * each namespace the bed created and nowhere else, to the emulator (through /etc/netns/NAME/hosts, which
 * `ip netns exec` mounts over /etc/hosts). Before anything runs that way, verifyProductionPath checks that
 * they do, so a mistake sends nothing towards the real cloud.
 */

export interface RegionEndpointHosts {
  region: string;
  /** Instance-principal federation: auth.<region>.<second-level domain of the region's realm>. */
  federation: string;
  /** Core API (iaas): iaas.<region>.<second-level domain>. */
  core: string;
}

/**
 * The endpoint host names the SDK derives for `regionId`, from its own region and realm tables (oc1:
 * oraclecloud.com, oc2: oraclegovcloud.com, ...). A region the SDK does not know is registered in realm oc1,
 * as the instance-principal builder does with a region it reads from metadata.
 */
export function regionEndpointHosts(regionId: string): RegionEndpointHosts {
  const region = common.Region.fromRegionId(regionId) ?? common.Region.register(regionId, common.Realm.OC1);
  const domain = region.realm.secondLevelDomain;
  return { region: regionId, federation: `auth.${regionId}.${domain}`, core: `iaas.${regionId}.${domain}` };
}

/** /etc/hosts for a bed namespace: loopback, plus each name at its address. */
export function hostsFileText(entries: Readonly<Record<string, string>>): string {
  const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"];
  for (const [name, address] of Object.entries(entries)) lines.push(`${address}\t${name}`);
  return `${lines.join("\n")}\n# written by the floatip test bed; removed with its namespace\n`;
}

/** What one name resolved to inside one namespace. */
export interface Resolution {
  ns: string;
  name: string;
  /** IPv4 addresses getaddrinfo returned there; empty when the name did not resolve. */
  addresses: string[];
}

/**
 * Why the production path must not run, or [] when it may: every name must resolve, in every namespace,
 * to the emulator's address and to nothing else.
 */
export function productionPathProblems(resolutions: readonly Resolution[], emulatorAddr: string): string[] {
  const problems: string[] = [];
  for (const { ns, name, addresses } of resolutions) {
    if (addresses.length === 0) problems.push(`${name} does not resolve in ${ns}`);
    else if (addresses.some((a) => a !== emulatorAddr)) {
      problems.push(`${name} resolves to ${addresses.join(", ")} in ${ns}, not only to ${emulatorAddr}`);
    }
  }
  return problems;
}

/** IPv4 addresses in `getent ahostsv4` output (one line per address and socket type). */
export function parseGetent(stdout: string): string[] {
  const found = new Set<string>();
  for (const line of stdout.split("\n")) {
    const address = line.trim().split(/\s+/)[0] ?? "";
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) found.add(address);
  }
  return [...found];
}

const bedNamespacePattern = /^fi[0-9a-f]{4}-[A-Za-z0-9_]{1,20}$/;

/** Inode of a network namespace; the host's own is /proc/1/ns/net. */
function netnsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * Refuses (throws FLOATIP_E_TESTBED) unless every namespace in `namespaces` is one a test bed created (named
 * fiXXXX-..., present under /run/netns, not the host's own network namespace) and every name in `names`
 * resolves there, with the same resolver the daemons use (glibc getaddrinfo), to `emulatorAddr` only.
 */
export async function verifyProductionPath(options: {
  namespaces: readonly string[];
  names: readonly string[];
  emulatorAddr: string;
}): Promise<void> {
  const { namespaces, names, emulatorAddr } = options;
  const hostNetns = netnsInode("/proc/1/ns/net");
  const refusals: string[] = [];
  for (const ns of namespaces) {
    const inode = netnsInode(`/run/netns/${ns}`);
    if (!bedNamespacePattern.test(ns)) refusals.push(`${ns} is not a test-bed namespace`);
    else if (inode === undefined) refusals.push(`namespace ${ns} does not exist`);
    else if (inode === hostNetns) refusals.push(`namespace ${ns} is the host's own network namespace`);
  }
  if (namespaces.length === 0 || names.length === 0) refusals.push("no namespace or no name to check");
  if (refusals.length === 0) {
    const resolutions: Resolution[] = [];
    for (const ns of namespaces) {
      for (const name of names) {
        const out = await runCommand("ip", ["netns", "exec", ns, "getent", "ahostsv4", name], {
          timeoutMs: 10_000,
        });
        resolutions.push({ ns, name, addresses: out.code === 0 ? parseGetent(out.stdout) : [] });
      }
    }
    refusals.push(...productionPathProblems(resolutions, emulatorAddr));
  }
  if (refusals.length > 0) {
    throw new Error(
      `FLOATIP_E_TESTBED: refusing to run the production path (it would reach real OCI endpoints): ${refusals.join("; ")}`,
    );
  }
}

/** Variables that would take a daemon off the production path: endpoint overrides. */
export const ENDPOINT_OVERRIDES = [
  OCI_SETTINGS_ENV.metadataBaseUrl,
  OCI_SETTINGS_ENV.federationEndpoint,
  OCI_SETTINGS_ENV.endpoint,
] as const;

/** The endpoint overrides set (non-empty) in a process environment; [] on the production path. */
export function endpointOverridesIn(environ: Readonly<Record<string, string | undefined>>): string[] {
  return ENDPOINT_OVERRIDES.filter((name) => (environ[name] ?? "").trim() !== "");
}
