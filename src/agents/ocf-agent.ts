import type { AgentContext, AgentResult, AgentState, ResourceAgent } from "./agent.ts";
import { lastLine, runProcessGroup, type GroupRunOutcome } from "./exec-check.ts";
import {
  DEFAULT_OCF_ROOT,
  ocfEnvironment,
  ocfInvocation,
  ocfScriptPath,
  parseOcfType,
  readOcfMetadata,
  validateOcfParams,
  type OcfMetadata,
  type OcfType,
} from "./ocf-metadata.ts";

/**
 * Runs a real OCF resource agent script (`<root>/resource.d/<provider>/<agent> <action>`) as Pacemaker's
 * executor does: parameters as OCF_RESKEY_*, the operation's timeout and interval as CRM_meta values,
 * and the exit code mapped to an AgentResult that names the OCF code.
 */

/** OCF return codes (OCF resource agent API 1.1, ocf-returncodes). */
export const OCF_EXIT_NAMES: Readonly<Record<number, string>> = {
  0: "OCF_SUCCESS",
  1: "OCF_ERR_GENERIC",
  2: "OCF_ERR_ARGS",
  3: "OCF_ERR_UNIMPLEMENTED",
  4: "OCF_ERR_PERM",
  5: "OCF_ERR_INSTALLED",
  6: "OCF_ERR_CONFIGURED",
  7: "OCF_NOT_RUNNING",
  8: "OCF_RUNNING_MASTER",
  9: "OCF_FAILED_MASTER",
};

type OcfOperation = "start" | "stop" | "monitor" | "probe";

export interface OcfAgentOptions {
  /** OCF_ROOT (default /usr/lib/ocf). */
  root?: string;
  /** OCF_RESKEY_CRM_meta_timeout per operation and the deadline after which the script is killed (default 20 s). */
  timeoutsMs?: Partial<Record<"start" | "stop" | "monitor", number>>;
  /** OCF_RESKEY_CRM_meta_interval of recurring monitors (default 10 s); probes always pass 0. */
  monitorIntervalMs?: number;
  /** The agent's meta-data; when given, validate() checks params against it (see OcfAgent.load). */
  metadata?: OcfMetadata;
  /** Tests only: run the script inside this network namespace through `ip netns exec`. */
  netns?: string;
  /**
   * HA_RSCTMP, where agents keep their run-time state (default /run/resource-agents, as ocf-directories
   * sets it). Several floatip nodes on one host (a test bed) each need their own.
   */
  rscTmpDir?: string;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_MONITOR_INTERVAL_MS = 10_000;
// Environment variable names; a parameter called e.g. "a-b" could not reach the script as OCF_RESKEY_a-b.
const paramNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What an exit code means for one operation; `code` is the script's exit status. */
export function mapOcfExit(op: OcfOperation, code: number, stderr: string): AgentResult {
  const name = OCF_EXIT_NAMES[code] ?? "unknown exit code";
  const said = lastLine(stderr);
  const detail = `${name} (${code})${said === "" ? "" : `: ${said}`}`;
  const result = (state: AgentState): AgentResult => ({ state, message: detail });
  if (op === "start") return result(code === 0 ? "running" : "failed");
  // A stop of something already stopped reached its goal, as Pacemaker treats it.
  if (op === "stop") return result(code === 0 || code === 7 ? "stopped" : "failed");
  if (code === 0 || code === 8) return result("running");
  // Not running: for a monitor of a started resource the caller counts this as a failure.
  if (code === 7) return result("stopped");
  // A probe on a node without the software (or its configuration) means "not here", as in Pacemaker.
  if (op === "probe" && (code === 5 || code === 6)) return result("stopped");
  return result("failed");
}

/** Checks parameter names and values that could not reach a script at all; meta-data checks the rest. */
function validateEnvironmentNames(params: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (!paramNamePattern.test(name)) {
      problems.push(
        `${name} is not a valid OCF parameter name; use letters, digits and '_' (e.g. cidr_netmask)`,
      );
    }
    if (value.includes("\0"))
      problems.push(`${name} contains a NUL character, which no agent can receive; remove it`);
  }
  return problems;
}

export class OcfAgent implements ResourceAgent {
  readonly type: string;
  private readonly ocfType: OcfType;
  private readonly root: string;
  private readonly script: string;
  private readonly options: OcfAgentOptions;

  /** Throws OcfMetadataError (FLOATIP_E_AGENT_UNKNOWN) when `type` is not ocf:<provider>:<agent>. */
  constructor(type: string, options: OcfAgentOptions = {}) {
    this.type = type;
    this.ocfType = parseOcfType(type);
    this.root = options.root ?? DEFAULT_OCF_ROOT;
    this.script = ocfScriptPath(this.root, this.ocfType);
    this.options = options;
  }

