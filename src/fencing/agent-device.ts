import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { outcomeOf } from "./exec-device.ts";
import { runFenceProgram } from "./agent-process.ts";
import { parseHostList, parseHostMap } from "./host-map.ts";
import type { DeviceOutcome, FenceAction, FenceDevice } from "./types.ts";

/** Where Debian's fence-agents package installs its agents. */
export const FENCE_AGENTS_DIR = "/usr/sbin";

/** Device parameters that belong to Pacemaker (and floatip), never passed to the agent. */
const PACEMAKER_PARAMS = /^pcmk_|^priority$|^provides$/;

export function fenceAgentPath(type: string, dir = FENCE_AGENTS_DIR): string | null {
  if (!/^fence_[A-Za-z0-9_]+$/.test(type)) return null;
  const path = join(dir, type);
  return existsSync(path) ? path : null;
}

/** The agents of the fence-agents package installed here, with their one-line descriptions. */
export function installedFenceAgents(dir = FENCE_AGENTS_DIR): { type: string; description: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^fence_[A-Za-z0-9_]+$/.test(n));
  } catch {
    return [];
  }
  return names.sort().map((type) => ({ type, description: shortDescription(join(dir, type)) }));
}

/**
 * fence-agents are Python scripts that set docs["shortdesc"]; reading it from the file avoids starting
 * a hundred interpreters just to list them.
 */
function shortDescription(path: string): string {
  try {
    const text = readFileSync(path, "utf8").slice(0, 200_000);
    const match = /docs\["shortdesc"\]\s*=\s*"([^"]+)"/.exec(text);
    return match?.[1] ?? "fence agent (fence-agents)";
  } catch {
    return "fence agent (fence-agents)";
  }
}

/**
 * Which parameter carries the target (Pacemaker's pcmk_host_argument): "plug", or "none" for agents
 * without a port option (fence_dummy). Read from the script, not by running it.
 */
function hostArgumentOf(path: string): string {
  try {
    const text = readFileSync(path, "utf8").slice(0, 200_000);
    const options = /device_opt\s*=\s*\[([^\]]*)\]/.exec(text)?.[1] ?? "";
    // fence-agents give every agent a port (plug) option unless its device_opt says "no_port".
    return /"no_port"/.test(options) ? "none" : "plug";
  } catch {
    return "plug";
  }
}

/**
 * An agent of the fence-agents package (/usr/sbin/fence_*), run the way Pacemaker's fencer runs it:
 * options as name=value lines on stdin (action=, the target as plug= unless pcmk_host_argument says
 * otherwise, then the device's own parameters), exit 0 for success, and for status 0 = on, 2 = off.
 */
export class FenceAgentDevice implements FenceDevice {
  readonly #path: string;
  readonly #params: Record<string, string>;
  readonly #map: Map<string, string>;
  readonly #list: string[] | null;
  readonly #hostArgument: string;

  constructor(
    readonly id: string,
    readonly type: string,
    params: Readonly<Record<string, string>>,
    dir = FENCE_AGENTS_DIR,
  ) {
    const path = fenceAgentPath(type, dir);
    if (path === null) {
      throw new Error(
        `FLOATIP_E_STONITH_INVALID: ${id}: fence agent ${type} is not installed in ${dir}; install fence-agents or use fence_oci or fence_exec`,
      );
    }
    this.#path = path;
    this.#params = Object.fromEntries(Object.entries(params).filter(([k]) => !PACEMAKER_PARAMS.test(k)));
    this.#map = parseHostMap(params["pcmk_host_map"] ?? "");
    this.#list = params["pcmk_host_list"] === undefined ? null : parseHostList(params["pcmk_host_list"]);
    this.#hostArgument = params["pcmk_host_argument"] ?? hostArgumentOf(path);
  }

  canFence(node: string): boolean {
    if (this.#map.has(node)) return true;
    if (this.#list !== null) return this.#list.includes(node);
    return this.#map.size === 0;
  }

  async run(
    node: string,
    action: FenceAction,
    options: { timeoutMs: number; signal: AbortSignal },
  ): Promise<DeviceOutcome> {
    const lines = [`action=${action}`];
    if (this.#hostArgument !== "none") lines.push(`${this.#hostArgument}=${this.#map.get(node) ?? node}`);
    for (const [name, value] of Object.entries(this.#params)) lines.push(`${name}=${value}`);
    const outcome = await runFenceProgram(this.#path, [], {
      input: `${lines.join("\n")}\n`,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
    return outcomeOf(basename(this.#path), action, outcome, options.timeoutMs);
  }
}
