import { knownMetaSchemas, type ClusterConfig } from "../config/schema.ts";
import { INFINITY } from "./score.ts";

/** One resource with its meta attributes resolved (own meta, then its group's, then resourceDefaults). */
export interface ResourceModel {
  id: string;
  /** The placement unit it moves with: its group's id, or its own id. */
  unit: string;
  stickiness: number;
  /** Fail count at which the node is banned; Pacemaker treats INFINITY as a large finite number. */
  migrationThreshold: number;
  /** 0: failures never expire. */
  failureTimeoutMs: number;
  /** target-role=Stopped on the resource or its group. */
  disabled: boolean;
}

/** What is placed as a whole: a group (members in start order) or a lone resource. */
export interface UnitModel {
  id: string;
  members: string[];
  priority: number;
}

/** Start `then` only after `first` runs; stop in reverse when symmetrical. Both are resource ids. */
export interface OrderEdge {
  id: string;
  first: string;
  then: string;
  /** then cannot run without first, and restarts when first stops or moves. */
  mandatory: boolean;
  symmetrical: boolean;
}

/** Place unit `dependent` relative to unit `primary`. */
export interface ColocationEdge {
  id: string;
  dependent: string;
  primary: string;
  score: number;
}

/** A location preference of a unit (from constraints on the unit or on any of its members). */
export interface LocationScore {
  id: string;
  unit: string;
  /** The member or group id the constraint names; a member's preference only counts while it may run. */
  subject: string;
  node: string;
  score: number;
}

export interface PolicyModel {
  /** In configuration order. */
  resources: ResourceModel[];
  resourceById: ReadonlyMap<string, ResourceModel>;
  /** Sorted for allocation: higher priority first, then configuration order. */
  units: UnitModel[];
  unitById: ReadonlyMap<string, UnitModel>;
  /** Explicit order constraints expanded to resources, plus the implicit chain inside each group. */
  orders: OrderEdge[];
  colocations: ColocationEdge[];
  locations: LocationScore[];
  notes: string[];
}

type MetaName = keyof typeof knownMetaSchemas;

function metaValue<T>(
  name: MetaName,
  sources: readonly Record<string, string>[],
  fallback: T,
  owner: string,
  notes: string[],
): T {
  for (const source of sources) {
    const text = source[name];
    if (text === undefined) continue;
    const parsed = knownMetaSchemas[name].safeParse(text);
    if (parsed.success) return parsed.data as T;
    notes.push(`${owner}: ignoring invalid ${name}=${text}`);
    return fallback;
  }
  return fallback;
}

function buildResource(
  config: ClusterConfig,
  resource: ClusterConfig["resources"][number],
  group: ClusterConfig["groups"][number] | undefined,
  notes: string[],
): ResourceModel {
  const groupMeta = group?.meta ?? {};
  const sources = [resource.meta, groupMeta, config.resourceDefaults];
  const read = <T>(name: MetaName, from: readonly Record<string, string>[], fallback: T): T =>
    metaValue(name, from, fallback, resource.id, notes);
  const threshold = read<number>("migration-threshold", sources, INFINITY);
  return {
    id: resource.id,
    unit: group?.id ?? resource.id,
    stickiness: read<number>("resource-stickiness", sources, 0),
    // Pacemaker: 0 disables the threshold.
    migrationThreshold: threshold === 0 ? Number.POSITIVE_INFINITY : threshold,
    failureTimeoutMs: read<number>("failure-timeout", sources, 0),
    // A stopped group stops every member whatever the member says.
    disabled:
      read<string>("target-role", sources, "Started") === "Stopped" ||
      read<string>("target-role", [groupMeta], "") === "Stopped",
  };
}

/** Resource ids an order or colocation naming `id` stands for: a group's members, or the resource itself. */
function membersOf(id: string, groups: ClusterConfig["groups"]): string[] {
  return groups.find((g) => g.id === id)?.resources ?? [id];
}

/** Reads the configuration once into the shapes the allocator and the transition planner work on. */
export function buildPolicyModel(config: ClusterConfig, nowMs: number): PolicyModel {
  const notes: string[] = [];
  const groupOf = new Map<string, ClusterConfig["groups"][number]>();
  for (const group of config.groups) for (const member of group.resources) groupOf.set(member, group);
  const resources = config.resources.map((r) => buildResource(config, r, groupOf.get(r.id), notes));
  const resourceById = new Map(resources.map((r) => [r.id, r]));

  const unitList: (UnitModel & { index: number })[] = [];
  const seenUnits = new Set<string>();
  config.resources.forEach((resource, index) => {
    const group = groupOf.get(resource.id);
    const unitId = group?.id ?? resource.id;
    if (seenUnits.has(unitId)) return;
    seenUnits.add(unitId);
    const members = (group?.resources ?? [resource.id]).filter((m) => resourceById.has(m));
    const metas = [
      ...members.map((m) => config.resources.find((r) => r.id === m)?.meta ?? {}),
      group?.meta ?? {},
    ];
    const priority = Math.max(...metas.map((meta) => metaValue("priority", [meta], 0, unitId, notes)));
    unitList.push({ id: unitId, members, priority, index });
  });
  unitList.sort((a, b) => b.priority - a.priority || a.index - b.index);
  const units = unitList.map(({ id, members, priority }) => ({ id, members, priority }));
  const unitById = new Map(units.map((u) => [u.id, u]));
  const unitOfId = (id: string) => resourceById.get(id)?.unit ?? (unitById.has(id) ? id : undefined);

  const orders: OrderEdge[] = [];
  for (const group of config.groups) {
    group.resources.forEach((member, i) => {
      const previous = group.resources[i - 1];
      if (previous === undefined) return;
      orders.push({ id: group.id, first: previous, then: member, mandatory: true, symmetrical: true });
    });
  }
  for (const order of config.constraints.order) {
    // A group is started when its last member is, and starts with its first member.
    const first = membersOf(order.first, config.groups).at(-1);
    const then = membersOf(order.then, config.groups)[0];
    if (first === undefined || then === undefined || !resourceById.has(first) || !resourceById.has(then))
      continue;
    orders.push({
      id: order.id,
      first,
      then,
      mandatory: order.kind === "Mandatory",
      symmetrical: order.symmetrical,
    });
  }

  const colocations: ColocationEdge[] = [];
  for (const c of config.constraints.colocation) {
    const dependent = unitOfId(c.resource);
    const primary = unitOfId(c.withResource);
    if (dependent === undefined || primary === undefined) continue;
    if (dependent === primary) {
      notes.push(`${c.id}: ignored, ${c.resource} and ${c.withResource} are placed together already`);
      continue;
    }
    colocations.push({ id: c.id, dependent, primary, score: c.score });
  }

  const locations: LocationScore[] = [];
  for (const l of config.constraints.location) {
    const unit = unitOfId(l.resource);
    if (unit === undefined) continue;
    if (l.expiresMs !== undefined && nowMs >= l.expiresMs) {
      notes.push(`${l.id}: expired, ignored`);
      continue;
    }
    locations.push({ id: l.id, unit, subject: l.resource, node: l.node, score: l.score });
  }
  return { resources, resourceById, units, unitById, orders, colocations, locations, notes };
}
