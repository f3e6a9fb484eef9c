import type { Command } from "commander";
import { ApiCallError, callApi, type Endpoint } from "../api/client.ts";
import type { StatusSnapshot } from "../api/status-types.ts";
import { ConfigCommandError, formatScore, parseLifetime, parseScore } from "../config/commands.ts";
import type {
  ClusterConfig,
  ColocationConstraint,
  LocationConstraint,
  OrderConstraint,
} from "../config/schema.ts";
import { parseResourceArgs, UsageError, type ResourceArgs } from "./pcs-args.ts";

/**
 * pcs 0.10 resource-manager commands: resource update|defaults|meta|enable|disable|group|ungroup|move|
 * ban|clear, constraint ..., property ..., node standby|unstandby. The argument parsers are pure and
 * exported for tests; the commands send one admin call each and print what pcs prints.
 */

// ------------------------------------------------------------------------------------ argument parsers

function nameValue(word: string): [string, string] {
  const eq = word.indexOf("=");
  if (eq <= 0) throw new UsageError(`'${word}' is not of the form name=value`);
  return [word.slice(0, eq), word.slice(eq + 1)];
}

/** `a=1 b= c=x`: an empty value means remove. At least one pair. */
export function parseNameValues(words: readonly string[], usage: string): Record<string, string> {
  if (words.length === 0) throw new UsageError(`nothing to set; usage: ${usage}`);
  const out: Record<string, string> = {};
  for (const word of words) {
    const [key, value] = nameValue(word);
    out[key] = value;
  }
  return out;
}

/** resource update R [k=v...] [op ...] [meta k=v...] */
export function parseUpdateArgs(words: readonly string[]): ResourceArgs {
  const args = parseResourceArgs(words);
  if (Object.keys(args.params).length + Object.keys(args.meta).length + args.ops.length === 0) {
    throw new UsageError(
      "nothing to update; usage: resource update R [name=value...] [op ...] [meta name=value...]",
    );
  }
  return args;
}

export type DefaultsArgs =
  { action: "list" } | { action: "update"; values: Record<string, string>; deprecated: boolean };

/** resource defaults [config] | defaults update k=v... | (deprecated) defaults k=v... */
export function parseDefaultsArgs(words: readonly string[]): DefaultsArgs {
  const [first, ...rest] = words;
  if (first === undefined || (first === "config" && rest.length === 0)) return { action: "list" };
  const usage = "resource defaults update name=value...";
  if (first === "update")
    return { action: "update", values: parseNameValues(rest, usage), deprecated: false };
  return { action: "update", values: parseNameValues(words, usage), deprecated: true };
}

/** Checks a lifetime= value the way the daemon will, so a typo is a usage error before any call. */
function lifetimeArg(value: string): string {
  try {
    parseLifetime(value);
  } catch (error) {
    if (error instanceof ConfigCommandError) throw new UsageError(error.message);
    throw error;
  }
  return value;
}

export interface MoveArgs {
  id: string;
  node?: string;
  lifetime?: string;
}

/** resource move|ban R [node] [lifetime=DUR] */
export function parseMoveArgs(words: readonly string[], verb: "move" | "ban"): MoveArgs {
  const usage = `usage: resource ${verb} <resource id> [node] [lifetime=<lifetime>]`;
  const [id, ...rest] = words;
  if (id === undefined || id.includes("=")) throw new UsageError(`a resource id is required; ${usage}`);
  const out: MoveArgs = { id };
  for (const word of rest) {
    if (word.startsWith("lifetime=")) {
      if (out.lifetime !== undefined) throw new UsageError(`lifetime= is given more than once; ${usage}`);
      out.lifetime = lifetimeArg(word.slice("lifetime=".length));
    } else if (word.includes("=")) {
      throw new UsageError(`unknown option '${word}'; ${usage}`);
    } else if (out.node === undefined && out.lifetime === undefined) {
      out.node = word;
    } else {
      throw new UsageError(`unexpected '${word}'; ${usage}`);
    }
  }
  return out;
}

/** resource clear R [node] */
export function parseClearArgs(words: readonly string[]): { id: string; node?: string } {
  const [id, node, ...extra] = words;
  if (id === undefined || extra.length > 0) {
    throw new UsageError("usage: resource clear <resource id> [node]");
  }
  return node === undefined ? { id } : { id, node };
}

