import { setFlagsFromString } from "node:v8";

/**
 * V8 tuning for the long-running daemon, applied before anything else loads: main.ts imports this module
 * first, and `floatip daemon` is started as `node bin/floatip.mjs daemon` (systemd) or `node main.js daemon`
 * (test beds), neither of which can pass V8 flags (NODE_OPTIONS refuses most of them).
 *
 * The young generation starts at 1 MB per semi-space and V8 grows it to 16 MB while the CLI and the OCI
 * SDK load (thousands of modules); an idle daemon then keeps those pages. Pinning the growth factor to 1
 * keeps it at its start size: ~13 MB less RSS, for a few more scavenges of well under a millisecond.
 *
 * An idle daemon's work is the heartbeat: a few small functions run five times a second, which spend
 * V8's default interrupt budget (66 KB of bytecode) so slowly that they were still running as baseline
 * code minutes after start. A quarter of it gets them optimised within the first minute: idle CPU at
 * 1 VIP 0.35-0.37 % of a core against 0.47-0.51 % (bench:footprint, 2026-11-26, 180 s windows).
 */
export const DAEMON_V8_FLAGS = ["--semi-space-growth-factor=1", "--interrupt-budget=16384"] as const;

/**
 * Once started, the young generation may grow again under load: at 200 VIPs the daemon allocates ~15 MB/s
 * (reports, SDK calls), and a 1 MB young generation meant ~15 scavenges a second, ~3 % of a core
 * (bench:footprint, 2026-11-26: 658 scavenges in 45 s, 73 with growth allowed). An idle daemon does not
 * allocate enough to grow it (1 VIP: RSS unchanged, 82-83 MB).
 */
export const GROWTH_ALLOWED_AFTER_MS = 30_000;

export function allowYoungGenerationGrowth(): void {
  setFlagsFromString("--semi-space-growth-factor=2");
}

/** The command word of a floatip command line (the first word that is not a global option or its value). */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--socket") i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

/** Whether this process is `floatip daemon`: the one set-up modules (V8 tuning, node-fetch) tune for. */
export const isDaemonProcess = commandWord(process.argv.slice(2)) === "daemon";

if (isDaemonProcess) {
  for (const flag of DAEMON_V8_FLAGS) setFlagsFromString(flag);
  setTimeout(allowYoungGenerationGrowth, GROWTH_ALLOWED_AFTER_MS).unref();
}
