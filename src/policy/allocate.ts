import type { ObservedState } from "./observed-state.ts";
import type { PolicyModel, UnitModel } from "./resource-model.ts";
import { INFINITY, addScores, scaleScore } from "./score.ts";

export interface AllocationInput {
  model: PolicyModel;
  observed: ObservedState;
  /** Online, non-standby nodes in configuration order: the only ones anything may be placed on. */
  eligible: readonly string[];
  /** Resources that may not run at all (disabled, blocked by a mandatory order, no quorum). */
  blocked: ReadonlySet<string>;
  /** symmetric-cluster=false: a unit may only run where a location constraint lets it (opt-in). */
  optIn: boolean;
  /** no-quorum-policy=freeze: a unit may only stay where it already runs. */
  freeze: boolean;
}

export interface Allocation {
  /** Node for each unit, null when it cannot run anywhere. */
  byUnit: Map<string, string | null>;
  notes: string[];
}

type Scores = Map<string, number>;

/** The members that may run: a group stops at its first blocked member, as later ones depend on it. */
function liveMembers(unit: UnitModel, blocked: ReadonlySet<string>): string[] {
  const stop = unit.members.findIndex((m) => blocked.has(m));
  return stop < 0 ? unit.members : unit.members.slice(0, stop);
}

/** Nodes the unit is on now, best first: where members run, then where they failed, then where they last failed. */
function currentNodes(input: AllocationInput, members: readonly string[]): string[] {
  const found: string[] = [];
  const observations = members.flatMap((m) => input.observed.byResource.get(m) ?? []);
  for (const o of observations) found.push(...o.runningNewestFirst);
  for (const o of observations) found.push(...o.failed);
  for (const o of observations) if (o.recoveryNode !== null) found.push(o.recoveryNode);
  return [...new Set(found)];
}

/** Location constraints, stickiness and failure bans of the unit itself, on every eligible node. */
function ownScores(input: AllocationInput, unit: UnitModel): Scores {
  const members = liveMembers(unit, input.blocked);
  const subjects = new Set([unit.id, ...members]);
  const scores: Scores = new Map();
  for (const node of input.eligible) {
    const constraints = input.model.locations.filter(
      (l) => l.unit === unit.id && l.node === node && subjects.has(l.subject),
    );
    let score = input.optIn && !constraints.some((l) => l.score >= 0) ? -INFINITY : 0;
    for (const l of constraints) score = addScores(score, l.score);
    for (const id of members) {
      const resource = input.model.resourceById.get(id);
      const seen = input.observed.byResource.get(id);
      if (resource === undefined || seen === undefined) continue;
      const here = seen.running.includes(node) || seen.failed.includes(node) || seen.recoveryNode === node;
      if (here) score = addScores(score, resource.stickiness);
      if (seen.bannedByFailures.includes(node)) score = -INFINITY;
    }
    scores.set(node, score);
  }
  return scores;
}

function merge(into: Scores, from: Scores, factor: number): Scores {
  const merged: Scores = new Map();
  for (const [node, score] of into)
    merged.set(node, addScores(score, scaleScore(from.get(node) ?? 0, factor)));
  return merged;
}

const anyAllowed = (scores: Scores) => [...scores.values()].some((s) => s >= 0);

/**
 * Scores with the wishes of units that must follow this one folded in, as Pacemaker does for colocation
 * dependents: a VIP that a web server is colocated with avoids the node the web server is banned from.
 * A dependent whose wishes would leave no node at all is ignored, so the primary can still run.
 */
function scoresWithDependents(input: AllocationInput, unit: UnitModel, seen: Set<string>): Scores {
  seen.add(unit.id);
  let scores = ownScores(input, unit);
  for (const c of input.model.colocations) {
    if (c.primary !== unit.id || c.score <= 0 || seen.has(c.dependent)) continue;
    const dependent = input.model.unitById.get(c.dependent);
    if (dependent === undefined || liveMembers(dependent, input.blocked).length === 0) continue;
    const merged = merge(scores, scoresWithDependents(input, dependent, seen), c.score / INFINITY);
    if (anyAllowed(merged)) scores = merged;
  }
  return scores;
}

/** Units in allocation order: each after the units it is colocated with, else priority and config order. */
function allocationOrder(model: PolicyModel, notes: string[]): UnitModel[] {
  const ordered: UnitModel[] = [];
  const done = new Set<string>();
  while (ordered.length < model.units.length) {
    const pending = model.units.filter((u) => !done.has(u.id));
    const ready = pending.find((u) =>
      model.colocations.every(
        (c) => c.dependent !== u.id || done.has(c.primary) || !model.unitById.has(c.primary),
      ),
    );
    const next = ready ?? pending[0];
    if (next === undefined) break;
    if (ready === undefined)
      notes.push(`${next.id}: colocation loop; placed before the units it is colocated with`);
    ordered.push(next);
    done.add(next.id);
  }
  return ordered;
}

function pickNode(scores: Scores, preferred: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const [node, score] of scores) {
    if (score < 0) continue;
    if (score > bestScore) [best, bestScore] = [node, score];
  }
  if (best === null) return null;
  // Ties go to the first preferred node that ties; otherwise the first in configuration order (Map order).
  return preferred.find((n) => scores.get(n) === bestScore) ?? best;
}

/** Pacemaker-style allocation: per unit, the eligible node with the highest non-negative score. */
export function allocate(input: AllocationInput): Allocation {
  const notes: string[] = [];
  const byUnit = new Map<string, string | null>();
  for (const unit of allocationOrder(input.model, notes)) {
    const members = liveMembers(unit, input.blocked);
    if (members.length === 0) {
      byUnit.set(unit.id, null);
      continue;
    }
    let scores = scoresWithDependents(input, unit, new Set());
    for (const c of input.model.colocations) {
      if (c.dependent !== unit.id || !byUnit.has(c.primary)) continue;
      const where = byUnit.get(c.primary) ?? null;
      scores = applyColocation(scores, where, c.score);
      if (where === null && c.score >= INFINITY)
        notes.push(`${unit.id}: cannot run, ${c.primary} is not placed`);
    }
    const current = currentNodes(input, members);
    if (input.freeze) {
      const running = new Set(members.flatMap((m) => input.observed.byResource.get(m)?.running ?? []));
      for (const node of scores.keys()) if (!running.has(node)) scores.set(node, -INFINITY);
    }
    // Equal scores go to configuration order, so with stickiness 0 a healthy resource fails back to the
    // first node (the seed recipe's behaviour); a failed unit restarts in place, and a unit found running
    // on several nodes after a partition keeps its newest copy.
    const seen = members.flatMap((m) => input.observed.byResource.get(m) ?? []);
    const runningOn = new Set(seen.flatMap((o) => o.running));
    const recovering = seen.some((o) => o.failed.length > 0 || o.recoveryNode !== null);
    const node = pickNode(scores, runningOn.size > 1 || recovering ? current : []);
    byUnit.set(unit.id, node);
    if (node === null && !input.freeze && input.eligible.length > 0)
      notes.push(`${unit.id}: cannot run anywhere`);
  }
  return { byUnit, notes };
}

function applyColocation(scores: Scores, primaryNode: string | null, score: number): Scores {
  const result: Scores = new Map();
  for (const [node, value] of scores) {
    let extra = 0;
    if (primaryNode === null) extra = score >= INFINITY ? -INFINITY : 0;
    else if (node === primaryNode) extra = score;
    else if (score >= INFINITY) extra = -INFINITY;
    result.set(node, addScores(value, extra));
  }
  return result;
}