export interface GroupAddArgs {
  group: string;
  resources: string[];
  before?: string;
  after?: string;
}

/** resource group add G R... [--before R | --after R] */
export function parseGroupAddArgs(
  words: readonly string[],
  position: { before?: string; after?: string },
): GroupAddArgs {
  const [group, ...resources] = words;
  if (group === undefined || resources.length === 0) {
    throw new UsageError(
      "usage: resource group add <group id> <resource id>... [--before <id> | --after <id>]",
    );
  }
  if (position.before !== undefined && position.after !== undefined) {
    throw new UsageError("you cannot specify both --before and --after");
  }
  return {
    group,
    resources,
    ...(position.before === undefined ? {} : { before: position.before }),
    ...(position.after === undefined ? {} : { after: position.after }),
  };
}

function scoreArg(text: string): string {
  try {
    parseScore(text);
  } catch {
    throw new UsageError(`invalid score '${text}', use integer or INFINITY or -INFINITY`);
  }
  return text;
}

export type LocationArgs =
  | { action: "list" }
  | { action: "remove"; ids: string[] }
  | {
      action: "add";
      resource: string;
      mode: "prefers" | "avoids";
      nodes: { node: string; score?: string }[];
    };

/** constraint location [config] | location remove ID... | location R prefers|avoids node[=score]... */
export function parseLocationArgs(words: readonly string[]): LocationArgs {
  const usage = "usage: constraint location <resource id> prefers|avoids <node>[=<score>]...";
  const [first, second, ...rest] = words;
  if (first === undefined || (["config", "show"].includes(first) && second === undefined)) {
    return { action: "list" };
  }
  if (
    (first === "remove" || first === "delete") &&
    second !== undefined &&
    !["prefers", "avoids"].includes(second)
  ) {
    return { action: "remove", ids: [second, ...rest] };
  }
  if (second === "rule") throw new UsageError("location rules are not supported; use prefers or avoids");
  if (second !== "prefers" && second !== "avoids") throw new UsageError(usage);
  if (rest.length === 0) throw new UsageError(`at least one node is required; ${usage}`);
  const nodes = rest.map((word) => {
    const eq = word.indexOf("=");
    if (eq === 0) throw new UsageError(`'${word}' has no node name; ${usage}`);
    if (eq === -1) return { node: word };
    const score = word.slice(eq + 1);
    return score === "" ? { node: word.slice(0, eq) } : { node: word.slice(0, eq), score: scoreArg(score) };
  });
  return { action: "add", resource: first, mode: second, nodes };
}

const ROLES = ["started", "stopped", "promoted", "unpromoted", "master", "slave"];
const isRole = (word: string | undefined) => word !== undefined && ROLES.includes(word.toLowerCase());

function onlyStartedRole(word: string): void {
  if (word.toLowerCase() !== "started") {
    throw new UsageError(`role '${word}' is not supported; floatip resources only have the Started role`);
  }
}

export type ColocationArgs =
  | { action: "list" }
  | { action: "remove"; resource: string; withResource: string }
  | { action: "add"; resource: string; withResource: string; score?: string; id?: string };

