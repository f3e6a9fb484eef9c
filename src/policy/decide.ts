import { knownPropertySchemas, type ClusterConfig } from "../config/schema.ts";
import { allocate } from "./allocate.ts";
import { planFencing } from "./fencing.ts";
import { observe, type ObservedState } from "./observed-state.ts";
import { buildPolicyModel, type PolicyModel } from "./resource-model.ts";
import { planTransition } from "./transition.ts";
import type { PolicyDecision, PolicyInput } from "./types.ts";

type NoQuorumPolicy = "stop" | "ignore" | "freeze" | "demote" | "fence" | "suicide";

interface ClusterOptions {
  noQuorumPolicy: NoQuorumPolicy;
  stopAllResources: boolean;
  symmetricCluster: boolean;
}

function clusterOptions(config: ClusterConfig, notes: string[]): ClusterOptions {
  const read = <K extends keyof typeof knownPropertySchemas>(name: K, fallback: string): string => {
    const text = config.properties[name];
    if (text === undefined) return fallback;
    if (knownPropertySchemas[name].safeParse(text).success) return text;
    notes.push(`cluster: ignoring invalid ${name}=${text}`);
    return fallback;
  };
  return {
    noQuorumPolicy: read("no-quorum-policy", "stop") as NoQuorumPolicy,
    stopAllResources: read("stop-all-resources", "false") === "true",
    symmetricCluster: read("symmetric-cluster", "true") === "true",
  };
}

/** Resources that may not run for reasons that do not depend on where anything is placed. */
function initiallyBlocked(
  model: PolicyModel,
  options: ClusterOptions,
  quorate: boolean,
  notes: string[],
): Set<string> {
  const blocked = new Set<string>();
  const stopAll =
    options.stopAllResources ||
    (!quorate && options.noQuorumPolicy !== "ignore" && options.noQuorumPolicy !== "freeze");
  for (const r of model.resources) {
    if (stopAll) blocked.add(r.id);
    else if (r.disabled) {
      blocked.add(r.id);
      notes.push(`${r.id}: disabled (target-role=Stopped)`);
    }
  }
  if (options.stopAllResources) notes.push("cluster: stop-all-resources is set; stopping everything");
  else if (stopAll)
    notes.push(
      `cluster: partition without quorum; no-quorum-policy=${options.noQuorumPolicy} stops everything`,
    );
  return blocked;
}

/**
 * A mandatory, symmetrical order's then-resource cannot run while its first-resource cannot. (An
 * asymmetrical one only holds the then-resource's start; see transition.ts.)
 */
function closeOverOrders(model: PolicyModel, blocked: Set<string>): Set<string> {
  const closed = new Set(blocked);
  for (let changed = true; changed;) {
    changed = false;
    for (const o of model.orders) {
      if (o.mandatory && o.symmetrical && closed.has(o.first) && !closed.has(o.then)) {
        closed.add(o.then);
        changed = true;
      }
    }
  }
  return closed;
}

function placeResources(
  model: PolicyModel,
  observed: ObservedState,
  eligible: string[],
  seed: Set<string>,
  options: ClusterOptions,
  freeze: boolean,
): { placement: Record<string, string | null>; notes: string[] } {
  // Placement can make more resources unrunnable (a first resource with no node), which can free or
  // block others; repeat until the blocked set stops growing. It only grows, so this ends.
  let blocked = closeOverOrders(model, seed);
  const notes: string[] = [];
  for (;;) {
    const allocation = allocate({
      model,
      observed,
      eligible,
      blocked,
      optIn: !options.symmetricCluster,
      freeze,
    });
    // A reason found in an early pass (a unit that cannot run anywhere) stays true in the later ones.
    notes.push(...allocation.notes);
    const placement: Record<string, string | null> = {};
    for (const r of model.resources) {
      const node = blocked.has(r.id) ? null : (allocation.byUnit.get(r.unit) ?? null);
      // Frozen: nothing starts, so a resource that is not running where its unit stays has no place.
      const frozenOut = freeze && node !== null && observed.byResource.get(r.id)?.state(node) !== "running";
      placement[r.id] = frozenOut ? null : node;
    }
    const unplaced = model.resources.filter((r) => placement[r.id] === null).map((r) => r.id);
    const next = closeOverOrders(model, new Set([...blocked, ...unplaced]));
    if (next.size === blocked.size) return { placement, notes };
    blocked = next;
  }
}

/**
 * The policy: from configuration, partition view and observed status to where every resource should be
 * and what may be done about it right now. Pure: same input, same output.
 */
export function decide(input: PolicyInput): PolicyDecision {
  const { config, view, status, nowMs } = input;
  const notes: string[] = [];
  const options = clusterOptions(config, notes);
  const online = config.nodes.map((n) => n.name).filter((name) => view.online.includes(name));
  for (const name of view.online) {
    if (!online.includes(name))
      notes.push(`cluster: ${name} is in the view but not in the configuration; ignored`);
  }
  const standby = new Set(config.nodes.filter((n) => n.standby).map((n) => n.name));
  const eligible = online.filter((n) => !standby.has(n));
  const model = buildPolicyModel(config, nowMs);
  const observed = observe(model, online, status, nowMs);
  const freeze = !view.quorate && options.noQuorumPolicy === "freeze";
  if (freeze)
    notes.push("cluster: partition without quorum; no-quorum-policy=freeze keeps running resources only");
  else if (!view.quorate && options.noQuorumPolicy === "ignore")
    notes.push("cluster: no quorum, ignored by policy");
  const seed = initiallyBlocked(model, options, view.quorate, notes);
  const fencing = planFencing(config, input.lost ?? {}, view.quorate);
  for (const id of fencing.held) seed.add(id);
  notes.push(...fencing.notes);
  const placed = placeResources(model, observed, eligible, seed, options, freeze);

  const unprobed = online.filter((n) => status[n]?.probed !== true);
  const startHold = unprobed.length > 0 ? `waiting for ${unprobed.join(", ")} to finish probing` : null;
  const transition = planTransition({ model, observed, placement: placed.placement, startHold });
  notes.push(...model.notes, ...observed.notes, ...placed.notes, ...transition.notes);
  return {
    placement: placed.placement,
    actions: transition.actions,
    notes: [...new Set(notes)],
    fencing: fencing.requests,
  };
}
