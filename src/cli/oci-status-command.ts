import type { Command } from "commander";
import type { InspectResult } from "../cloud/oci/private-ip-mover.ts";
import { isIpv4 } from "../config/ipv4.ts";
import { UsageError } from "./pcs-args.ts";

/**
 * `floatip oci status <vip> [--json]`: where the cloud says the VIP is, read once, for scripts such as the
 * ocf:floatip:oci-vip resource agent. It never changes anything. The exit code tells a script what it may
 * conclude, and a cloud that cannot be asked is kept apart from "not here":
 *   0  the VIP is on this instance's VNIC
 *   2  it is not here: another VNIC holds it, or no private IP with that address exists
 *   3  unknown: the cloud could not be asked (outage, throttling, timeout, auth); no evidence either way
 *   1  configuration or usage error (bad address, VIP outside this instance's subnets, primary IP, settings)
 */

export const STATUS_EXIT = { here: 0, error: 1, notHere: 2, unknown: 3 } as const;

export interface OciStatusDeps {
  /** Reads the VIP's holder; the default builds the OCI runtime from FLOATIP_OCI_* env vars. */
  inspect(vip: string): Promise<InspectResult>;
  out(text: string): void;
  err(text: string): void;
}

/** Errors that more tries cannot fix: the set-up is wrong, not the cloud unreachable. */
const CONFIGURATION_CODES = new Set([
  "FLOATIP_E_OCI_SETTINGS_INVALID",
  "FLOATIP_E_VIP_NOT_IN_SUBNET",
  "FLOATIP_E_VIP_IS_PRIMARY",
  "FLOATIP_E_OCI_AMBIGUOUS",
]);

/** inspect() through createOciRuntime(settingsFromEnv(env)); the SDK is loaded only when called. */
export function inspectFromEnv(env: NodeJS.ProcessEnv): OciStatusDeps["inspect"] {
  return async (vip) => {
    const [{ createOciRuntime }, { settingsFromEnv }, { systemClock }, { createLogger }] = await Promise.all([
      import("../cloud/oci/oci-runtime.ts"),
      import("../cloud/oci/settings.ts"),
      import("../clock/system-clock.ts"),
      import("../observability/logger.ts"),
    ]);
    const logger = createLogger({ name: "floatip-oci-status", level: env["FLOATIP_LOG_LEVEL"] ?? "warn" });
    const runtime = createOciRuntime(settingsFromEnv(env), { clock: systemClock, logger });
    try {
      return await runtime.mover.inspect(vip);
    } finally {
      runtime.close();
    }
  };
}

const defaultDeps: OciStatusDeps = {
  inspect: inspectFromEnv(process.env),
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export interface StatusReport {
  vip: string;
  state: "here" | "elsewhere" | "absent" | "unknown" | "error";
  ours: boolean;
  holderInstanceId?: string;
  holderVnicId?: string;
  privateIpId?: string;
  epoch?: number;
  leaseUntil?: number;
  /** This node held the VIP and another holder took it with a newer epoch. */
  displaced?: boolean;
  error?: { code: string; message: string };
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("FLOATIP_E_") ? code : "FLOATIP_E_OCI_API";
}

/** Pure: the inspection as a report and the exit code that goes with it. */
export function statusReport(vip: string, seen: InspectResult): { report: StatusReport; exit: number } {
  if (seen.state === "absent") {
    return { report: { vip, state: "absent", ours: false }, exit: STATUS_EXIT.notHere };
  }
  if (seen.state === "unknown") {
    const code = codeOf(seen.error);
    const configuration = CONFIGURATION_CODES.has(code);
    const message = seen.reason.startsWith(code) ? seen.reason : `${code}: ${seen.reason}`;
    return {
      report: { vip, state: configuration ? "error" : "unknown", ours: false, error: { code, message } },
      exit: configuration ? STATUS_EXIT.error : STATUS_EXIT.unknown,
    };
  }
  const report: StatusReport = {
    vip,
    state: seen.ours ? "here" : "elsewhere",
    ours: seen.ours,
    ...(seen.holderInstanceId === undefined ? {} : { holderInstanceId: seen.holderInstanceId }),
    ...(seen.holderVnicId === undefined ? {} : { holderVnicId: seen.holderVnicId }),
    privateIpId: seen.privateIpId,
    epoch: seen.epoch,
    leaseUntil: seen.leaseUntil,
    displaced: seen.displaced,
  };
  return { report, exit: seen.ours ? STATUS_EXIT.here : STATUS_EXIT.notHere };
}

function leaseText(leaseUntil: number | undefined): string {
  return leaseUntil ? `lease until ${new Date(leaseUntil).toISOString()}` : "no lease";
}

export function describeStatus(report: StatusReport): string {
  switch (report.state) {
    case "here":
      return `${report.vip}: on this instance (VNIC ${report.holderVnicId ?? "?"}, epoch ${report.epoch ?? 0}, ${leaseText(report.leaseUntil)})`;
    case "elsewhere":
      return `${report.vip}: held by ${report.holderInstanceId ?? "another instance"} (VNIC ${report.holderVnicId ?? "none"}, epoch ${report.epoch ?? 0}, ${leaseText(report.leaseUntil)})${report.displaced === true ? "; it displaced this instance" : ""}`;
    case "absent":
      return `${report.vip}: no private IP with this address exists in the subnet (a move creates it)`;
    case "unknown":
      return `${report.vip}: unknown, the cloud could not be asked: ${report.error?.message ?? ""}`;
    case "error":
      return report.error?.message ?? `${report.vip}: error`;
  }
}

/** Runs the read; returns the exit code. Usage errors are thrown (the CLI prints them). */
export async function runOciStatus(
  vip: string,
  opts: { json?: boolean },
  deps: OciStatusDeps,
): Promise<number> {
  if (!isIpv4(vip)) throw new UsageError(`'${vip}' is not an IPv4 address: oci status <vip> [--json]`);
  let seen: InspectResult;
  try {
    seen = await deps.inspect(vip);
  } catch (error) {
    // Only settings and SDK start-up throw here; inspect() reports cloud errors as "unknown".
    const message = error instanceof Error ? error.message : String(error);
    seen = { state: "unknown", reason: message, error };
  }
  const { report, exit } = statusReport(vip, seen);
  if (opts.json === true) deps.out(`${JSON.stringify(report)}\n`);
  else if (report.state === "unknown" || report.state === "error")
    deps.err(`Error: ${describeStatus(report)}\n`);
  else deps.out(`${describeStatus(report)}\n`);
  return exit;
}

export function registerOciStatusCommand(oci: Command, deps: OciStatusDeps = defaultDeps): Command {
  return oci
    .command("status")
    .description(
      "show where the cloud says a VIP is (exit 0 here, 2 not here, 3 unknown: cloud not reachable, 1 error)",
    )
    .argument("<vip>", "the VIP, e.g. 10.0.0.200")
    .action(async (vip: string, _opts: unknown, cmd: Command) => {
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      const code = await runOciStatus(vip, { json }, deps);
      if (code !== 0) process.exitCode = code;
    });
}
