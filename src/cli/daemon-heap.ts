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
 * code minutes after start. A quarter of it gets them optimised within the first minute, for about a
 * quarter less idle CPU (bench/README.md, Findings).
 */
export const DAEMON_V8_FLAGS = ["--semi-space-growth-factor=1", "--interrupt-budget=16384"] as const;

/**
 * Once started, the young generation may grow again: under load (200 VIPs: reports, SDK calls) a 1 MB
 * young generation means a scavenge many times a second, which costs more CPU than the pages it saves;
 * an idle daemon does not allocate enough to grow it (bench/README.md, Findings).
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