/** constraint colocation [config] | colocation add [role] R with [role] R2 [score] [id=ID] | colocation remove R R2 */
export function parseColocationArgs(words: readonly string[]): ColocationArgs {
  const usage =
    "usage: constraint colocation add <resource id> with <resource id> [score] [id=<constraint id>]";
  const [sub, ...rest] = words;
  if (sub === undefined || (["config", "show"].includes(sub) && rest.length === 0)) return { action: "list" };
  if (sub === "remove" || sub === "delete") {
    const [resource, withResource, ...extra] = rest;
    if (resource === undefined || withResource === undefined || extra.length > 0) {
      throw new UsageError("usage: constraint colocation remove <source resource id> <target resource id>");
    }
    return { action: "remove", resource, withResource };
  }
  if (sub !== "add") throw new UsageError(usage);
  const tokens = [...rest];
  if (tokens[2] === "with" && isRole(tokens[0])) onlyStartedRole(tokens.shift() ?? "");
  const resource = tokens.shift();
  if (resource === undefined || tokens.shift() !== "with") throw new UsageError(usage);
  if (isRole(tokens[0]) && tokens[1] !== undefined && !tokens[1].includes("=") && !parseScoreOk(tokens[1])) {
    onlyStartedRole(tokens.shift() ?? "");
  }
  const withResource = tokens.shift();
  if (withResource === undefined) throw new UsageError(usage);
  const out: ColocationArgs = { action: "add", resource, withResource };
  if (tokens[0] !== undefined && !tokens[0].includes("=")) out.score = scoreArg(tokens.shift() ?? "");
  for (const word of tokens) {
    const [key, value] = nameValue(word);
    if (key === "id") out.id = value;
    else if (key === "score" && out.score === undefined) out.score = scoreArg(value);
    else throw new UsageError(`invalid option '${key}', allowed options are: 'id', 'score'`);
  }
  return out;
}

function parseScoreOk(text: string): boolean {
  try {
    parseScore(text);
    return true;
  } catch {
    return false;
  }
}

const ACTIONS = ["start", "stop", "promote", "demote"];
const TRUE_WORDS = ["true", "on", "yes", "y", "1"];
const FALSE_WORDS = ["false", "off", "no", "n", "0"];

export type OrderArgs =
  | { action: "list" }
  | { action: "remove"; resources: string[] }
  | {
      action: "add";
      first: string;
      then: string;
      kind?: "Mandatory" | "Optional";
      symmetrical?: boolean;
      id?: string;
      /** The options as typed, for pcs's `Adding A B (kind: ...) (Options: ...)` line. */
      options: string[];
    };

function onlyStart(action: string): void {
  if (action !== "start") {
    throw new UsageError(`action '${action}' is not supported; floatip orders starts (and stops in reverse)`);
  }
}

/** constraint order [config] | order [start] A then [start] B [kind=] [symmetrical=] [id=] | order remove R... */
export function parseOrderArgs(words: readonly string[]): OrderArgs {
  const usage =
    "usage: constraint order [start] <resource id> then [start] <resource id> [kind=Mandatory|Optional] [symmetrical=true|false] [id=<id>]";
  const [first, ...rest] = words;
  if (first === undefined || (["config", "show"].includes(first) && rest.length === 0))
    return { action: "list" };
  if ((first === "remove" || first === "delete") && rest.length > 0 && rest[0] !== "then") {
    return { action: "remove", resources: rest };
  }
  const tokens = [...words];
  if (ACTIONS.includes(tokens[0] ?? "") && tokens[2] === "then") onlyStart(tokens.shift() ?? "");
  const a = tokens.shift();
  if (a === undefined || tokens.shift() !== "then") throw new UsageError(usage);
  if (ACTIONS.includes(tokens[0] ?? "") && tokens[1] !== undefined && !tokens[1].includes("=")) {
    onlyStart(tokens.shift() ?? "");
  }
  const b = tokens.shift();
  if (b === undefined || b.includes("=")) throw new UsageError(usage);
  const out: Extract<OrderArgs, { action: "add" }> = { action: "add", first: a, then: b, options: [] };
  for (const word of tokens) {
    const [key, value] = nameValue(word);
    out.options.push(word);
    if (key === "kind") {
      if (value === "Serialize")
        throw new UsageError("kind=Serialize is not supported; use Mandatory or Optional");
      if (value !== "Mandatory" && value !== "Optional") {
        throw new UsageError(`'${value}' is not a valid kind value, use 'Mandatory', 'Optional'`);
      }
      out.kind = value;
    } else if (key === "symmetrical") {
      if (TRUE_WORDS.includes(value.toLowerCase())) out.symmetrical = true;
      else if (FALSE_WORDS.includes(value.toLowerCase())) out.symmetrical = false;
      else throw new UsageError(`'${value}' is not a valid symmetrical value, use 'true', 'false'`);
    } else if (key === "id") {
      out.id = value;
    } else {
      throw new UsageError(`invalid option '${key}', allowed options are: 'id', 'kind', 'symmetrical'`);
    }
  }
  return out;
}

