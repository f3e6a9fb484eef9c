import type { Logger } from "pino";
import type { Clock } from "../../clock/clock.ts";
import { systemClock } from "../../clock/system-clock.ts";
import { silentLogger } from "../../observability/logger.ts";
import { OciSdkApi } from "./client.ts";
import { discoverLocalInstance, vnicForIp, type LocalInstance } from "./discovery.ts";
import { OciCloudError, describeError } from "./errors.ts";
import { DEFAULT_DYNAMIC_GROUP, permissionFix } from "./iam-policy.ts";
import { MetadataClient, type InstanceMetadata } from "./metadata.ts";
import type { OciApi, ServerClockSample } from "./oci-api.ts";
import type { OciSettings } from "./settings.ts";

export type CheckSeverity = "info" | "warning" | "error";

/** One finding of `floatip oci check`; also the element of its --json output. */
export interface CheckResult {
  /** Stable id: metadata, auth, vnics, vip:<ip>, permissions, clock-skew. */
  id: string;
  ok: boolean;
  /** "info" for passed or skipped checks, "warning" when floatip works but should be fixed, "error" when it will not work. */
  severity: CheckSeverity;
  detail: string;
  fix?: string;
}

/** The --json shape: `ok` is false when any result is an error. */
export interface CheckReport {
  ok: boolean;
  summary: { passed: number; warnings: number; errors: number; skipped: number };
  results: CheckResult[];
}

export interface OciCheckOptions {
  settings: OciSettings;
  vips: string[];
  clock?: Clock;
  logger?: Logger;
  signal?: AbortSignal;
  /** Injected in tests; built from settings otherwise. */
  metadata?: Pick<MetadataClient, "instance">;
  api?: OciApi;
  /** Ids of the cluster's fence_oci devices: the check then covers the fencing permission too. */
  fenceDevices?: string[];
}

const SKEW_WARN_MS = 60_000;
const SKEW_FAIL_MS = 5 * 60_000;

interface Permission {
  operation: string;
  grant: string;
  missing: boolean;
  note?: string;
}

/** The preflight behind `floatip oci check`: every check runs with the settings the daemon would use. */
export async function runOciCheck(options: OciCheckOptions): Promise<CheckResult[]> {
  const { settings, signal } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger();
  const results: CheckResult[] = [];
  const skip = (id: string, because: string) =>
    results.push({ id, ok: false, severity: "info", detail: `skipped: ${because}` });
  const later = ["auth", "vnics", ...options.vips.map((vip) => `vip:${vip}`), "permissions", "clock-skew"];

  const metadata =
    options.metadata ??
    new MetadataClient({ baseUrl: settings.metadataBaseUrl, clock, timeoutMs: settings.requestTimeoutMs });
  let instance: InstanceMetadata;
  try {
    instance = await metadata.instance(signal);
  } catch (error) {
    results.push({
      id: "metadata",
      ok: false,
      severity: "error",
      detail: `instance metadata at ${settings.metadataBaseUrl} is not reachable: ${describeError(error)}`,
      fix: `floatip must run on an OCI compute instance, where ${settings.metadataBaseUrl} answers; elsewhere set metadataBaseUrl (or FLOATIP_OCI_METADATA_URL) to the metadata service`,
    });
    for (const id of later) skip(id, "needs instance metadata");
    return results;
  }
  results.push({
    id: "metadata",
    ok: true,
    severity: "info",
    detail: `instance ${instance.displayName || instance.instanceId} (${instance.instanceId}) in ${instance.region} ${instance.availabilityDomain}, ${instance.vnics.length} VNIC(s)`,
  });

  const ownApi = options.api
    ? undefined
    : new OciSdkApi({ settings, clock, logger, region: instance.region });
  const api = options.api ?? (ownApi as OciApi);
  try {
    await checkWithApi(api, instance, options, results, skip, later);
  } finally {
    ownApi?.close();
  }
  return results;
}

