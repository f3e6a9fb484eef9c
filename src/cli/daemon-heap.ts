import { setFlagsFromString } from "node:v8";

/**
 * V8 tuning for the long-running daemon, applied before anything else loads: main.ts imports this module
 * first, and `floatip daemon` is started as `node bin/floatip.mjs daemon` (systemd) or `node main.js daemon`
 * (test beds), neither of which can pass V8 flags (NODE_OPTIONS refuses most of them).
 *
 * The young generation starts at 1 MB per semi-space and V8 grows it to 16 MB while the CLI and the OCI
 * SDK load (thousands of modules); an idle daemon then keeps those pages. Pinning the growth factor to 1
 * keeps it at its start size: ~13 MB less RSS, for a few more scavenges of well under a millisecond.
 */
export const DAEMON_V8_FLAGS = ["--semi-space-growth-factor=1"] as const;

/** The command word of a floatip command line (the first word that is not a global option or its value). */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--socket") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

if (commandWord(process.argv.slice(2)) === "daemon")
  for (const flag of DAEMON_V8_FLAGS) setFlagsFromString(flag);