/** property set name=value... ; an empty value unsets. */
export function parsePropertySetArgs(words: readonly string[]): Record<string, string> {
  return parseNameValues(words, "property set <property>=[<value>]...");
}

/** node standby|unstandby [--all | node...] */
export function parseStandbyArgs(words: readonly string[], all: boolean): { all: boolean; nodes: string[] } {
  if (all && words.length > 0) throw new UsageError("Cannot specify both --all and a list of nodes.");
  return { all, nodes: [...words] };
}

// ------------------------------------------------------------------------------------------- output

export interface ConstraintLists {
  location: LocationConstraint[];
  colocation: ColocationConstraint[];
  order: OrderConstraint[];
}

export type ConstraintKind = keyof ConstraintLists;

/**
 * `pcs constraint [--full]` as pcs 0.10 prints it; ids only with --full; lifetimes as (expires:...).
 * With `only`, just that section (`pcs constraint location`).
 */
export function formatConstraints(
  lists: ConstraintLists,
  options: { full: boolean; nowMs: number; only?: ConstraintKind },
): string {
  const sections: string[][] = [];
  const wanted = (kind: ConstraintKind) => options.only === undefined || options.only === kind;
  if (wanted("location")) sections.push(locationLines(lists.location, options));
  if (wanted("order")) sections.push(orderLines(lists.order, options));
  if (wanted("colocation")) sections.push(colocationLines(lists.colocation, options));
  return sections.flat().join("\n");
}

const idText = (id: string, options: { full: boolean }) => (options.full ? ` (id:${id})` : "");

function locationLines(
  location: readonly LocationConstraint[],
  options: { full: boolean; nowMs: number },
): string[] {
  const lines = ["Location Constraints:"];
  const resources = [...new Set(location.map((l) => l.resource))].sort();
  for (const resource of resources) {
    lines.push(`  Resource: ${resource}`);
    const mine = location.filter((l) => l.resource === resource);
    for (const [title, part] of [
      ["Enabled on:", mine.filter((l) => l.score >= 0)],
      ["Disabled on:", mine.filter((l) => l.score < 0)],
    ] as const) {
      if (part.length === 0) continue;
      lines.push(`    ${title}`);
      for (const l of part) {
        const expiry =
          l.expiresMs === undefined
            ? ""
            : ` (expires:${new Date(l.expiresMs).toISOString()}${l.expiresMs <= options.nowMs ? ", expired" : ""})`;
        lines.push(`      Node: ${l.node} (score:${formatScore(l.score)})${expiry}${idText(l.id, options)}`);
      }
    }
  }
  return lines;
}

function orderLines(order: readonly OrderConstraint[], options: { full: boolean }): string[] {
  return [
    "Ordering Constraints:",
    ...order.map((o) => {
      const symmetry = o.symmetrical ? "" : " (non-symmetrical)";
      return `  start ${o.first} then start ${o.then} (kind:${o.kind})${symmetry}${idText(o.id, options)}`;
    }),
  ];
}

function colocationLines(colocation: readonly ColocationConstraint[], options: { full: boolean }): string[] {
  return [
    "Colocation Constraints:",
    ...colocation.map(
      (c) => `  ${c.resource} with ${c.withResource} (score:${formatScore(c.score)})${idText(c.id, options)}`,
    ),
  ];
}

/** `pcs property` (0.10): one ` name: value` line per set property. */
export function formatProperties(properties: Readonly<Record<string, string>>): string {
  const names = Object.keys(properties).sort();
  return ["Cluster Properties:", ...names.map((n) => ` ${n}: ${properties[n] ?? ""}`)].join("\n");
}

/** `pcs resource defaults` (0.10.7+). */
export function formatDefaults(defaults: Readonly<Record<string, string>>): string {
  const names = Object.keys(defaults);
  if (names.length === 0) return "No defaults set";
  return [
    "Meta Attrs: rsc_defaults-meta_attributes",
    ...names.map((n) => `  ${n}=${defaults[n] ?? ""}`),
  ].join("\n");
}