async function checkWithApi(
  api: OciApi,
  instance: InstanceMetadata,
  options: OciCheckOptions,
  results: CheckResult[],
  skip: (id: string, because: string) => void,
  later: string[],
): Promise<void> {
  const { settings, signal } = options;
  const logger = options.logger ?? silentLogger();
  const call = signal ? { signal } : {};
  const permissions: Permission[] = [];
  const tryPermission = async <T>(operation: string, grant: string, run: () => Promise<T>) => {
    try {
      const value = await run();
      permissions.push({ operation, grant, missing: false });
      return { value };
    } catch (error) {
      if (error instanceof OciCloudError && error.isNotAuthorizedOrNotFound) {
        permissions.push({ operation, grant, missing: true });
        return { error, missing: true };
      }
      return { error, missing: false };
    }
  };

  try {
    const primary = instance.vnics[0];
    const probe = primary
      ? await tryPermission("GetVnic", "inspect vnics", () => api.getVnic(primary.vnicId, call))
      : undefined;
    if (probe && "error" in probe && !probe.missing) throw probe.error;
    results.push({
      id: "auth",
      ok: true,
      severity: "info",
      detail:
        settings.auth === "instance_principal"
          ? `instance principal federation${settings.federationEndpoint ? ` via ${settings.federationEndpoint}` : ""} works: the API accepted a signed request`
          : `config file auth works: the API accepted a signed request`,
    });
  } catch (error) {
    results.push(authFailure(error, settings));
    for (const id of later.slice(1)) skip(id, "needs working authentication");
    return;
  }

  let local: LocalInstance | undefined;
  try {
    local = await discoverLocalInstance(instance, api, signal);
    results.push({
      id: "vnics",
      ok: true,
      severity: "info",
      detail: local.vnics
        .map((vnic) => `VNIC ${vnic.vnicId} in subnet ${vnic.subnetCidr} (${vnic.subnetId})`)
        .join("; "),
    });
  } catch (error) {
    const missing = error instanceof OciCloudError && error.isNotAuthorizedOrNotFound;
    results.push({
      id: "vnics",
      ok: false,
      severity: "error",
      detail: `GetVnic for the VNICs of this instance failed: ${describeError(error)}`,
      fix: missing ? "grant the permissions listed under `permissions`" : "check the Core endpoint and retry",
    });
  }

  const heldVips: { privateIpId: string }[] = [];
  for (const vip of options.vips) {
    if (!local) {
      skip(`vip:${vip}`, "needs the VNICs of this instance");
      continue;
    }
    results.push(await checkVip(vip, local, api, tryPermission, heldVips, call));
  }

  // Update permission: rewrite the tags of an existing VIP to their current value, guarded by if-match.
  const sample = heldVips[0];
  if (sample) {
    const current = await api.getPrivateIp(sample.privateIpId, call).catch(() => undefined);
    if (current) {
      const update = await tryPermission("UpdatePrivateIp", "use private-ips + use vnics", () =>
        api.updatePrivateIp(
          current.value.id,
          { freeformTags: current.value.freeformTags },
          current.etag,
          call,
        ),
      );
      if ("error" in update && !update.missing) {
        const status = update.error instanceof OciCloudError ? update.error.detail.status : undefined;
        // 412: authorised, but the holder renewed its lease in between; nothing to fix.
        if (status !== 412)
          logger.warn({ err: describeError(update.error) }, "update permission probe failed");
      }
    }
  } else {
    permissions.push({
      operation: "UpdatePrivateIp",
      grant: "use private-ips + use vnics",
      missing: false,
      note: "not tested: no VIP exists yet as a private IP (the first start creates it and needs use subnets too)",
    });
  }
  if (local) {
    await tryPermission("ListVnicAttachments", "inspect vnic-attachments", () =>
      api.listVnicAttachments(
        { compartmentId: instance.compartmentId, instanceId: instance.instanceId },
        call,
      ),
    );
  }
  if (options.fenceDevices && options.fenceDevices.length > 0) {
    // A power action cannot be tried harmlessly; reading this instance shows the instances grant at least.
    const read = await tryPermission("GetInstance", "read instances", () =>
      api.getInstance(instance.instanceId, call),
    );
    results.push({
      id: "fencing",
      ok: !("error" in read),
      severity: "error" in read ? "error" : "info",
      detail: `fence_oci device(s) ${options.fenceDevices.join(", ")} STOP or RESET a lost node's instance with InstanceAction, which needs 'use instances' (INSTANCE_POWER_ACTIONS) on the peers' instances; ${"error" in read ? `GetInstance failed: ${describeError(read.error)}` : "GetInstance is allowed; the power action itself is not tried"}`,
      fix: `Allow dynamic-group ${DEFAULT_DYNAMIC_GROUP} to use instances in compartment id ${instance.compartmentId}`,
    });
  }
  results.push(permissionResult(permissions, instance));
  results.push(clockSkewResult(api.lastServerClock()));
}

