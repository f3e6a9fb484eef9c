import type { Command } from "commander";
import type { ClaimMode, ClaimResult } from "../cloud/oci/private-ip-mover.ts";
import { isIpv4 } from "../config/ipv4.ts";
import { UsageError } from "./pcs-args.ts";

/**
 * `floatip oci move <vip> [--force] [--json]`: a one-shot claim of the VIP for this instance through the
 * cloud layer (the same safe move the daemon does: ETag-guarded write, epoch, read-back), for scripts
 * such as a keepalived notify_master hook. It does not configure the address on the interface.
 * Exit 0 when the VIP is on this instance's VNIC afterwards (created, moved, already), 1 otherwise.
 */

export interface OciMoveDeps {
  /** Claims `vip` for this instance; the default builds the OCI runtime from FLOATIP_OCI_* env vars. */
  claim(vip: string, mode: ClaimMode): Promise<ClaimResult>;
  out(text: string): void;
  err(text: string): void;
}

/** The claim through createOciRuntime(settingsFromEnv(env)); the SDK is loaded only when called. */
export function claimFromEnv(env: NodeJS.ProcessEnv): OciMoveDeps["claim"] {
  return async (vip, mode) => {
    const [{ createOciRuntime }, { settingsFromEnv }, { systemClock }, { createLogger }] = await Promise.all([
      import("../cloud/oci/oci-runtime.ts"),
      import("../cloud/oci/settings.ts"),
      import("../clock/system-clock.ts"),
      import("../observability/logger.ts"),
    ]);
    const logger = createLogger({ name: "floatip-oci-move", level: env["FLOATIP_LOG_LEVEL"] ?? "warn" });
    const runtime = createOciRuntime(settingsFromEnv(env), { clock: systemClock, logger });
    try {
      return await runtime.mover.claim(vip, { mode });
    } finally {
      runtime.close();
    }
  };
}

const defaultDeps: OciMoveDeps = {
  claim: claimFromEnv(process.env),
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** One line per outcome; success means the VIP is on this instance's VNIC now. */
export function describeClaim(vip: string, result: ClaimResult): { ok: boolean; line: string } {
  switch (result.outcome) {
    case "created":
      return { ok: true, line: `${vip}: created on this instance (epoch ${result.epoch})` };
    case "moved":
      return { ok: true, line: `${vip}: moved to this instance (epoch ${result.epoch})` };
    case "already":
      return { ok: true, line: `${vip}: already on this instance (epoch ${result.epoch})` };
    case "held-elsewhere":
      return {
        ok: false,
        line: `FLOATIP_E_VIP_HELD_ELSEWHERE: ${vip} is held by ${result.holderInstanceId ?? "another instance"} whose lease runs until ${new Date(result.leaseUntil).toISOString()}; this instance was displaced and does not take it back: use --force to take it anyway`,
      };
    case "lost-race":
      return {
        ok: false,
        line: `FLOATIP_E_OCI_CONFLICT: ${vip} was moved to ${result.holderInstanceId ?? "another instance"} (epoch ${result.epoch}) while this instance tried to claim it; nothing changed here`,
      };
  }
}

/** Runs the move; returns the exit code. Usage errors are thrown (the CLI prints them). */
export async function runOciMove(
  vip: string,
  opts: { force?: boolean; json?: boolean },
  deps: OciMoveDeps,
): Promise<number> {
  if (!isIpv4(vip)) throw new UsageError(`'${vip}' is not an IPv4 address: oci move <vip> [--force]`);
  const mode: ClaimMode = opts.force === true ? "force" : "normal";
  let result: ClaimResult;
  try {
    result = await deps.claim(vip, mode);
  } catch (error) {
    const coded = error as { code?: unknown; message?: unknown };
    const message = typeof coded.message === "string" ? coded.message : String(error);
    if (opts.json === true) {
      const code = typeof coded.code === "string" ? coded.code : "FLOATIP_E_OCI_API";
      deps.out(`${JSON.stringify({ vip, mode, ok: false, error: { code, message } })}\n`);
    } else {
      deps.err(`Error: ${message}\n`);
    }
    return 1;
  }
  const { ok, line } = describeClaim(vip, result);
  if (opts.json === true) deps.out(`${JSON.stringify({ vip, mode, ok, ...result })}\n`);
  else if (ok) deps.out(`${line}\n`);
  else deps.err(`Error: ${line}\n`);
  return ok ? 0 : 1;
}

export function registerOciMoveCommand(oci: Command, deps: OciMoveDeps = defaultDeps): Command {
  return oci
    .command("move")
    .description("claim a VIP (secondary private IP) for this instance in the cloud, once, and exit")
    .argument("<vip>", "the VIP, e.g. 10.0.0.200")
    .option("--force", "take the VIP even from a holder whose lease still runs after it displaced this node")
    .action(async (vip: string, opts: { force?: boolean }, cmd: Command) => {
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      const code = await runOciMove(vip, { force: opts.force === true, json }, deps);
      if (code !== 0) process.exitCode = code;
    });
}
