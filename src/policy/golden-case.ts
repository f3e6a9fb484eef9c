/**
 * The golden case format for src/policy/testdata/*.txt: one scenario per file, read top to bottom.
 *
 *   # free text: what the case shows (every line starting with # is a comment)
 *   nodes node1 node2 node3                 configured nodes, in configuration order
 *   standby node2                           pcs node standby node2
 *   resource Cluster_VIP ocf:heartbeat:IPaddr2 ip=10.0.0.200 meta resource-stickiness=100
 *   group web Cluster_VIP Http_Check [meta target-role=Stopped]   members in start order
 *   defaults resource-stickiness=100        pcs resource defaults update ...
 *   property no-quorum-policy=freeze        pcs property set ...
 *   location Cluster_VIP prefers node1[=50] [until=5000]   score defaults to INFINITY; until= is expiresMs
 *   location Cluster_VIP avoids node2[=50]
 *   ban Cluster_VIP node1 [until=5000]      pcs resource ban: id cli-ban-Cluster_VIP-on-node1, -INFINITY
 *   move Cluster_VIP node2 [until=5000]     pcs resource move-with-constraint: id cli-prefer-Cluster_VIP, INFINITY
 *   colocation Web with Cluster_VIP [score]                 score defaults to INFINITY
 *   order Cluster_VIP then Web [optional] [asymmetrical]
 *
 *   round                                   starts a round; configuration anywhere is shared by all rounds,
 *                                           and state lines before the first round are every round's start
 *   online node1 node2                      this partition's members (default: every node)
 *   quorate no                              default yes
 *   now 1000                                the clock, in ms (default 0)
 *   probing node2                           node2 has not finished probing
 *   status node1 Cluster_VIP=running Http_Check=failed:2@900   state[:failCount[@lastFailureMs]][#generation]
 *   lost node1 fenceable Dummy=running      a node outside the view, not fenced since it was lost, with its
 *                                           last report; "fenceable" or "unfenceable" (a device can fence it)
 *   expect                                  then, until the next round:
 *   stop Http_Check node1                   the actions, as a set
 *   start Cluster_VIP node2
 *   place Cluster_VIP node2                 placement of every resource ("-" for nowhere)
 *   fence node1 reboot                      the nodes to fence, as a set (exact, like the actions)
 *   note Cluster_VIP: waiting for node2 to finish probing   must appear among the notes
 *
 * A file without any "round" line is a single round. Expectations are exact for actions and placement,
 * and notes are checked only when listed.
 */
import { clusterConfigSchema, scoreTextSchema } from "../config/schema.ts";
import { INFINITY } from "./score.ts";
import type { Action, FenceRequest, LostNode, NodeStatus, PolicyInput, ResourceStatus } from "./types.ts";

export interface GoldenRound {
  input: PolicyInput;
  expectedActions: Action[];
  expectedFencing: FenceRequest[];
  expectedPlacement: Record<string, string | null>;
  expectedNotes: string[];
  /** Line number of the round's first line, for error messages. */
  line: number;
}

interface RoundDraft {
  online?: string[];
  quorate: boolean;
  nowMs: number;
  probing: string[];
  status: Record<string, Record<string, ResourceStatus>>;
  lost: Record<string, LostNode>;
  fencing: FenceRequest[];
  actions: Action[];
  placement: Record<string, string | null>;
  notes: string[];
  line: number;
}

function keyValues(words: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq <= 0) throw new Error(`expected name=value, got '${word}'`);
    map[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return map;
}

function parseScore(text: string | undefined): number {
  return text === undefined ? INFINITY : scoreTextSchema.parse(text);
}