  /** An agent whose validate() knows the agent's parameters, read from its meta-data. */
  static async load(
    type: string,
    options: Omit<OcfAgentOptions, "metadata"> & { signal?: AbortSignal } = {},
  ): Promise<OcfAgent> {
    const { signal, ...agentOptions } = options;
    const metadata = await readOcfMetadata(type, {
      ...(agentOptions.root !== undefined ? { root: agentOptions.root } : {}),
      ...(agentOptions.netns !== undefined ? { netns: agentOptions.netns } : {}),
      ...(signal !== undefined ? { signal } : {}),
    });
    return new OcfAgent(type, { ...agentOptions, metadata });
  }

  validate(params: Readonly<Record<string, string>>): string[] {
    const problems = validateEnvironmentNames(params);
    if (this.options.metadata !== undefined)
      problems.push(...validateOcfParams(this.options.metadata, params));
    return problems;
  }

  async start(ctx: AgentContext): Promise<AgentResult> {
    return this.run("start", ctx);
  }

  async stop(ctx: AgentContext): Promise<AgentResult> {
    return this.run("stop", ctx);
  }

  async monitor(ctx: AgentContext): Promise<AgentResult> {
    return this.run("monitor", ctx);
  }

  /** A monitor with interval 0, which agents treat as the one-shot probe; "not running" is "stopped". */
  async probe(ctx: AgentContext): Promise<AgentResult> {
    return this.run("probe", ctx);
  }

  private timeoutMs(op: OcfOperation): number {
    return this.options.timeoutsMs?.[op === "probe" ? "monitor" : op] ?? DEFAULT_TIMEOUT_MS;
  }

  /** The environment of one operation, as pacemaker-execd builds it. */
  environment(op: OcfOperation, ctx: AgentContext): NodeJS.ProcessEnv {
    const extra: Record<string, string> = {
      OCF_RESOURCE_INSTANCE: ctx.resourceId,
      OCF_RESOURCE_TYPE: this.ocfType.agent,
      OCF_RESOURCE_PROVIDER: this.ocfType.provider,
      OCF_RESKEY_CRM_meta_timeout: String(this.timeoutMs(op)),
      ...(this.options.rscTmpDir !== undefined ? { HA_RSCTMP: this.options.rscTmpDir } : {}),
    };
    for (const [name, value] of Object.entries(ctx.params)) extra[`OCF_RESKEY_${name}`] = value;
    if (op === "monitor" || op === "probe") {
      const interval = op === "probe" ? 0 : (this.options.monitorIntervalMs ?? DEFAULT_MONITOR_INTERVAL_MS);
      extra.OCF_RESKEY_CRM_meta_interval = String(interval);
    }
    return ocfEnvironment(this.root, extra);
  }

  private async run(op: OcfOperation, ctx: AgentContext): Promise<AgentResult> {
    const problems = validateEnvironmentNames(ctx.params);
    if (problems.length > 0) return { state: "failed", message: `FLOATIP_E_PARAM: ${problems.join("; ")}` };
    const action = op === "probe" ? "monitor" : op;
    const { cmd, args } = ocfInvocation(this.script, action, this.options.netns);
    const outcome = await runProcessGroup(cmd, args, {
      timeoutMs: this.timeoutMs(op),
      signal: ctx.signal,
      env: this.environment(op, ctx),
    });
    return this.interpret(op, outcome);
  }

  private interpret(op: OcfOperation, outcome: GroupRunOutcome): AgentResult {
    // A monitor that could not finish has no evidence either way; a start or stop that could not is a failure.
    const unfinished: AgentState = op === "monitor" || op === "probe" ? "unknown" : "failed";
    switch (outcome.kind) {
      case "exited":
        return mapOcfExit(op, outcome.code, outcome.stderr);
      case "timeout":
        return {
          state: unfinished,
          message: `FLOATIP_E_OCF_TIMEOUT: ${this.type} ${op} did not finish within ${this.timeoutMs(op)} ms and was killed; raise the operation timeout or check the agent`,
        };
      case "aborted":
        return { state: unfinished, message: `${this.type} ${op} was cancelled and killed` };
      case "spawn-error": {
        const message = `FLOATIP_E_AGENT_UNKNOWN: cannot run ${this.script} (${outcome.errno}); install the package that provides ${this.type} (resource-agents for ocf:heartbeat:*) or fix the type`;
        // As OCF_ERR_INSTALLED: where the agent is not installed nothing of it runs, so probe and stop say stopped.
        return { state: op === "probe" || op === "stop" ? "stopped" : "failed", message };
      }
    }
  }
}