async function checkVip(
  vip: string,
  local: LocalInstance,
  api: OciApi,
  tryPermission: <T>(
    operation: string,
    grant: string,
    run: () => Promise<T>,
  ) => Promise<{ value: T } | { error: unknown; missing: boolean }>,
  heldVips: { privateIpId: string }[],
  call: { signal?: AbortSignal },
): Promise<CheckResult> {
  const id = `vip:${vip}`;
  let vnic;
  try {
    vnic = vnicForIp(local, vip);
  } catch (error) {
    return {
      id,
      ok: false,
      severity: "error",
      detail: describeError(error),
      fix: `use an address inside ${local.vnics.map((v) => v.subnetCidr).join(" or ")}, or attach a VNIC in the VIP's subnet to this instance`,
    };
  }
  const listed = await tryPermission("ListPrivateIps", "read private-ips", () =>
    api.listPrivateIps({ subnetId: vnic.subnetId, ipAddress: vip }, call),
  );
  if ("error" in listed) {
    return {
      id,
      ok: false,
      severity: "error",
      detail: `ListPrivateIps for ${vip} failed: ${describeError(listed.error)}`,
      ...(listed.missing ? { fix: "grant the permissions listed under `permissions`" } : {}),
    };
  }
  const existing = listed.value.find((item) => item.ipAddress === vip);
  if (!existing) {
    return {
      id,
      ok: true,
      severity: "info",
      detail: `${vip} is free in subnet ${vnic.subnetCidr}; the first start creates it on VNIC ${vnic.vnicId}`,
    };
  }
  if (existing.isPrimary) {
    return {
      id,
      ok: false,
      severity: "error",
      detail: `${vip} is the primary private IP of VNIC ${existing.vnicId ?? "(unknown)"}; primary IPs cannot move`,
      fix: `pick a free address in ${vnic.subnetCidr} for the VIP`,
    };
  }
  heldVips.push({ privateIpId: existing.id });
  const where =
    existing.vnicId === vnic.vnicId ? "this instance's VNIC" : `VNIC ${existing.vnicId ?? "(none)"}`;
  return {
    id,
    ok: true,
    severity: "info",
    detail: `${vip} exists as secondary private IP ${existing.id} on ${where}`,
  };
}

function authFailure(error: unknown, settings: OciSettings): CheckResult {
  const text = describeError(error);
  const skew = /clock|skew|minutes from the server/i.test(text);
  return {
    id: "auth",
    ok: false,
    severity: "error",
    detail: `the API did not accept this node's requests: ${text}`,
    fix: skew
      ? "the local clock is too far from OCI's: enable NTP (chronyd) and retry"
      : settings.auth === "instance_principal"
        ? `instance principal auth needs the instance's certificates from ${settings.metadataBaseUrl}identity/ and the federation endpoint${settings.federationEndpoint ? ` ${settings.federationEndpoint}` : ""}; check both are reachable, or use auth config_file`
        : "check the OCI config file (user, tenancy, fingerprint, key_file, region)",
  };
}

