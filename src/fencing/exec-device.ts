import { parseHostList } from "./host-map.ts";
import { lastLine, runFenceProgram } from "./agent-process.ts";
import type { DeviceOutcome, FenceAction, FenceDevice } from "./types.ts";

export const FENCE_EXEC_TYPE = "fence_exec";

/** Problems with fence_exec parameters, one line each. */
export function validateExecParams(params: Readonly<Record<string, string>>): string[] {
  const command = params["command"];
  if (command === undefined) return ["fence_exec needs command=/absolute/path"];
  if (!command.startsWith("/")) return [`command=${command} must be an absolute path`];
  return [];
}

/**
 * fence_exec: a site script, run as `command NODE ACTION` without a shell (FLOATIP_FENCE_NODE and
 * FLOATIP_FENCE_ACTION in its environment as well). Exit 0 is success; for status, 0 means powered on
 * and 2 powered off, as with fence-agents; anything else is a failure, reported with its last output line.
 */
export class ExecFenceDevice implements FenceDevice {
  readonly type = FENCE_EXEC_TYPE;
  readonly #command: string;
  readonly #targets: string[] | null;

  constructor(
    readonly id: string,
    params: Readonly<Record<string, string>>,
  ) {
    const problems = validateExecParams(params);
    if (problems.length > 0) throw new Error(`FLOATIP_E_STONITH_INVALID: ${id}: ${problems.join("; ")}`);
    this.#command = params["command"] ?? "";
    this.#targets = params["pcmk_host_list"] === undefined ? null : parseHostList(params["pcmk_host_list"]);
  }

  canFence(node: string): boolean {
    return this.#targets === null || this.#targets.includes(node);
  }

  async run(
    node: string,
    action: FenceAction,
    options: { timeoutMs: number; signal: AbortSignal },
  ): Promise<DeviceOutcome> {
    const outcome = await runFenceProgram(this.#command, [node, action], {
      env: { ...process.env, FLOATIP_FENCE_NODE: node, FLOATIP_FENCE_ACTION: action },
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
    return outcomeOf(this.#command, action, outcome, options.timeoutMs);
  }
}

/** Exit-status semantics shared by fence_exec and fence-agents (0 ok / on, 2 off for status). */
export function outcomeOf(
  program: string,
  action: FenceAction,
  outcome: Awaited<ReturnType<typeof runFenceProgram>>,
  timeoutMs: number,
): DeviceOutcome {
  if ("spawnError" in outcome) return { ok: false, message: outcome.spawnError };
  if ("timedOut" in outcome)
    return { ok: false, message: `${program} did not finish within ${timeoutMs} ms and was killed` };
  if ("aborted" in outcome) return { ok: false, message: `${program} was cancelled` };
  const said = lastLine(outcome.output);
  const suffix = said ? `: ${said}` : "";
  if (action === "status") {
    if (outcome.code === 0) return { ok: true, power: "on", message: `powered on${suffix}` };
    if (outcome.code === 2) return { ok: true, power: "off", message: `powered off${suffix}` };
    return { ok: false, power: "unknown", message: `${program} status exited ${outcome.code}${suffix}` };
  }
  if (outcome.code === 0) {
    const power = action === "off" ? "off" : "on";
    return { ok: true, power, message: `${action} succeeded${suffix}` };
  }
  return { ok: false, message: `${program} ${action} exited ${outcome.code}${suffix}` };
}
