import type { z } from "zod";
import { parseDuration } from "./duration.ts";
import {
  idSchema,
  INFINITY_SCORE,
  knownMetaSchemas,
  knownPropertySchemas,
  nodeNameSchema,
  scoreTextSchema,
  type ClusterConfig,
  type LocationConstraint,
  type OperationConfig,
} from "./schema.ts";

/**
 * pcs resource-manager commands (update, defaults, meta, enable/disable, groups, move/ban/clear,
 * constraints, properties, standby) applied to a configuration draft. Pure: no I/O, the clock is passed
 * in. Each function checks its references first and throws ConfigCommandError with a pcs-like message,
 * so a rejected command leaves the draft as it was and an accepted one leaves a document the schema
 * accepts.
 */

export type ConfigCommandErrorCode =
  | "FLOATIP_E_RESOURCE_UNKNOWN"
  | "FLOATIP_E_GROUP_UNKNOWN"
  | "FLOATIP_E_NODE_UNKNOWN"
  | "FLOATIP_E_CONSTRAINT_UNKNOWN"
  | "FLOATIP_E_CONSTRAINT_DUPLICATE"
  | "FLOATIP_E_ID_EXISTS"
  | "FLOATIP_E_ID_INVALID"
  | "FLOATIP_E_NAME_INVALID"
  | "FLOATIP_E_VALUE_INVALID"
  | "FLOATIP_E_PROPERTY_UNKNOWN"
  | "FLOATIP_E_GROUP_INVALID"
  | "FLOATIP_E_MOVE_NEEDS_NODE"
  | "FLOATIP_E_ARGUMENT_INVALID";