function parseResourceStatus(text: string): ResourceStatus {
  const match = /^(running|stopped|failed|unknown)(?::(\d+)(?:@(\d+))?)?(?:#(\d+))?$/.exec(text);
  if (!match) throw new Error(`bad status '${text}': use state[:failCount[@lastFailureMs]][#generation]`);
  const [, state, count, at] = match;
  const status: ResourceStatus = { state: state as ResourceStatus["state"], failCount: Number(count ?? 0) };
  if (at !== undefined) status.lastFailureMs = Number(at);
  if (match[4] !== undefined) status.generation = Number(match[4]);
  return status;
}

function splitMeta(words: readonly string[]): { plain: string[]; meta: Record<string, string> } {
  const at = words.indexOf("meta");
  if (at < 0) return { plain: [...words], meta: {} };
  return { plain: words.slice(0, at), meta: keyValues(words.slice(at + 1)) };
}

function optionValue(words: readonly string[], name: string): string | undefined {
  return words.find((w) => w.startsWith(`${name}=`))?.slice(name.length + 1);
}

export function parseGoldenCase(text: string): GoldenRound[] {
  const nodes: string[] = [];
  const standby = new Set<string>();
  const resources: unknown[] = [];
  const groups: unknown[] = [];
  const location: Record<string, unknown>[] = [];
  const colocation: unknown[] = [];
  const order: unknown[] = [];
  const properties: Record<string, string> = {};
  const defaults: Record<string, string> = {};
  const emptyRound = (line: number): RoundDraft => ({
    quorate: true,
    nowMs: 0,
    probing: [],
    status: {},
    lost: {},
    fencing: [],
    actions: [],
    placement: {},
    notes: [],
    line,
  });
  // State given before the first "round" line is where every round starts from.
  const base = emptyRound(1);
  const rounds: RoundDraft[] = [];
  let expecting = false;
  const newRound = (line: number): RoundDraft => {
    const draft = { ...structuredClone(base), actions: [], fencing: [], placement: {}, notes: [], line };
    rounds.push(draft);
    expecting = false;
    return draft;
  };
  let round: RoundDraft | undefined;
  const current = () => round ?? base;

  text.split("\n").forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [keyword = "", ...words] = line.split(/\s+/);
    try {
      if (expecting && !["stop", "start", "place", "note", "fence", "round"].includes(keyword)) {
        throw new Error(
          `'${keyword}' after expect; only stop, start, place, note, fence or round may follow`,
        );
      }
      switch (keyword) {
        case "nodes":
          nodes.push(...words);
          break;
        case "standby":
          for (const w of words) standby.add(w);
          break;
        case "resource": {
          const [id, type, ...rest] = words;
          const { plain, meta } = splitMeta(rest);
          resources.push({ id, type, params: keyValues(plain), meta });
          break;
        }
        case "group": {
          const [id, ...rest] = words;
          const { plain, meta } = splitMeta(rest);
          groups.push({ id, resources: plain, meta });
          break;
        }
        case "defaults":
          Object.assign(defaults, keyValues(words));
          break;
        case "property":
          Object.assign(properties, keyValues(words));
          break;
        case "location": {
          const [resource = "", verb, target = "", ...rest] = words;
          if (verb !== "prefers" && verb !== "avoids")
            throw new Error("use: location <rsc> prefers|avoids <node>[=score]");
          const [node = "", scoreText] = target.split("=");
          const magnitude = parseScore(scoreText);
          const until = optionValue(rest, "until");
          location.push({
            id: `location-${resource}-${node}-${location.length}`,
            resource,
            node,
            score: verb === "prefers" ? magnitude : -magnitude,
            ...(until === undefined ? {} : { expiresMs: Number(until) }),
          });
          break;
        }
        case "ban":
        case "move": {
          const [resource = "", node = "", ...rest] = words;
          const until = optionValue(rest, "until");
          location.push({
            id: keyword === "ban" ? `cli-ban-${resource}-on-${node}` : `cli-prefer-${resource}`,
            resource,
            node,
            score: keyword === "ban" ? -INFINITY : INFINITY,
            ...(until === undefined ? {} : { expiresMs: Number(until) }),
          });
          break;
        }
        case "colocation": {
          const [resource, withWord, withResource, score] = words;
          if (withWord !== "with") throw new Error("use: colocation <rsc> with <rsc> [score]");
          colocation.push({
            id: `colocation-${resource}-${withResource}`,
            resource,
            withResource,
            score: parseScore(score),
          });
          break;
        }
        case "order": {
          const [first, thenWord, then, ...flags] = words;
          if (thenWord !== "then") throw new Error("use: order <rsc> then <rsc> [optional] [asymmetrical]");
          order.push({
            id: `order-${first}-${then}`,
            first,
            then,
            kind: flags.includes("optional") ? "Optional" : "Mandatory",
            symmetrical: !flags.includes("asymmetrical"),
          });
          break;
        }
        case "round":
          round = newRound(lineNo);
          break;
        case "online":
          current().online = words;
          break;
        case "quorate":
          current().quorate = words[0] !== "no";
          break;
        case "now":
          current().nowMs = Number(words[0]);
          break;
        case "probing":
          current().probing.push(...words);
          break;
        case "status": {
          const [node = "", ...pairs] = words;
          const map = (current().status[node] ??= {});
          for (const [id, value] of Object.entries(keyValues(pairs))) map[id] = parseResourceStatus(value);
          break;
        }
        case "lost": {
          const [node = "", kind = "", ...pairs] = words;
          if (kind !== "fenceable" && kind !== "unfenceable")
            throw new Error("use: lost <node> fenceable|unfenceable <rsc>=<state>...");
          const resources: Record<string, ResourceStatus> = {};
          for (const [id, value] of Object.entries(keyValues(pairs)))
            resources[id] = parseResourceStatus(value);
          current().lost[node] = { resources, fenceable: kind === "fenceable" };
          break;
        }
        case "fence": {
          const [node = "", action = ""] = words;
          if (action !== "off" && action !== "reboot") throw new Error("use: fence <node> off|reboot");
          current().fencing.push({ node, action });
          break;
        }
        case "expect":
          current();
          expecting = true;
          break;
        case "stop":
        case "start": {
          const [resource = "", node = ""] = words;
          current().actions.push({ op: keyword, resource, node });
          break;
        }
        case "place": {
          const [resource = "", node = "-"] = words;
          current().placement[resource] = node === "-" ? null : node;
          break;
        }
        case "note":
          current().notes.push(line.slice("note".length).trim());
          break;
        default:
          throw new Error(`unknown keyword '${keyword}'`);
      }
    } catch (error) {
      throw new Error(`line ${lineNo}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  });

  const config = clusterConfigSchema.parse({
    formatVersion: 1,
    name: "golden",
    epoch: 1,
    nodes: nodes.map((name, i) => ({
      name,
      id: i + 1,
      addrs: [`10.0.0.${i + 11}`],
      standby: standby.has(name),
    })),
    properties,
    resourceDefaults: defaults,
    resources,
    groups,
    constraints: { location, colocation, order },
  });
  const hasBaseExpectations =
    base.actions.length + base.fencing.length + Object.keys(base.placement).length + base.notes.length > 0;
  if (rounds.length > 0 && hasBaseExpectations) throw new Error("expectations before the first round");
  const drafts = rounds.length > 0 ? rounds : [base];
  return drafts.map((draft) => {
    const online = draft.online ?? nodes;
    const status: Record<string, NodeStatus> = {};
    for (const node of online) {
      status[node] = { probed: !draft.probing.includes(node), resources: draft.status[node] ?? {} };
    }
    const lost = Object.keys(draft.lost).length > 0 ? { lost: draft.lost } : {};
    return {
      input: { config, view: { online, quorate: draft.quorate }, status, nowMs: draft.nowMs, ...lost },
      expectedActions: draft.actions,
      expectedFencing: draft.fencing,
      expectedPlacement: draft.placement,
      expectedNotes: draft.notes,
      line: draft.line,
    };
  });
}