/** The warning crm_resource gives (and pcs passes on) when a move or ban writes a -INFINITY constraint. */
export function banWarning(c: Pick<LocationConstraint, "id" | "resource" | "node">): string {
  return [
    `Warning: Creating location constraint '${c.id}' with a score of -INFINITY for resource ${c.resource} on ${c.node}.`,
    `\tThis will prevent ${c.resource} from running on ${c.node} until the constraint is removed`,
    `\tThis will be the case even if ${c.node} is the last node in the cluster`,
  ].join("\n");
}

// ------------------------------------------------------------------------------------------ commands

type SocketOf = (cmd: Command) => Endpoint;

function subcommand(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

function wantsJson(cmd: Command): boolean {
  return cmd.optsWithGlobals<{ json?: boolean }>().json === true;
}

async function readConfig(socket: Endpoint): Promise<ClusterConfig> {
  const status = await callApi<StatusSnapshot>(socket, "GET", "/v1/status");
  if (!status.config) {
    throw new ApiCallError(
      "FLOATIP_E_NO_CLUSTER",
      "this node is not in a cluster; run 'floatip cluster setup' first",
    );
  }
  return status.config;
}

function printRemoved(ids: readonly string[], prefix = "Removing Constraint - "): void {
  for (const id of ids) process.stdout.write(`${prefix}${id}\n`);
}

export function registerResourceManagerCommands(program: Command, socketOf: SocketOf): void {
  registerResourceCommands(subcommand(program, "resource", "manage resources"), socketOf);
  registerConstraintCommands(subcommand(program, "constraint", "manage constraints"), socketOf);
  registerPropertyCommands(subcommand(program, "property", "manage cluster properties"), socketOf);
  registerNodeCommands(subcommand(program, "node", "manage nodes"), socketOf);
}

function registerResourceCommands(resource: Command, socketOf: SocketOf): void {
  resource
    .command("update")
    .description("update a resource: update R [name=value...] [op monitor interval=..] [meta name=value...]")
    .argument("<id>")
    .argument("[args...]")
    .allowUnknownOption()
    .action(async (id: string, words: string[], _opts: unknown, cmd: Command) => {
      const args = parseUpdateArgs(words);
      await callApi(socketOf(cmd), "POST", "/v1/resource/update", { id, ...args });
    });

  resource
    .command("defaults")
    .description("resource meta defaults: defaults [config] | defaults update name=value...")
    .argument("[args...]")
    .action(async (words: string[], _opts: unknown, cmd: Command) => {
      const args = parseDefaultsArgs(words);
      if (args.action === "list") {
        const config = await readConfig(socketOf(cmd));
        process.stdout.write(`${formatDefaults(config.resourceDefaults)}\n`);
        return;
      }
      if (args.deprecated) {
        process.stderr.write(
          "Deprecation Warning: This command is deprecated and will be removed. Please use 'floatip resource defaults update' instead.\n",
        );
      }
      await callApi(socketOf(cmd), "POST", "/v1/resource/defaults", { values: args.values });
    });

  resource
    .command("meta")
    .description("set meta attributes of a resource or group: meta R name=value...")
    .argument("<id>")
    .argument("[args...]")
    .action(async (id: string, words: string[], _opts: unknown, cmd: Command) => {
      const meta = parseNameValues(words, "resource meta <resource id> name=value...");
      await callApi(socketOf(cmd), "POST", "/v1/resource/meta", { id, meta });
    });

  for (const verb of ["enable", "disable"] as const) {
    resource
      .command(verb)
      .description(`${verb} resources or groups: ${verb} R...`)
      .argument("<ids...>")
      .action(async (ids: string[], _opts: unknown, cmd: Command) => {
        await callApi(socketOf(cmd), "POST", `/v1/resource/${verb}`, { ids });
      });
  }

  const group = subcommand(resource, "group", "manage resource groups");
  group
    .command("add")
    .description("add resources to a group, creating it: add G R... [--before R | --after R]")
    .argument("[args...]")
    .option("--before <id>", "put the resources before this member")
    .option("--after <id>", "put the resources after this member")
    .action(async (words: string[], opts: { before?: string; after?: string }, cmd: Command) => {
      const args = parseGroupAddArgs(words, opts);
      const answer = await callApi<{ removedConstraints: string[] }>(
        socketOf(cmd),
        "POST",
        "/v1/resource/group-add",
        args,
      );
      printRemoved(answer.removedConstraints);
    });
  for (const [parent, name] of [
    [group, "remove"],
    [group, "delete"],
    [resource, "ungroup"],
  ] as const) {
    parent
      .command(name)
      .description(`take resources out of a group (all when none are named): ${name} G [R...]`)
      .argument("<group>")
      .argument("[resources...]")
      .action(async (groupId: string, resources: string[], _opts: unknown, cmd: Command) => {
        const answer = await callApi<{ removedConstraints: string[] }>(
          socketOf(cmd),
          "POST",
          name === "ungroup" ? "/v1/resource/ungroup" : "/v1/resource/group-remove",
          { group: groupId, resources },
        );
        printRemoved(answer.removedConstraints);
      });
  }

  for (const verb of ["move", "ban"] as const) {
    resource
      .command(verb)
      .description(
        verb === "move"
          ? "move a resource: move R [node] [lifetime=PT10M] (without a node: away from where it runs)"
          : "keep a resource off a node: ban R [node] [lifetime=PT10M] (default: where it runs)",
      )
      .argument("[args...]")
      .action(async (words: string[], _opts: unknown, cmd: Command) => {
        const args = parseMoveArgs(words, verb);
        const answer = await callApi<{ constraint: LocationConstraint }>(
          socketOf(cmd),
          "POST",
          `/v1/resource/${verb}`,
          args,
        );
        if (answer.constraint.score < 0) process.stderr.write(`${banWarning(answer.constraint)}\n`);
      });
  }

  resource
    .command("clear")
    .description("remove the constraints move and ban made: clear R [node]")
    .argument("[args...]")
    .action(async (words: string[], _opts: unknown, cmd: Command) => {
      const answer = await callApi<{ removed: string[] }>(
        socketOf(cmd),
        "POST",
        "/v1/resource/clear",
        parseClearArgs(words),
      );
      printRemoved(answer.removed, "Removing constraint: ");
    });
}

function registerConstraintCommands(constraint: Command, socketOf: SocketOf): void {
  const list = async (cmd: Command, full: boolean, only?: ConstraintKind) => {
    const answer = await callApi<{ constraints: ConstraintLists; nowMs: number }>(
      socketOf(cmd),
      "GET",
      "/v1/constraints",
    );
    const c = answer.constraints;
    if (wantsJson(cmd)) {
      process.stdout.write(`${JSON.stringify(only ? { [only]: c[only] } : c, null, 2)}\n`);
      return;
    }
    const text = formatConstraints(c, { full, nowMs: answer.nowMs, ...(only ? { only } : {}) });
    process.stdout.write(`${text}\n`);
  };

  constraint
    .command("config", { isDefault: true })
    .aliases(["list", "show"])
    .description("list constraints (--full shows ids)")
    .option("--full", "show constraint ids")
    .action(async (opts: { full?: boolean }, cmd: Command) => list(cmd, opts.full === true));

  constraint
    .command("location")
    .description("location R prefers|avoids node[=score]... | location remove ID")
    .argument("[args...]")
    .option("--force", "accept duplicates and nodes not in the configuration")
    .option("--full", "show constraint ids")
    .allowUnknownOption()
    .action(async (words: string[], opts: { force?: boolean; full?: boolean }, cmd: Command) => {
      const args = parseLocationArgs(words);
      if (args.action === "list") return list(cmd, opts.full === true, "location");
      if (args.action === "remove") {
        await callApi(socketOf(cmd), "POST", "/v1/constraint/remove", { ids: args.ids, kind: "location" });
        return;
      }
      const { resource, mode, nodes } = args;
      await callApi(socketOf(cmd), "POST", "/v1/constraint/location", {
        resource,
        mode,
        nodes,
        force: opts.force === true,
      });
    });

  constraint
    .command("colocation")
    .description("colocation add R with R2 [score] [id=ID] | colocation remove R R2")
    .argument("[args...]")
    .option("--force", "accept a duplicate constraint")
    .option("--full", "show constraint ids")
    .allowUnknownOption()
    .action(async (words: string[], opts: { force?: boolean; full?: boolean }, cmd: Command) => {
      const args = parseColocationArgs(words);
      if (args.action === "list") return list(cmd, opts.full === true, "colocation");
      if (args.action === "remove") {
        const { resource, withResource } = args;
        await callApi(socketOf(cmd), "POST", "/v1/constraint/colocation-remove", { resource, withResource });
        return;
      }
      const { action: _action, ...body } = args;
      await callApi(socketOf(cmd), "POST", "/v1/constraint/colocation", {
        ...body,
        force: opts.force === true,
      });
    });

  constraint
    .command("order")
    .description(
      "order [start] A then [start] B [kind=Mandatory|Optional] [symmetrical=true|false] [id=ID] | order remove A [B...]",
    )
    .argument("[args...]")
    .option("--force", "accept a duplicate constraint")
    .option("--full", "show constraint ids")
    .allowUnknownOption()
    .action(async (words: string[], opts: { force?: boolean; full?: boolean }, cmd: Command) => {
      const args = parseOrderArgs(words);
      if (args.action === "list") return list(cmd, opts.full === true, "order");
      if (args.action === "remove") {
        await callApi(socketOf(cmd), "POST", "/v1/constraint/order-remove", { resources: args.resources });
        return;
      }
      const { first, then, kind, symmetrical, id, options } = args;
      await callApi(socketOf(cmd), "POST", "/v1/constraint/order", {
        first,
        then,
        force: opts.force === true,
        ...(kind === undefined ? {} : { kind }),
        ...(symmetrical === undefined ? {} : { symmetrical }),
        ...(id === undefined ? {} : { id }),
      });
      const shown = [...options, "first-action=start", "then-action=start"].join(" ");
      process.stdout.write(`Adding ${first} ${then} (kind: ${kind ?? "Mandatory"}) (Options: ${shown})\n`);
    });

  for (const name of ["remove", "delete"]) {
    constraint
      .command(name)
      .description("remove constraints by id: remove ID...")
      .argument("<ids...>")
      .action(async (ids: string[], _opts: unknown, cmd: Command) => {
        await callApi(socketOf(cmd), "POST", "/v1/constraint/remove", { ids });
      });
  }
}

function registerPropertyCommands(property: Command, socketOf: SocketOf): void {
  property
    .command("config", { isDefault: true })
    .aliases(["list", "show"])
    .description("list the cluster properties that are set")
    .action(async (_opts: unknown, cmd: Command) => {
      const answer = await callApi<{ properties: Record<string, string> }>(
        socketOf(cmd),
        "GET",
        "/v1/properties",
      );
      if (wantsJson(cmd)) process.stdout.write(`${JSON.stringify(answer.properties, null, 2)}\n`);
      else process.stdout.write(`${formatProperties(answer.properties)}\n`);
    });
  property
    .command("set")
    .description("set cluster properties: set name=value... (empty value unsets) [--force]")
    .argument("[args...]")
    .option("--force", "accept property names floatip does not know")
    .action(async (words: string[], opts: { force?: boolean }, cmd: Command) => {
      const values = parsePropertySetArgs(words);
      await callApi(socketOf(cmd), "POST", "/v1/property/set", { values, force: opts.force === true });
    });
  property
    .command("unset")
    .description("unset cluster properties: unset name... [--force]")
    .argument("<names...>")
    .option("--force", "do not complain about properties that are not set")
    .action(async (names: string[], opts: { force?: boolean }, cmd: Command) => {
      await callApi(socketOf(cmd), "POST", "/v1/property/unset", { names, force: opts.force === true });
    });
}

function registerNodeCommands(node: Command, socketOf: SocketOf): void {
  for (const verb of ["standby", "unstandby"] as const) {
    node
      .command(verb)
      .description(
        `${verb === "standby" ? "stop running" : "allow"} resources on nodes: ${verb} [--all | node...] (default: this node)`,
      )
      .argument("[nodes...]")
      .option("--all", "all nodes")
      .action(async (words: string[], opts: { all?: boolean }, cmd: Command) => {
        const args = parseStandbyArgs(words, opts.all === true);
        await callApi(socketOf(cmd), "POST", "/v1/node/standby", { ...args, on: verb === "standby" });
      });
  }
}