/** A command a user gave that cannot be applied; the message is pcs's wording where pcs has one. */
export class ConfigCommandError extends Error {
  override readonly name = "ConfigCommandError";
  constructor(
    readonly code: ConfigCommandErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** name=value maps as the CLI sends them: an empty value removes the name. */
export type AttributeChanges = Readonly<Record<string, string>>;

const MAX_VALUE_LENGTH = 4096;
const attributeName = /^[A-Za-z_][A-Za-z0-9_-]*$/;

// ---------------------------------------------------------------------------------------------- lookups

function resourceOf(draft: ClusterConfig, id: string): ClusterConfig["resources"][number] {
  const resource = draft.resources.find((r) => r.id === id);
  if (!resource)
    throw new ConfigCommandError("FLOATIP_E_RESOURCE_UNKNOWN", `Resource '${id}' does not exist`);
  return resource;
}

function groupOf(draft: ClusterConfig, id: string): ClusterConfig["groups"][number] {
  const group = draft.groups.find((g) => g.id === id);
  if (!group) throw new ConfigCommandError("FLOATIP_E_GROUP_UNKNOWN", `Group '${id}' does not exist`);
  return group;
}

/** The meta map of a resource or a group, the two things constraints and meta commands accept. */
function metaOf(draft: ClusterConfig, id: string): Record<string, string> {
  const owner = draft.resources.find((r) => r.id === id) ?? draft.groups.find((g) => g.id === id);
  if (!owner) throw new ConfigCommandError("FLOATIP_E_RESOURCE_UNKNOWN", `Resource '${id}' does not exist`);
  return owner.meta;
}

function requireResourceOrGroup(draft: ClusterConfig, id: string): void {
  metaOf(draft, id);
}

function requireNode(draft: ClusterConfig, name: string): ClusterConfig["nodes"][number] {
  const node = draft.nodes.find((n) => n.name === name);
  if (!node) {
    throw new ConfigCommandError(
      "FLOATIP_E_NODE_UNKNOWN",
      `Node '${name}' does not appear to exist in configuration`,
    );
  }
  return node;
}

function allConstraintIds(draft: ClusterConfig): Set<string> {
  const { location, colocation, order } = draft.constraints;
  return new Set([...location, ...colocation, ...order].map((c) => c.id));
}

/** Every id in the document: pcs ids share one namespace (the CIB's). */
function allIds(draft: ClusterConfig): Set<string> {
  return new Set([
    ...draft.resources.map((r) => r.id),
    ...draft.groups.map((g) => g.id),
    ...allConstraintIds(draft),
  ]);
}

/** pcs's id check: `invalid constraint id '1a', '1' is not a valid first character for a constraint id`. */
function checkId(id: string, what: string): void {
  if (idSchema.safeParse(id).success) return;
  const prefix = `invalid ${what} id '${id}'`;
  if (id.length === 0) throw new ConfigCommandError("FLOATIP_E_ID_INVALID", `${what} id cannot be empty`);
  if (id.length > 128) {
    throw new ConfigCommandError("FLOATIP_E_ID_INVALID", `${prefix}, it is longer than 128 characters`);
  }
  const first = id[0] ?? "";
  if (!/^[A-Za-z_]$/.test(first)) {
    throw new ConfigCommandError(
      "FLOATIP_E_ID_INVALID",
      `${prefix}, '${first}' is not a valid first character for a ${what} id`,
    );
  }
  const bad = [...id].find((c) => !/^[A-Za-z0-9_.-]$/.test(c)) ?? "?";
  throw new ConfigCommandError(
    "FLOATIP_E_ID_INVALID",
    `${prefix}, '${bad}' is not a valid character for a ${what} id`,
  );
}

function checkNewConstraintId(draft: ClusterConfig, id: string): void {
  checkId(id, "constraint");
  if (allIds(draft).has(id)) throw new ConfigCommandError("FLOATIP_E_ID_EXISTS", `id '${id}' already exists`);
}

/** pcs's find_unique_id: the id itself when free, else id-1, id-2, ... */
function uniqueId(draft: ClusterConfig, base: string): string {
  const taken = allIds(draft);
  if (!taken.has(base)) return base;
  for (let n = 1; ; n += 1) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

/** A generated id: characters ids cannot hold become '_' (node names may start with a digit, ids not). */
function generatedId(draft: ClusterConfig, parts: readonly string[]): string {
  const base = parts.join("-").replace(/[^A-Za-z0-9_.-]/g, "_");
  const id = uniqueId(draft, base);
  checkId(id, "constraint");
  return id;
}

// ------------------------------------------------------------------------------------- attribute values

function describeProblem(schema: z.ZodType, value: string): string | null {
  const parsed = schema.safeParse(value);
  if (parsed.success) return null;
  const options = (schema as { options?: unknown }).options;
  if (Array.isArray(options)) return `use ${options.map((o) => `'${String(o)}'`).join(", ")}`;
  const message = parsed.error.issues[0]?.message ?? "invalid";
  return message.replace(/^FLOATIP_E_[A-Z_]+: /, "");
}

function checkValue(name: string, value: string, rule: z.ZodType | undefined): void {
  if (value.length > MAX_VALUE_LENGTH) {
    throw new ConfigCommandError(
      "FLOATIP_E_VALUE_INVALID",
      `value of '${name}' is longer than ${MAX_VALUE_LENGTH} characters`,
    );
  }
  const problem = rule ? describeProblem(rule, value) : null;
  if (problem !== null) {
    throw new ConfigCommandError(
      "FLOATIP_E_VALUE_INVALID",
      `'${value}' is not a valid ${name} value, ${problem}`,
    );
  }
}

function checkAttributeName(name: string, what: string): void {
  if (!attributeName.test(name)) {
    throw new ConfigCommandError(
      "FLOATIP_E_NAME_INVALID",
      `invalid ${what} name '${name}'; names start with a letter or '_' and hold letters, digits, '_', '-'`,
    );
  }
}

/** Merges name=value changes into a map; empty values remove. Validates everything before changing. */
function mergeAttributes(
  target: Record<string, string>,
  changes: AttributeChanges,
  what: string,
  rules: Readonly<Record<string, z.ZodType>>,
): void {
  for (const [name, value] of Object.entries(changes)) {
    checkAttributeName(name, what);
    if (value !== "") checkValue(name, value, rules[name]);
  }
  for (const [name, value] of Object.entries(changes)) {
    if (value === "") delete target[name];
    else target[name] = value;
  }
}

const metaRules: Readonly<Record<string, z.ZodType>> = knownMetaSchemas;

// ------------------------------------------------------------------------------------------- resources

export interface ResourceUpdate {
  params?: AttributeChanges;
  meta?: AttributeChanges;
  /** Each replaces the resource's first operation with the same name, or is added. */
  ops?: readonly OperationConfig[];
}

const operationBounds = { intervalMs: [0, 86_400_000], timeoutMs: [100, 3_600_000] } as const;

function checkOperation(op: OperationConfig): void {
  for (const key of ["intervalMs", "timeoutMs"] as const) {
    const [min, max] = operationBounds[key];
    const value = op[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      const what = key === "intervalMs" ? "interval" : "timeout";
      throw new ConfigCommandError(
        "FLOATIP_E_VALUE_INVALID",
        `op ${op.name} ${what} must be between ${min} and ${max} ms, got ${value}`,
      );
    }
  }
}

/** pcs resource update R [k=v...] [op ...] [meta k=v...]: params and meta are merged, empty values remove. */
export function updateResource(draft: ClusterConfig, id: string, update: ResourceUpdate): void {
  const resource = resourceOf(draft, id);
  const params = { ...resource.params };
  const meta = { ...resource.meta };
  mergeAttributes(params, update.params ?? {}, "option", {});
  mergeAttributes(meta, update.meta ?? {}, "meta attribute", metaRules);
  const ops = [...resource.ops];
  for (const op of update.ops ?? []) {
    checkOperation(op);
    const at = ops.findIndex((o) => o.name === op.name);
    if (at === -1) ops.push({ ...op });
    else ops[at] = { ...op };
  }
  resource.params = params;
  resource.meta = meta;
  resource.ops = ops;
}

/** pcs resource defaults update k=v...: meta defaults for every resource; empty values remove. */
export function setResourceDefaults(draft: ClusterConfig, values: AttributeChanges): void {
  const next = { ...draft.resourceDefaults };
  mergeAttributes(next, values, "meta attribute", metaRules);
  draft.resourceDefaults = next;
}

/** pcs resource meta R k=v...: on a resource or a group; empty values remove. */
export function setMeta(draft: ClusterConfig, id: string, meta: AttributeChanges): void {
  const target = metaOf(draft, id);
  const next = { ...target };
  mergeAttributes(next, meta, "meta attribute", metaRules);
  for (const name of Object.keys(target)) delete target[name];
  Object.assign(target, next);
}

function setTargetRole(draft: ClusterConfig, ids: readonly string[], role: "Started" | "Stopped"): void {
  if (ids.length === 0) {
    throw new ConfigCommandError(
      "FLOATIP_E_ARGUMENT_INVALID",
      "You must specify resource(s) to enable/disable",
    );
  }
  const metas = ids.map((id) => metaOf(draft, id));
  for (const meta of metas) meta["target-role"] = role;
}

/** pcs resource enable R...: target-role=Started on each resource or group. */
export function enableResources(draft: ClusterConfig, ids: readonly string[]): void {
  setTargetRole(draft, ids, "Started");
}

/** pcs resource disable R...: target-role=Stopped on each resource or group. */
export function disableResources(draft: ClusterConfig, ids: readonly string[]): void {
  setTargetRole(draft, ids, "Stopped");
}

// ---------------------------------------------------------------------------------------------- groups

/** Drops constraints that name an id about to disappear; returns their ids for `Removing Constraint - ...`. */
function dropConstraintsOf(draft: ClusterConfig, id: string): string[] {
  const c = draft.constraints;
  const removed = [
    ...c.location.filter((l) => l.resource === id),
    ...c.colocation.filter((l) => l.resource === id || l.withResource === id),
    ...c.order.filter((o) => o.first === id || o.then === id),
  ].map((x) => x.id);
  c.location = c.location.filter((l) => l.resource !== id);
  c.colocation = c.colocation.filter((l) => l.resource !== id && l.withResource !== id);
  c.order = c.order.filter((o) => o.first !== id && o.then !== id);
  return removed;
}

/** Removes groups left without members (pcs deletes an emptied group) with their constraints. */
function dropEmptyGroups(draft: ClusterConfig): string[] {
  const empty = draft.groups.filter((g) => g.resources.length === 0).map((g) => g.id);
  draft.groups = draft.groups.filter((g) => g.resources.length > 0);
  return empty.flatMap((id) => dropConstraintsOf(draft, id));
}

export interface GroupPosition {
  before?: string;
  after?: string;
}

export interface GroupChangeResult {
  /** Constraints removed because a group they named was emptied and deleted. */
  removedConstraints: string[];
}

function checkGroupMembers(draft: ClusterConfig, resourceIds: readonly string[]): void {
  if (resourceIds.length === 0) {
    throw new ConfigCommandError("FLOATIP_E_ARGUMENT_INVALID", "You must specify at least one resource");
  }
  const seen = new Set<string>();
  for (const id of resourceIds) {
    if (draft.groups.some((g) => g.id === id)) {
      throw new ConfigCommandError(
        "FLOATIP_E_GROUP_INVALID",
        `'${id}' is a group; only primitive resources can be put into a group`,
      );
    }
    resourceOf(draft, id);
    if (seen.has(id)) {
      throw new ConfigCommandError(
        "FLOATIP_E_ARGUMENT_INVALID",
        `Resource '${id}' is specified more than once`,
      );
    }
    seen.add(id);
  }
}

function insertionIndex(
  members: readonly string[],
  groupId: string,
  adding: readonly string[],
  position: GroupPosition,
): number {
  if (position.before !== undefined && position.after !== undefined) {
    throw new ConfigCommandError(
      "FLOATIP_E_ARGUMENT_INVALID",
      "you cannot specify both --before and --after",
    );
  }
  const anchor = position.before ?? position.after;
  if (anchor === undefined) return members.length;
  if (adding.includes(anchor)) {
    throw new ConfigCommandError(
      "FLOATIP_E_GROUP_INVALID",
      `Resource '${anchor}' cannot be put ${position.before !== undefined ? "before" : "after"} itself`,
    );
  }
  const at = members.indexOf(anchor);
  if (at === -1) {
    throw new ConfigCommandError(
      "FLOATIP_E_GROUP_INVALID",
      `There is no resource '${anchor}' in the group '${groupId}'`,
    );
  }
  return position.before !== undefined ? at : at + 1;
}

/**
 * pcs resource group add G R... [--before R | --after R]: creates G when new; a resource leaves its
 * previous group (an emptied group is deleted with its constraints); a member of G is moved to the new
 * position.
 */
export function addToGroup(
  draft: ClusterConfig,
  groupId: string,
  resourceIds: readonly string[],
  position: GroupPosition = {},
): GroupChangeResult {
  checkGroupMembers(draft, resourceIds);
  let group = draft.groups.find((g) => g.id === groupId);
  if (!group) {
    checkId(groupId, "group");
    if (allIds(draft).has(groupId)) {
      throw new ConfigCommandError("FLOATIP_E_ID_EXISTS", `'${groupId}' already exists`);
    }
  }
  const remaining = (group?.resources ?? []).filter((m) => !resourceIds.includes(m));
  const at = insertionIndex(remaining, groupId, resourceIds, position);
  for (const g of draft.groups) g.resources = g.resources.filter((m) => !resourceIds.includes(m));
  if (!group) {
    group = { id: groupId, resources: [], meta: {} };
    draft.groups.push(group);
  }
  group.resources = [...remaining.slice(0, at), ...resourceIds, ...remaining.slice(at)];
  return { removedConstraints: dropEmptyGroups(draft) };
}

/**
 * pcs resource group remove G [R...] (and pcs resource ungroup G [R...]): takes the resources out of G,
 * or all of them when none are named; an emptied group is deleted with its constraints. The resources
 * stay configured.
 */
export function removeFromGroup(
  draft: ClusterConfig,
  groupId: string,
  resourceIds: readonly string[] = [],
): GroupChangeResult {
  const group = groupOf(draft, groupId);
  for (const id of resourceIds) {
    resourceOf(draft, id);
    if (!group.resources.includes(id)) {
      throw new ConfigCommandError(
        "FLOATIP_E_GROUP_INVALID",
        `Resource '${id}' is not in group '${groupId}'`,
      );
    }
  }
  group.resources = resourceIds.length === 0 ? [] : group.resources.filter((m) => !resourceIds.includes(m));
  return { removedConstraints: dropEmptyGroups(draft) };
}

/**
 * pcs resource delete R: the resource leaves its group (an emptied group goes too) and every constraint
 * naming it is dropped, so the document stays valid. Returns the ids of the constraints removed.
 */
export function deleteResource(draft: ClusterConfig, id: string): string[] {
  resourceOf(draft, id);
  for (const g of draft.groups) g.resources = g.resources.filter((m) => m !== id);
  draft.resources = draft.resources.filter((r) => r.id !== id);
  return [...dropConstraintsOf(draft, id), ...dropEmptyGroups(draft)];
}

/** pcs resource ungroup G [R...]. */
export function ungroup(
  draft: ClusterConfig,
  groupId: string,
  resourceIds: readonly string[] = [],
): GroupChangeResult {
  return removeFromGroup(draft, groupId, resourceIds);
}

// ------------------------------------------------------------------------------------ move, ban, clear

export interface MoveOptions {
  /** lifetime=: the constraint expires this long after nowMs. */
  lifetimeMs?: number;
  /** The cluster's clock, for expiresMs. */
  nowMs: number;
  /** Where the resource runs now, if it runs; needed when no node is given. */
  currentNode?: string;
}

/** pcs accepts ISO 8601 (PT10M); floatip also takes 10min, 30s. Returns ms, greater than zero. */
export function parseLifetime(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^FLOATIP_E_[A-Z_]+: /, "") : "";
    throw new ConfigCommandError("FLOATIP_E_VALUE_INVALID", `invalid lifetime '${text}': ${detail}`);
  }
  if (ms <= 0) {
    throw new ConfigCommandError(
      "FLOATIP_E_VALUE_INVALID",
      `invalid lifetime '${text}': it must be longer than zero, e.g. lifetime=PT10M`,
    );
  }
  return ms;
}

const preferId = (id: string): string => `cli-prefer-${id}`;
const banId = (id: string, node: string): string => `cli-ban-${id}-on-${node}`;

function expiryOf(options: MoveOptions): Pick<LocationConstraint, "expiresMs"> {
  if (options.lifetimeMs === undefined) return {};
  const { lifetimeMs, nowMs } = options;
  const expiresMs = nowMs + lifetimeMs;
  if (!Number.isSafeInteger(lifetimeMs) || lifetimeMs <= 0 || !Number.isSafeInteger(expiresMs) || nowMs < 0) {
    throw new ConfigCommandError(
      "FLOATIP_E_VALUE_INVALID",
      `invalid lifetime of ${lifetimeMs} ms; give a positive duration such as lifetime=PT10M`,
    );
  }
  return { expiresMs };
}

/** Replaces the location constraint with this id (crm_resource rewrites its cli-* constraints in place). */
function putLocation(draft: ClusterConfig, constraint: LocationConstraint): LocationConstraint {
  checkId(constraint.id, "constraint");
  const clash =
    [...draft.resources, ...draft.groups].some((x) => x.id === constraint.id) ||
    draft.constraints.colocation.some((c) => c.id === constraint.id) ||
    draft.constraints.order.some((c) => c.id === constraint.id);
  if (clash) throw new ConfigCommandError("FLOATIP_E_ID_EXISTS", `id '${constraint.id}' already exists`);
  const rest = draft.constraints.location.filter((c) => c.id !== constraint.id);
  draft.constraints.location = [...rest, constraint];
  return constraint;
}

function banTarget(node: string | undefined, options: MoveOptions): string {
  const target = node ?? options.currentNode;
  if (target === undefined || target === "") {
    throw new ConfigCommandError(
      "FLOATIP_E_MOVE_NEEDS_NODE",
      "You must specify a node when moving/banning a stopped resource",
    );
  }
  return target;
}

/**
 * pcs 0.10 resource move R [node] [lifetime=]: with a node, `cli-prefer-R` at INFINITY there (and any
 * ban of R on that node is lifted, as crm_resource does); without one, `cli-ban-R-on-<current>`.
 */
export function move(
  draft: ClusterConfig,
  id: string,
  node: string | undefined,
  options: MoveOptions,
): LocationConstraint {
  requireResourceOrGroup(draft, id);
  const expiry = expiryOf(options);
  if (node === undefined) {
    const current = banTarget(undefined, options);
    requireNode(draft, current);
    const written = putLocation(draft, {
      id: banId(id, current),
      resource: id,
      node: current,
      score: -INFINITY_SCORE,
      ...expiry,
    });
    draft.constraints.location = draft.constraints.location.filter(
      (c) => !(c.id === preferId(id) && c.node === current),
    );
    return written;
  }
  requireNode(draft, node);
  const written = putLocation(draft, {
    id: preferId(id),
    resource: id,
    node,
    score: INFINITY_SCORE,
    ...expiry,
  });
  draft.constraints.location = draft.constraints.location.filter((c) => c.id !== banId(id, node));
  return written;
}

/** pcs resource ban R [node] [lifetime=]: `cli-ban-R-on-<node>` at -INFINITY; the current node by default. */
export function ban(
  draft: ClusterConfig,
  id: string,
  node: string | undefined,
  options: MoveOptions,
): LocationConstraint {
  requireResourceOrGroup(draft, id);
  const target = banTarget(node, options);
  requireNode(draft, target);
  const expiry = expiryOf(options);
  return putLocation(draft, {
    id: banId(id, target),
    resource: id,
    node: target,
    score: -INFINITY_SCORE,
    ...expiry,
  });
}

/** pcs resource clear R [node]: removes the move/ban constraints of R (on that node only, if given). */
export function clear(draft: ClusterConfig, id: string, node?: string): string[] {
  requireResourceOrGroup(draft, id);
  if (node !== undefined) requireNode(draft, node);
  const isCli = (c: LocationConstraint) =>
    c.resource === id &&
    (c.id === preferId(id) || c.id === banId(id, c.node)) &&
    (node === undefined || c.node === node);
  const removed = draft.constraints.location.filter(isCli).map((c) => c.id);
  draft.constraints.location = draft.constraints.location.filter((c) => !isCli(c));
  return removed;
}

// ----------------------------------------------------------------------------------------- constraints

/** Parses a pcs score (integer, INFINITY, +INFINITY, -INFINITY); pcs's message when it is not one. */
export function parseScore(text: string): number {
  const parsed = scoreTextSchema.safeParse(text);
  if (!parsed.success) {
    throw new ConfigCommandError(
      "FLOATIP_E_VALUE_INVALID",
      `invalid score '${text}', use integer or INFINITY or -INFINITY`,
    );
  }
  return parsed.data;
}

/** A score the way pcs writes it in ids and listings. */
export function formatScore(score: number): string {
  if (score >= INFINITY_SCORE) return "INFINITY";
  if (score <= -INFINITY_SCORE) return "-INFINITY";
  return String(score);
}

export interface ForceOption {
  /** --force: accept duplicates and, for locations, node names not in the configuration. */
  force?: boolean;
}

function duplicateError(ids: readonly string[]): ConfigCommandError {
  return new ConfigCommandError(
    "FLOATIP_E_CONSTRAINT_DUPLICATE",
    `duplicate constraint already exists (${ids.join(", ")}), use --force to override`,
  );
}

/**
 * pcs constraint location R prefers|avoids node[=score]...: score INFINITY by default, avoids negates it;
 * ids `location-<rsc>-<node>-<score>` as pcs makes them. Returns the new ids.
 */
export function addLocation(
  draft: ClusterConfig,
  id: string,
  mode: "prefers" | "avoids",
  nodes: readonly { node: string; score?: string }[],
  options: ForceOption = {},
): string[] {
  requireResourceOrGroup(draft, id);
  if (nodes.length === 0) {
    throw new ConfigCommandError(
      "FLOATIP_E_ARGUMENT_INVALID",
      `You must specify at least one node to ${mode.slice(0, -1)}`,
    );
  }
  const planned = nodes.map(({ node, score }) => {
    if (!options.force) requireNode(draft, node);
    else if (!nodeNameSchema.safeParse(node).success) {
      throw new ConfigCommandError("FLOATIP_E_NAME_INVALID", `invalid node name '${node}'`);
    }
    const parsed = score === undefined || score === "" ? INFINITY_SCORE : parseScore(score);
    const value = mode === "avoids" ? -parsed : parsed;
    return { node, score: value === 0 ? 0 : value };
  });
  if (!options.force) {
    planned.forEach((p, i) => {
      const same = draft.constraints.location.filter(
        (c) => c.resource === id && c.node === p.node && c.score === p.score && c.expiresMs === undefined,
      );
      if (same.length > 0) throw duplicateError(same.map((c) => c.id));
      if (planned.findIndex((q) => q.node === p.node && q.score === p.score) !== i) {
        throw new ConfigCommandError(
          "FLOATIP_E_ARGUMENT_INVALID",
          `Node '${p.node}' is specified more than once`,
        );
      }
    });
  }
  const added: string[] = [];
  for (const p of planned) {
    const constraintId = generatedId(draft, ["location", id, p.node, formatScore(p.score)]);
    draft.constraints.location.push({ id: constraintId, resource: id, node: p.node, score: p.score });
    added.push(constraintId);
  }
  return added;
}

export interface ColocationOptions extends ForceOption {
  /** Score text; INFINITY by default. */
  score?: string;
  id?: string;
}

/** pcs constraint colocation add R with R2 [score] [id=]: place R where R2 is. Returns the id. */
export function addColocation(
  draft: ClusterConfig,
  resource: string,
  withResource: string,
  options: ColocationOptions = {},
): string {
  requireResourceOrGroup(draft, resource);
  requireResourceOrGroup(draft, withResource);
  if (resource === withResource) {
    throw new ConfigCommandError("FLOATIP_E_ARGUMENT_INVALID", "Cannot colocate a resource with itself");
  }
  const score = options.score === undefined ? INFINITY_SCORE : parseScore(options.score);
  const same = draft.constraints.colocation.filter(
    (c) =>
      (c.resource === resource && c.withResource === withResource) ||
      (c.resource === withResource && c.withResource === resource),
  );
  if (same.length > 0 && !options.force) throw duplicateError(same.map((c) => c.id));
  let id: string;
  if (options.id !== undefined) {
    checkNewConstraintId(draft, options.id);
    id = options.id;
  } else {
    id = generatedId(draft, ["colocation", resource, withResource, formatScore(score)]);
  }
  draft.constraints.colocation.push({ id, resource, withResource, score });
  return id;
}

export interface OrderOptions extends ForceOption {
  /** Mandatory (default) or Optional; pcs's Serialize is not supported. */
  kind?: string;
  symmetrical?: boolean;
  id?: string;
}

/** pcs constraint order [start] A then [start] B [kind=] [symmetrical=] [id=]. Returns the id. */
export function addOrder(
  draft: ClusterConfig,
  first: string,
  then: string,
  options: OrderOptions = {},
): string {
  requireResourceOrGroup(draft, first);
  requireResourceOrGroup(draft, then);
  if (first === then) {
    throw new ConfigCommandError("FLOATIP_E_ARGUMENT_INVALID", "Cannot order a resource with itself");
  }
  const kind = options.kind ?? "Mandatory";
  if (kind !== "Mandatory" && kind !== "Optional") {
    throw new ConfigCommandError(
      "FLOATIP_E_VALUE_INVALID",
      `'${kind}' is not a valid kind value, use 'Mandatory', 'Optional'`,
    );
  }
  const same = draft.constraints.order.filter((c) => c.first === first && c.then === then);
  if (same.length > 0 && !options.force) throw duplicateError(same.map((c) => c.id));
  let id: string;
  if (options.id !== undefined) {
    checkNewConstraintId(draft, options.id);
    id = options.id;
  } else {
    // pcs: order-A-B-mandatory by default, order-A-B-<kind> when kind= is given.
    id = generatedId(draft, ["order", first, then, options.kind ?? "mandatory"]);
  }
  draft.constraints.order.push({ id, first, then, kind, symmetrical: options.symmetrical ?? true });
  return id;
}

export type ConstraintKind = "location" | "colocation" | "order";

/** pcs constraint remove ID (or constraint location remove ID with kind "location"). */
export function removeConstraint(draft: ClusterConfig, id: string, kind?: ConstraintKind): void {
  const c = draft.constraints;
  const kinds: ConstraintKind[] = kind ? [kind] : ["location", "colocation", "order"];
  const found = kinds.some((k) => c[k].some((x) => x.id === id));
  if (!found)
    throw new ConfigCommandError("FLOATIP_E_CONSTRAINT_UNKNOWN", `Unable to find constraint - '${id}'`);
  if (kinds.includes("location")) c.location = c.location.filter((x) => x.id !== id);
  if (kinds.includes("colocation")) c.colocation = c.colocation.filter((x) => x.id !== id);
  if (kinds.includes("order")) c.order = c.order.filter((x) => x.id !== id);
}

/** pcs constraint colocation remove R R2: colocations between the two, in either direction. */
export function removeColocation(draft: ClusterConfig, resource: string, withResource: string): string[] {
  const matches = (c: { resource: string; withResource: string }) =>
    (c.resource === resource && c.withResource === withResource) ||
    (c.resource === withResource && c.withResource === resource);
  const removed = draft.constraints.colocation.filter(matches).map((c) => c.id);
  if (removed.length === 0) {
    throw new ConfigCommandError(
      "FLOATIP_E_CONSTRAINT_UNKNOWN",
      `Unable to find colocation constraint with source resource '${resource}' and target resource '${withResource}'`,
    );
  }
  draft.constraints.colocation = draft.constraints.colocation.filter((c) => !matches(c));
  return removed;
}

/** pcs constraint order remove R [R...]: every order constraint naming one of the resources. */
export function removeOrders(draft: ClusterConfig, ids: readonly string[]): string[] {
  const matches = (c: { first: string; then: string }) => ids.includes(c.first) || ids.includes(c.then);
  const removed = draft.constraints.order.filter(matches).map((c) => c.id);
  if (removed.length === 0) {
    throw new ConfigCommandError(
      "FLOATIP_E_CONSTRAINT_UNKNOWN",
      "No matching resources found in ordering list",
    );
  }
  draft.constraints.order = draft.constraints.order.filter((c) => !matches(c));
  return removed;
}

// ---------------------------------------------------------------------------------- properties, nodes

const pacemakerBoolean = ["true", "false"];

/**
 * Pacemaker cluster properties floatip accepts besides the ones its policy reads (knownPropertySchemas).
 * The stonith-* ones steer fencing (policy/fencing.ts, fencing/stonith-config.ts); the others are stored
 * for pcs compatibility (scripts set them) and not acted on. Values are checked the way Pacemaker would.
 */
export const acceptedPropertyRules: Readonly<Record<string, { check(value: string): string | null }>> = {
  "stonith-enabled": { check: (v) => (pacemakerBoolean.includes(v) ? null : "use 'false', 'true'") },
  "maintenance-mode": { check: (v) => (pacemakerBoolean.includes(v) ? null : "use 'false', 'true'") },
  "start-failure-is-fatal": {
    check: (v) => (pacemakerBoolean.includes(v) ? null : "use 'false', 'true'"),
  },
  "stonith-action": {
    check: (v) => (["reboot", "off", "poweroff"].includes(v) ? null : "use 'off', 'poweroff', 'reboot'"),
  },
  "stonith-timeout": { check: durationProblem },
  "cluster-recheck-interval": { check: durationProblem },
  "dc-deadtime": { check: durationProblem },
  "shutdown-escalation": { check: durationProblem },
};

function durationProblem(value: string): string | null {
  try {
    parseDuration(value);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message.replace(/^FLOATIP_E_[A-Z_]+: /, "") : "not a duration";
  }
}

/** Property names `property set` takes without --force, sorted. */
export function knownPropertyNames(): string[] {
  return [...Object.keys(knownPropertySchemas), ...Object.keys(acceptedPropertyRules)].sort();
}

export interface PropertyOptions {
  /** --force: accept a property name floatip does not know (the value of a known one is still checked). */
  force?: boolean;
}

function checkProperty(name: string, value: string, options: PropertyOptions): void {
  const rule = (knownPropertySchemas as Record<string, z.ZodType>)[name];
  const accepted = acceptedPropertyRules[name];
  if (!rule && !accepted && !options.force) {
    const allowed = knownPropertyNames()
      .map((n) => `'${n}'`)
      .join(", ");
    throw new ConfigCommandError(
      "FLOATIP_E_PROPERTY_UNKNOWN",
      `invalid cluster property option '${name}', allowed options are: ${allowed}, use --force to override`,
    );
  }
  checkAttributeName(name, "cluster property");
  if (value === "") return;
  checkValue(name, value, rule);
  const problem = accepted?.check(value) ?? null;
  if (problem !== null) {
    throw new ConfigCommandError(
      "FLOATIP_E_VALUE_INVALID",
      `'${value}' is not a valid ${name} value, ${problem}`,
    );
  }
}

/** pcs property set name=value: an empty value unsets. */
export function setProperty(
  draft: ClusterConfig,
  name: string,
  value: string,
  options: PropertyOptions = {},
): void {
  setProperties(draft, { [name]: value }, options);
}

/** pcs property set a=1 b=2 ...: all or nothing. */
export function setProperties(
  draft: ClusterConfig,
  values: AttributeChanges,
  options: PropertyOptions = {},
): void {
  for (const [name, value] of Object.entries(values)) checkProperty(name, value, options);
  const next = { ...draft.properties };
  for (const [name, value] of Object.entries(values)) {
    if (value === "") delete next[name];
    else next[name] = value;
  }
  draft.properties = next;
}

/** pcs property unset name: an error when the property is not set, unless forced. */
export function unsetProperty(draft: ClusterConfig, name: string, options: PropertyOptions = {}): void {
  if (!(name in draft.properties)) {
    if (options.force) return;
    throw new ConfigCommandError(
      "FLOATIP_E_PROPERTY_UNKNOWN",
      `Cannot remove property '${name}', it is not present in the cluster configuration, use --force to override`,
    );
  }
  const next = { ...draft.properties };
  delete next[name];
  draft.properties = next;
}

/** pcs node standby|unstandby [--all | node...]. */
export function setStandby(draft: ClusterConfig, nodes: readonly string[] | "all", on: boolean): void {
  if (nodes !== "all" && nodes.length === 0) {
    throw new ConfigCommandError("FLOATIP_E_ARGUMENT_INVALID", "You must specify a node or --all");
  }
  const targets = nodes === "all" ? draft.nodes : nodes.map((n) => requireNode(draft, n));
  for (const node of targets) node.standby = on;
}