function permissionResult(permissions: Permission[], instance: InstanceMetadata): CheckResult {
  const missing = permissions.filter((permission) => permission.missing);
  const untested = permissions.filter((permission) => permission.note !== undefined);
  const tested = permissions.filter((permission) => !permission.missing && permission.note === undefined);
  const fix = permissionFix(instance.instanceId, instance.compartmentId);
  if (missing.length > 0) {
    return {
      id: "permissions",
      ok: false,
      severity: "error",
      detail: `missing IAM permission (404 NotAuthorizedOrNotFound) for ${missing.map((p) => `${p.operation} (${p.grant})`).join(", ")}`,
      fix,
    };
  }
  const passed = `allowed: ${tested.map((p) => p.operation).join(", ") || "(none tested)"}`;
  if (untested.length > 0) {
    return {
      id: "permissions",
      ok: true,
      severity: "warning",
      detail: `${passed}; ${untested.map((p) => `${p.operation} ${p.note ?? ""}`).join("; ")}`,
      fix,
    };
  }
  return { id: "permissions", ok: true, severity: "info", detail: passed };
}

/** Date header of the latest API answer against the local clock; 1 s resolution. */
export function clockSkewResult(sample: ServerClockSample | undefined): CheckResult {
  if (!sample)
    return {
      id: "clock-skew",
      ok: false,
      severity: "info",
      detail: "skipped: no API answer carried a Date header",
    };
  const skewMs = sample.localMs - sample.serverMs;
  const text = `local clock is ${Math.abs(Math.round(skewMs / 1000))} s ${skewMs >= 0 ? "ahead of" : "behind"} the API server`;
  if (Math.abs(skewMs) > SKEW_FAIL_MS) {
    return {
      id: "clock-skew",
      ok: false,
      severity: "error",
      detail: `${text}; OCI rejects signed requests beyond 5 minutes`,
      fix: "enable NTP (chronyd with the OCI time source 169.254.169.254) and retry",
    };
  }
  if (Math.abs(skewMs) > SKEW_WARN_MS) {
    return {
      id: "clock-skew",
      ok: false,
      severity: "warning",
      detail: `${text}; leases compare clocks across nodes`,
      fix: "enable NTP (chronyd with the OCI time source 169.254.169.254)",
    };
  }
  return { id: "clock-skew", ok: true, severity: "info", detail: text };
}

export function checkReport(results: CheckResult[]): CheckReport {
  const skipped = results.filter((r) => !r.ok && r.severity === "info").length;
  return {
    ok: !results.some((r) => r.severity === "error"),
    summary: {
      passed: results.filter((r) => r.ok && r.severity === "info").length,
      warnings: results.filter((r) => r.severity === "warning").length,
      errors: results.filter((r) => r.severity === "error").length,
      skipped,
    },
    results,
  };
}

/** Human output: one line per check, the fix indented under it, and a summary line. */
export function formatCheckText(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.id.length));
  const lines: string[] = [];
  for (const result of results) {
    const label =
      result.severity === "error"
        ? "FAIL"
        : result.severity === "warning"
          ? "WARN"
          : result.ok
            ? " OK "
            : "SKIP";
    lines.push(`[${label}] ${result.id.padEnd(width)}  ${result.detail}`);
    if (result.fix && (!result.ok || result.severity !== "info")) {
      const [first = "", ...rest] = result.fix.split("\n");
      lines.push(`       fix: ${first}`, ...rest.map((line) => `            ${line}`));
    }
  }
  const { summary, ok } = checkReport(results);
  lines.push(
    `${ok ? "OK" : "NOT READY"}: ${summary.passed} passed, ${summary.warnings} warning(s), ${summary.errors} error(s), ${summary.skipped} skipped`,
  );
  return lines.join("\n");
}
