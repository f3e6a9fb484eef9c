import type { ObservedState, ResourceObservation } from "./observed-state.ts";
import type { PolicyModel } from "./resource-model.ts";
import type { Action } from "./types.ts";

export interface TransitionInput {
  model: PolicyModel;
  observed: ObservedState;
  placement: Readonly<Record<string, string | null>>;
  /** Why no start, and no stop of a healthy copy that should move, may happen now (probes pending); else null. */
  startHold: string | null;
}

export interface Transition {
  actions: Action[];
  notes: string[];
}

type StopSet = Map<string, Set<string>>;

function observation(input: TransitionInput, id: string): ResourceObservation {
  const seen = input.observed.byResource.get(id);
  if (seen === undefined) throw new Error(`policy: no observation for ${id}`);
  return seen;
}

/**
 * A first resource is settled when it runs healthy where it is placed and is not about to stop there; an
 * unknown state is given the benefit of the doubt, so a monitor glitch does not restart its dependents.
 */
function settled(input: TransitionInput, stops: StopSet, id: string): boolean {
  const node = input.placement[id] ?? null;
  if (node === null) return false;
  const state = observation(input, id).state(node);
  return (state === "running" || state === "unknown") && !(stops.get(id)?.has(node) ?? false);
}

/** Settled and known to run: what a start ordered after this resource waits for. */
function runsSettled(input: TransitionInput, stops: StopSet, id: string): boolean {
  const node = input.placement[id] ?? null;
  return node !== null && observation(input, id).state(node) === "running" && settled(input, stops, id);
}

/**
 * Every (resource, node) that must stop: copies away from the placement, failed copies, and the dependents
 * of a mandatory, symmetrical order whose first resource is not settled (they restart after it).
 */
function stopsNeeded(input: TransitionInput): StopSet {
  const stops: StopSet = new Map();
  for (const r of input.model.resources) {
    const seen = observation(input, r.id);
    const target = input.placement[r.id] ?? null;
    const set = new Set([...seen.running.filter((n) => n !== target), ...seen.failed]);
    stops.set(r.id, set);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const order of input.model.orders) {
      if (!order.mandatory || !order.symmetrical || settled(input, stops, order.first)) continue;
      const set = stops.get(order.then);
      for (const node of observation(input, order.then).running) {
        if (set === undefined || set.has(node)) continue;
        set.add(node);
        changed = true;
      }
    }
  }
  return stops;
}

export function planTransition(input: TransitionInput): Transition {
  const actions: Action[] = [];
  const notes: string[] = [];
  const stops = stopsNeeded(input);
  const stopping = (id: string) => (stops.get(id)?.size ?? 0) > 0;

  for (const r of input.model.resources) {
    const nodes = stops.get(r.id) ?? new Set<string>();
    if (nodes.size === 0) continue;
    // Symmetrical orders stop in reverse: everything started after this resource stops first.
    const waitFor = input.model.orders.filter((o) => o.first === r.id && o.symmetrical && stopping(o.then));
    if (waitFor.length > 0) {
      notes.push(`${r.id}: stop waits for ${[...new Set(waitFor.map((o) => o.then))].join(", ")} to stop`);
      continue;
    }
    const seen = observation(input, r.id);
    const target = input.placement[r.id] ?? null;
    for (const node of seen.running.concat(seen.failed)) {
      if (!nodes.has(node)) continue;
      // While a node probes, a move or restart would stop a healthy copy before anything may start (and
      // the probing node may turn out to hold it already): only failed copies, duplicates of a copy that
      // stays, and copies of resources that are to stop altogether go now.
      const duplicate = target !== null && target !== node && seen.state(target) === "running";
      const holdForProbe =
        input.startHold !== null && seen.state(node) === "running" && target !== null && !duplicate;
      if (holdForProbe) notes.push(`${r.id}: stop on ${node} ${input.startHold}`);
      else actions.push({ op: "stop", resource: r.id, node });
    }
  }

  for (const r of input.model.resources) {
    const target = input.placement[r.id] ?? null;
    const seen = observation(input, r.id);
    if (target === null || seen.state(target) === "running") continue;
    const elsewhere = seen.running.filter((n) => n !== target);
    if (elsewhere.length > 0) notes.push(`${r.id}: moving from ${elsewhere.join(", ")} to ${target}`);
    const why = startBlocker(input, stops, r.id);
    if (why !== null) {
      if (why !== "") notes.push(`${r.id}: ${why}`);
      continue;
    }
    actions.push({ op: "start", resource: r.id, node: target });
  }
  return { actions, notes };
}

/** Why the resource may not start this round; "" for a reason that needs no note (it is still stopping). */
function startBlocker(input: TransitionInput, stops: StopSet, id: string): string | null {
  const seen = observation(input, id);
  if (seen.running.length > 0 || seen.failed.length > 0) return "";
  if (seen.unknown.length > 0) return `state unknown on ${seen.unknown.join(", ")}; not starting`;
  if (input.startHold !== null) return input.startHold;
  const impossible = input.model.orders.filter(
    (o) => o.then === id && o.mandatory && input.placement[o.first] == null,
  );
  if (impossible.length > 0) return `cannot start, ${impossible.map((o) => o.first).join(", ")} cannot run`;
  const waiting = input.model.orders
    .filter((o) => o.then === id && input.placement[o.first] != null)
    .filter((o) => !runsSettled(input, stops, o.first))
    .map((o) => o.first);
  if (waiting.length > 0) return `start waits for ${[...new Set(waiting)].join(", ")} to start`;
  return null;
}
