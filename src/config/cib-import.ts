import { createAlert, addRecipient } from "./alert-commands.ts";
import {
  addColocation,
  addOrder,
  addToGroup,
  ConfigCommandError,
  setProperties,
  setResourceDefaults,
} from "./commands.ts";
import { parseDuration } from "./duration.ts";
import {
  clusterConfigSchema,
  heartbeatIntervalFor,
  idSchema,
  INFINITY_SCORE,
  ipv4Schema,
  knownMetaSchemas,
  nodeNameSchema,
  scoreTextSchema,
  type ClusterConfig,
  type NodeConfig,
  type OperationConfig,
  type ResourceConfig,
} from "./schema.ts";
import { readXml, XmlSyntaxError, type XmlElement } from "./xml.ts";

/**
 * Converts a Pacemaker CIB (`cibadmin --query`, `pcs cluster cib`) into a floatip configuration. Pure: the
 * caller reads the files and says which agents it can run. Everything that has no floatip equivalent is
 * listed with the reason instead of being dropped silently, and what was converted with a change in
 * meaning is listed as a note.
 */

export type CibImportErrorCode = "FLOATIP_E_CIB_INVALID" | "FLOATIP_E_CIB_NODE_ADDR";

export class CibImportError extends Error {
  override readonly name = "CibImportError";
  constructor(
    readonly code: CibImportErrorCode,
    detail: string,
  ) {
    // Details quote the CIB (names, ids, parser messages): a control character in one must not split the line.
    super(`${code}: ${escapeControls(detail)}`);
  }
}

export interface CibImportOptions {
  /** Node addresses from the command line (node name -> IPv4); they win over the CIB's and corosync's. */
  addrs?: Readonly<Record<string, string>>;
  /** Addresses of the nodes of the cluster imported into, used when neither addrs nor corosync.conf give one. */
  knownAddrs?: Readonly<Record<string, string>>;
  /** The text of corosync.conf: node addresses and ids, cluster name, token, two_node. */
  corosyncConf?: string;
  /** "oci": IPaddr2 resources become cloud VIPs (property cloud=oci), as on a cluster set up on OCI. */
  cloud?: "oci" | "none";
  /** Cluster name when neither the CIB nor corosync.conf has one. */
  name?: string;
  /** Problems with a fence device (agent not installed, bad pcmk_host_map); without it every fence_* agent is accepted. */
  fenceProblems?: (type: string, params: Readonly<Record<string, string>>) => string[];
  /** Why floatip cannot run an agent type here (null: it can); without it every OCF type is accepted. */
  agentProblem?: (type: string) => string | null;
}

/** One CIB element (or attribute of one) that has no place in the floatip configuration. */
export interface Unconverted {
  /** The CIB element name: primitive, clone, rsc_location, nvpair, op, ... */
  element: string;
  /** Its id, or a path such as Cluster_VIP/meta:is-managed for a part of one. */
  id: string;
  reason: string;
}

export interface CibImportResult {
  config: ClusterConfig;
  unconverted: Unconverted[];
  /** Conversions that change form or meaning (IPaddr2 to a cloud VIP, defaulted timeouts, ...). */
  notes: string[];
}

// ------------------------------------------------------------------------------------------ XML reading

/** The CIB's root element; XML that is not well formed, or that the reader refuses, is one coded line. */
function parseCibXml(text: string): XmlElement {
  try {
    return readXml(text, { trim: true });
  } catch (error) {
    if (!(error instanceof XmlSyntaxError)) throw error;
    const at =
      error.column === undefined ? `line ${error.line}` : `line ${error.line}, column ${error.column}`;
    throw new CibImportError(
      "FLOATIP_E_CIB_INVALID",
      error.line === undefined
        ? `cannot read the XML: ${error.reason}`
        : `not well-formed XML at ${at}: ${error.reason}`,
    );
  }
}

/** `text` with control characters shown as escapes (\u001b), so it prints as one plain line. */
function escapeControls(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const kids = (e: XmlElement | undefined, name: string): XmlElement[] =>
  e ? e.children.filter((c) => c.name === name) : [];
const kid = (e: XmlElement | undefined, name: string): XmlElement | undefined => kids(e, name)[0];

// ------------------------------------------------------------------------------------- corosync.conf

interface CorosyncNode {
  name?: string;
  nodeid?: number;
  ring0?: string;
}

interface CorosyncFacts {
  clusterName?: string;
  tokenMs?: number;
  twoNode?: boolean;
  waitForAll?: boolean;
  nodes: CorosyncNode[];
}

/** corosync.conf's `section { key: value }` syntax, enough to read totem, nodelist and quorum. */
export function parseCorosyncConf(text: string): CorosyncFacts {
  const facts: CorosyncFacts = { nodes: [] };
  const stack: string[] = [];
  let node: CorosyncNode | undefined;
  for (const [i, rawLine] of text.split("\n").entries()) {
    const line = rawLine.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const open = /^([A-Za-z0-9_.-]+)\s*\{$/.exec(line);
    if (open) {
      stack.push(open[1] ?? "");
      if (stack.join(".") === "nodelist.node") node = {};
      continue;
    }
    if (line === "}") {
      if (stack.join(".") === "nodelist.node" && node) facts.nodes.push(node);
      if (stack.pop() === undefined)
        throw new CibImportError(
          "FLOATIP_E_CIB_INVALID",
          `corosync.conf line ${i + 1}: '}' without a section`,
        );
      continue;
    }
    const pair = /^([A-Za-z0-9_.-]+)\s*:\s*(.*)$/.exec(line);
    if (!pair) {
      throw new CibImportError("FLOATIP_E_CIB_INVALID", `corosync.conf line ${i + 1}: cannot read '${line}'`);
    }
    const key = pair[1] ?? "";
    const value = (pair[2] ?? "").trim();
    const where = stack.join(".");
    if (where === "totem" && key === "cluster_name") facts.clusterName = value;
    if (where === "totem" && key === "token" && /^\d+$/.test(value)) facts.tokenMs = Number(value);
    if (where === "quorum" && key === "two_node") facts.twoNode = value === "1";
    if (where === "quorum" && key === "wait_for_all") facts.waitForAll = value === "1";
    if (where === "nodelist.node" && node) {
      if (key === "name") node.name = value;
      if (key === "nodeid" && /^\d+$/.test(value)) node.nodeid = Number(value);
      if (key === "ring0_addr") node.ring0 = value;
    }
  }
  if (stack.length > 0)
    throw new CibImportError(
      "FLOATIP_E_CIB_INVALID",
      `corosync.conf: section '${stack.join(".")}' is not closed`,
    );
  return facts;
}

// --------------------------------------------------------------------------------------------- helpers

const PACEMAKER_MAINTAINED = new Set([
  "dc-version",
  "cluster-infrastructure",
  "have-watchdog",
  "last-lrm-refresh",
]);
const BOOLEAN_PROPERTIES = new Set([
  "stonith-enabled",
  "maintenance-mode",
  "start-failure-is-fatal",
  "stop-all-resources",
  "symmetric-cluster",
]);
/** The attributes of floatip's native IPaddr2 (the script's others, like iflabel, have no meaning there). */
const IPADDR2_PARAMS = new Set(["ip", "cidr_netmask", "nic", "arp_count", "arp_interval"]);
const IPADDR2 = "ocf:heartbeat:IPaddr2";
/** Pacemaker's action timeout when neither the op nor op_defaults gives one. */
const DEFAULT_OP_TIMEOUT_MS = 20_000;
/** floatip's own start/stop timeout for a cloud VIP: a start may wait out API retries. */
const CLOUD_VIP_TIMEOUT_MS = 60_000;

/** Pacemaker's booleans (yes/no/on/off/1/0/true/false, any case) as floatip stores them. */
function pacemakerBoolean(value: string): string | null {
  const v = value.trim().toLowerCase();
  if (["true", "yes", "on", "y", "1"].includes(v)) return "true";
  if (["false", "no", "off", "n", "0"].includes(v)) return "false";
  return null;
}

/** Pacemaker's scores: integers, INFINITY, +INFINITY, -INFINITY, clamped. */
function scoreOf(text: string | undefined): number | null {
  if (text === undefined) return null;
  const parsed = scoreTextSchema.safeParse(text);
  return parsed.success ? parsed.data : null;
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^FLOATIP_E_[A-Z_]+: /, "");
}

/**
 * An IPaddr2 under another provider (the seed's hack copied out of the package), the older IPaddr (same
 * ip/cidr_netmask/nic parameters), or floatip's own oci-vip for Pacemaker.
 */
function isVipType(ocfType: string): boolean {
  const [, provider = "", type = ""] = ocfType.split(":");
  return (
    (type === "IPaddr2" && provider !== "heartbeat") ||
    (type === "IPaddr" && provider === "heartbeat") ||
    (provider === "floatip" && type === "oci-vip")
  );
}

class Converter {
  readonly unconverted: Unconverted[] = [];
  readonly notes: string[] = [];
  /** Ids of resources and groups that made it into the configuration. */
  private readonly converted = new Set<string>();
  /** Ids the CIB has that were not converted (clones, stonith, ...), so constraints naming them say why. */
  private readonly dropped = new Map<string, string>();
  /** Fence devices converted; constraints on them have no floatip meaning. */
  private readonly stonithIds = new Set<string>();
  private opTimeoutDefaultMs: number | null = null;
  cloudImplied = false;

  constructor(private readonly options: CibImportOptions) {}

  skip(element: string, id: string, reason: string): void {
    this.unconverted.push({ element, id, reason });
  }

  // -------------------------------------------------------------------------------- attribute sets

  /** The nvpairs of every set of one kind under `owner`; sets with rules or references are reported. */
  nvpairs(owner: XmlElement | undefined, setName: string, ownerId: string): [string, string][] {
    const out: [string, string][] = [];
    for (const set of kids(owner, setName)) {
      const setId = set.attrs["id"] ?? set.attrs["id-ref"] ?? setName;
      if (set.attrs["id-ref"] !== undefined) {
        this.skip(
          setName,
          `${ownerId}/${setId}`,
          "references to shared attribute sets (id-ref) are not supported",
        );
        continue;
      }
      if (kid(set, "rule")) {
        this.skip(setName, `${ownerId}/${setId}`, "attribute sets that apply under a rule are not supported");
        continue;
      }
      for (const pair of kids(set, "nvpair")) {
        const name = pair.attrs["name"];
        const value = pair.attrs["value"];
        if (name === undefined || value === undefined) {
          this.skip("nvpair", `${ownerId}/${pair.attrs["id"] ?? "?"}`, "an nvpair without name or value");
          continue;
        }
        out.push([name, value]);
      }
    }
    return out;
  }

  /** Meta attributes floatip acts on, normalised; the others are reported. */
  meta(owner: XmlElement, ownerId: string, element = "meta_attributes"): Record<string, string> {
    const meta: Record<string, string> = {};
    for (const [name, raw] of this.nvpairs(owner, element, ownerId)) {
      const rule = (knownMetaSchemas as Record<string, { safeParse(v: string): { success: boolean } }>)[name];
      if (!rule) {
        this.skip(
          "nvpair",
          `${ownerId}/meta:${name}`,
          `floatip does not act on meta attribute '${name}' (${name}=${raw})`,
        );
        continue;
      }
      let value = raw.trim();
      if (name === "target-role") value = value.charAt(0).toUpperCase() + value.slice(1).toLowerCase();
      if (!rule.safeParse(value).success) {
        this.skip("nvpair", `${ownerId}/meta:${name}`, `'${raw}' is not a value floatip accepts for ${name}`);
        continue;
      }
      meta[name] = value;
    }
    return meta;
  }

  // ------------------------------------------------------------------------------------- defaults

  opDefaults(cib: XmlElement): void {
    for (const defaults of kids(kid(cib, "configuration"), "op_defaults")) {
      for (const [name, value] of this.nvpairs(defaults, "meta_attributes", "op_defaults")) {
        if (name === "timeout") {
          try {
            this.opTimeoutDefaultMs = parseDuration(value);
            this.notes.push(
              `op_defaults timeout=${value} is applied to every operation without its own timeout`,
            );
            continue;
          } catch (error) {
            this.skip("nvpair", `op_defaults/${name}`, errorText(error));
            continue;
          }
        }
        this.skip(
          "nvpair",
          `op_defaults/${name}`,
          `floatip has no operation default '${name}' (${name}=${value})`,
        );
      }
    }
  }

  rscDefaults(cib: XmlElement, draft: ClusterConfig): void {
    for (const defaults of kids(kid(cib, "configuration"), "rsc_defaults")) {
      const meta = this.meta(defaults, "rsc_defaults");
      try {
        setResourceDefaults(draft, meta);
      } catch (error) {
        this.skip("rsc_defaults", "rsc_defaults", errorText(error));
      }
    }
  }

  // -------------------------------------------------------------------------------------- resources

  operations(primitive: XmlElement, id: string, cloudVip: boolean): OperationConfig[] {
    const ops: OperationConfig[] = [];
    for (const op of kids(kid(primitive, "operations"), "op")) {
      const opId = `${id}/${op.attrs["id"] ?? op.attrs["name"] ?? "op"}`;
      const name = op.attrs["name"] ?? "";
      if (op.attrs["id-ref"] !== undefined) {
        this.skip("op", opId, "references to shared operations (id-ref) are not supported");
        continue;
      }
      if (pacemakerBoolean(op.attrs["enabled"] ?? "true") === "false") {
        this.skip("op", opId, "a disabled operation is left out");
        continue;
      }
      if (!["monitor", "start", "stop"].includes(name)) {
        this.skip("op", opId, `floatip runs start, stop and monitor only, not '${name}'`);
        continue;
      }
      const role = op.attrs["role"];
      if (role !== undefined && role.toLowerCase() !== "started") {
        this.skip(
          "op",
          opId,
          `operations for role ${role} need a promotable clone, which floatip does not have`,
        );
        continue;
      }
      let intervalMs: number;
      let timeoutMs: number;
      try {
        intervalMs = parseDuration(op.attrs["interval"] ?? "0");
        const timeoutText = op.attrs["timeout"];
        timeoutMs =
          timeoutText !== undefined
            ? parseDuration(timeoutText)
            : (this.opTimeoutDefaultMs ?? DEFAULT_OP_TIMEOUT_MS);
      } catch (error) {
        this.skip("op", opId, errorText(error));
        continue;
      }
      if (name === "monitor" && intervalMs === 0) {
        this.skip(
          "op",
          opId,
          "a monitor with interval 0 sets up the probe; floatip probes with the monitor's settings",
        );
        continue;
      }
      if (name !== "monitor" && intervalMs !== 0) {
        this.skip("op", opId, `a recurring ${name} is not supported`);
        continue;
      }
      if (ops.some((o) => o.name === name)) {
        this.skip("op", opId, `floatip runs one ${name} per resource; the first one in the CIB is kept`);
        continue;
      }
      for (const attr of ["on-fail", "start-delay", "interval-origin", "record-pending", "requires"]) {
        const value = op.attrs[attr];
        if (value !== undefined && !(attr === "on-fail" && value === "restart")) {
          this.skip("op", `${opId}:${attr}`, `floatip does not support ${attr}=${value} on operations`);
        }
      }
      if (kid(op, "instance_attributes") || kid(op, "meta_attributes")) {
        this.skip(
          "op",
          `${opId}:attributes`,
          "operation attributes (such as OCF_CHECK_LEVEL) are not supported",
        );
      }
      if (cloudVip && name !== "monitor" && timeoutMs < CLOUD_VIP_TIMEOUT_MS) {
        this.notes.push(
          `${id}: ${name} timeout raised from ${timeoutMs / 1000}s to ${CLOUD_VIP_TIMEOUT_MS / 1000}s: a cloud VIP's ${name} may wait out API retries`,
        );
        timeoutMs = CLOUD_VIP_TIMEOUT_MS;
      }
      if (timeoutMs < 100 || timeoutMs > 3_600_000 || intervalMs > 86_400_000) {
        this.skip(
          "op",
          opId,
          "interval or timeout outside what floatip accepts (timeout 100 ms to 1 h, interval up to 1 day)",
        );
        continue;
      }
      ops.push({ name: name as OperationConfig["name"], intervalMs, timeoutMs });
    }
    return ops;
  }

  primitive(primitive: XmlElement, draft: ClusterConfig): string | null {
    const id = primitive.attrs["id"] ?? "";
    const klass = primitive.attrs["class"];
    const provider = primitive.attrs["provider"];
    const agent = primitive.attrs["type"];
    const drop = (reason: string): null => {
      this.skip("primitive", id, reason);
      this.dropped.set(id, reason);
      return null;
    };
    if (!idSchema.safeParse(id).success) return drop(`'${id}' is not an id floatip accepts`);
    if (primitive.attrs["template"] !== undefined)
      return drop("resources made from a template are not supported");
    if (klass === "stonith") return this.stonith(primitive, id, agent ?? "", draft, drop);
    if (klass !== "ocf" || provider === undefined || agent === undefined) {
      return drop(
        `class '${klass ?? "?"}' agents are not supported; floatip runs OCF agents, IPaddr2 and its health checks (floatip:check:http|tcp|exec)`,
      );
    }
    let type = `ocf:${provider}:${agent}`;
    const cloud = this.options.cloud === "oci";
    if (isVipType(type)) {
      const plainIpaddr = type === "ocf:heartbeat:IPaddr";
      this.notes.push(
        plainIpaddr
          ? `${id}: ${type} is converted to floatip's ${IPADDR2} (same parameters)`
          : `${id}: ${type} is converted to floatip's ${IPADDR2}, which is already the OCI VIP; the patched script is not needed`,
      );
      type = IPADDR2;
      // Only an OCI-specific agent says the cluster runs on OCI; the old IPaddr says nothing about it.
      if (!plainIpaddr) this.cloudImplied = true;
    }
    const isVip = type === IPADDR2;
    if (!isVip) {
      const problem = this.options.agentProblem?.(type) ?? null;
      if (problem !== null) return drop(problem.replace(/^FLOATIP_E_[A-Z_]+: /, ""));
    }
    const params: Record<string, string> = {};
    for (const [name, value] of this.nvpairs(primitive, "instance_attributes", id)) {
      if (isVip && !IPADDR2_PARAMS.has(name)) {
        this.skip(
          "nvpair",
          `${id}/param:${name}`,
          `floatip's IPaddr2 has no parameter '${name}' (${name}=${value}); on OCI it finds the VNIC from instance metadata`,
        );
        continue;
      }
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
        this.skip("nvpair", `${id}/param:${name}`, `'${name}' is not a parameter name floatip accepts`);
        continue;
      }
      params[name] = value;
    }
    const cloudVip = isVip && (cloud || this.cloudImplied);
    if (isVip) {
      this.notes.push(
        cloudVip
          ? `${id}: ${IPADDR2} ip=${params["ip"] ?? "?"} runs as an OCI VIP (a secondary private IP moved through the API, property cloud=oci)`
          : `${id}: ${IPADDR2} runs as a local address (no cloud=oci); import with --cloud oci for an OCI cluster`,
      );
    }
    if (kid(primitive, "utilization")) this.skip("utilization", id, "floatip does not place by utilization");
    const resource: ResourceConfig = {
      id,
      type,
      params,
      meta: this.meta(primitive, id),
      ops: this.operations(primitive, id, cloudVip),
    };
    draft.resources.push(resource);
    this.converted.add(id);
    return id;
  }

  /** A Pacemaker fence device (class stonith) becomes a floatip one, run by floatip's fencer. */
  stonith(
    primitive: XmlElement,
    id: string,
    agent: string,
    draft: ClusterConfig,
    drop: (reason: string) => null,
  ): string | null {
    if (!/^fence_[A-Za-z0-9_]+$/.test(agent))
      return drop(`'stonith:${agent}' is not a fence agent floatip can run`);
    const params = Object.fromEntries(this.nvpairs(primitive, "instance_attributes", id));
    const problems = this.options.fenceProblems?.(agent, params) ?? [];
    if (problems.length > 0) return drop(problems.join("; "));
    draft.stonith.push({
      id,
      type: agent,
      params,
      meta: this.meta(primitive, id),
      ops: this.operations(primitive, id, false),
    });
    this.stonithIds.add(id);
    return id;
  }

  group(group: XmlElement, draft: ClusterConfig): void {
    const id = group.attrs["id"] ?? "";
    const members: string[] = [];
    for (const child of group.children) {
      if (child.name === "primitive") {
        const converted = this.primitive(child, draft);
        if (converted !== null) members.push(converted);
      } else if (!child.name.endsWith("_attributes")) {
        this.skip(child.name, `${id}/${child.attrs["id"] ?? "?"}`, "a group holds only primitives");
      }
    }
    if (members.length === 0) {
      const reason = "none of its members could be converted";
      this.skip("group", id, reason);
      this.dropped.set(id, reason);
      return;
    }
    if (members.length < kids(group, "primitive").length) {
      this.notes.push(
        `group ${id}: converted without the members listed as not converted; the order of the rest is kept`,
      );
    }
    try {
      addToGroup(draft, id, members);
    } catch (error) {
      this.skip("group", id, errorText(error));
      this.dropped.set(id, errorText(error));
      return;
    }
    const meta = this.meta(group, id);
    const converted = draft.groups.find((g) => g.id === id);
    if (converted) converted.meta = meta;
    if (kid(group, "instance_attributes"))
      this.skip("instance_attributes", id, "group instance attributes are not passed to members");
    this.converted.add(id);
  }

  resources(cib: XmlElement, draft: ClusterConfig): void {
    for (const element of kid(kid(cib, "configuration"), "resources")?.children ?? []) {
      const id = element.attrs["id"] ?? "?";
      switch (element.name) {
        case "primitive":
          this.primitive(element, draft);
          break;
        case "group":
          this.group(element, draft);
          break;
        case "clone":
        case "master":
        case "bundle": {
          const inner = element.children.find((c) => ["primitive", "group"].includes(c.name));
          const promotable =
            element.name === "master" || pacemakerBoolean(this.cloneMeta(element)) === "true";
          const reason =
            element.name === "bundle"
              ? "bundles (containers) are not supported"
              : `a ${promotable ? "promotable clone" : "clone"} runs copies on several nodes; floatip runs each resource on one node`;
          this.skip(
            element.name,
            id,
            inner ? `${reason} (holds ${inner.name} ${inner.attrs["id"] ?? "?"})` : reason,
          );
          this.dropped.set(id, reason);
          for (const member of [inner, ...kids(inner, "primitive")]) {
            if (member?.attrs["id"] !== undefined)
              this.dropped.set(member.attrs["id"], `it is inside ${element.name} ${id}`);
          }
          break;
        }
        default:
          this.skip(element.name, id, `'${element.name}' resources are not supported`);
          this.dropped.set(id, `'${element.name}' is not supported`);
      }
    }
  }

  private cloneMeta(clone: XmlElement): string {
    for (const set of kids(clone, "meta_attributes"))
      for (const pair of kids(set, "nvpair"))
        if (pair.attrs["name"] === "promotable") return pair.attrs["value"] ?? "";
    return "false";
  }

  // ------------------------------------------------------------------------------------ constraints

  /** Null when `id` is a converted resource or group, else why a constraint on it cannot be kept. */
  private refProblem(id: string | undefined): string | null {
    if (id === undefined) return "it names no resource (resource sets and patterns are not supported)";
    if (this.converted.has(id)) return null;
    if (this.stonithIds.has(id)) return `${id} is a fence device; floatip does not order or colocate them`;
    return this.dropped.has(id)
      ? `it refers to ${id}, which was not converted`
      : `it refers to '${id}', which is not a resource`;
  }

  private pushLocation(
    draft: ClusterConfig,
    id: string,
    resource: string,
    node: string,
    score: number,
  ): void {
    if (!draft.nodes.some((n) => n.name === node)) {
      this.skip("rsc_location", id, `node '${node}' is not a node of this cluster`);
      return;
    }
    const taken = new Set([
      ...draft.resources.map((r) => r.id),
      ...draft.groups.map((g) => g.id),
      ...draft.constraints.location.map((c) => c.id),
      ...draft.constraints.colocation.map((c) => c.id),
      ...draft.constraints.order.map((c) => c.id),
    ]);
    let unique = id;
    for (let n = 1; taken.has(unique); n += 1) unique = `${id}-${n}`;
    draft.constraints.location.push({ id: unique, resource, node, score });
  }

  /** The nodes a rule's #uname expressions select, or why the rule cannot be expressed with node scores. */
  private ruleNodes(rule: XmlElement, draft: ClusterConfig): string[] | string {
    const exprs = rule.children;
    if (exprs.some((e) => e.name !== "expression")) {
      return "only rules on #uname are supported (date, operation and nested rules are not)";
    }
    if (exprs.length === 0) return "an empty rule";
    const op = (rule.attrs["boolean-op"] ?? "and").toLowerCase();
    const sets: Set<string>[] = [];
    for (const e of exprs) {
      if (e.attrs["attribute"] !== "#uname")
        return `rules on node attribute '${e.attrs["attribute"] ?? "?"}' are not supported, only #uname`;
      const value = e.attrs["value"];
      const operation = e.attrs["operation"];
      if (value === undefined || (operation !== "eq" && operation !== "ne")) {
        return `#uname ${operation ?? "?"} is not supported; use eq or ne with a node name`;
      }
      const all = draft.nodes.map((n) => n.name);
      sets.push(
        new Set(operation === "eq" ? all.filter((n) => n === value) : all.filter((n) => n !== value)),
      );
    }
    const all = draft.nodes.map((n) => n.name);
    return op === "or"
      ? all.filter((n) => sets.some((s) => s.has(n)))
      : all.filter((n) => sets.every((s) => s.has(n)));
  }

  location(c: XmlElement, draft: ClusterConfig): void {
    const id = c.attrs["id"] ?? "?";
    const rsc = c.attrs["rsc"];
    if (c.attrs["rsc-pattern"] !== undefined)
      return this.skip("rsc_location", id, "rsc-pattern is not supported");
    if (rsc !== undefined && this.stonithIds.has(rsc)) {
      return this.skip(
        "rsc_location",
        id,
        `${rsc} is a fence device: floatip runs fence devices from the coordinator, which never fences itself, so it has no locations for them`,
      );
    }
    const problem = this.refProblem(rsc);
    if (problem !== null || rsc === undefined) return this.skip("rsc_location", id, problem ?? "");
    const role = c.attrs["role"];
    if (role !== undefined && role.toLowerCase() !== "started")
      return this.skip("rsc_location", id, `role ${role} needs a promotable clone`);
    if (c.attrs["resource-discovery"] !== undefined && c.attrs["resource-discovery"] !== "always") {
      this.skip("rsc_location", `${id}:resource-discovery`, "floatip always probes every node");
    }
    if (kid(c, "lifetime"))
      return this.skip("rsc_location", id, "the deprecated lifetime element is not supported");
    const node = c.attrs["node"];
    if (node !== undefined) {
      const score = scoreOf(c.attrs["score"]);
      if (score === null)
        return this.skip("rsc_location", id, `score '${c.attrs["score"] ?? ""}' is not a score`);
      return this.pushLocation(draft, id, rsc, node, score);
    }
    const rules = kids(c, "rule");
    if (rules.length === 0)
      return this.skip("rsc_location", id, "a location constraint needs a node or a rule");
    for (const rule of rules) {
      const ruleId = `${id}/${rule.attrs["id"] ?? "rule"}`;
      const score = scoreOf(rule.attrs["score"]);
      if (score === null) {
        this.skip(
          "rule",
          ruleId,
          rule.attrs["score-attribute"] !== undefined
            ? "score-attribute is not supported"
            : "a rule needs a score",
        );
        continue;
      }
      if (rule.attrs["role"] !== undefined && rule.attrs["role"].toLowerCase() !== "started") {
        this.skip("rule", ruleId, `role ${rule.attrs["role"]} needs a promotable clone`);
        continue;
      }
      const nodes = this.ruleNodes(rule, draft);
      if (typeof nodes === "string") {
        this.skip("rule", ruleId, nodes);
        continue;
      }
      for (const n of nodes)
        this.pushLocation(draft, nodes.length === 1 && rules.length === 1 ? id : `${id}-${n}`, rsc, n, score);
      this.notes.push(
        `${id}: rule ${rule.attrs["id"] ?? ""} becomes score ${scoreText(score)} on ${nodes.join(", ") || "no node"}`,
      );
    }
  }

  colocation(c: XmlElement, draft: ClusterConfig): void {
    const id = c.attrs["id"] ?? "?";
    if (kid(c, "resource_set")) return this.skip("rsc_colocation", id, "resource sets are not supported");
    const problem = this.refProblem(c.attrs["rsc"]) ?? this.refProblem(c.attrs["with-rsc"]);
    if (problem !== null) return this.skip("rsc_colocation", id, problem);
    for (const attr of ["rsc-role", "with-rsc-role"]) {
      const role = c.attrs[attr];
      if (role !== undefined && role.toLowerCase() !== "started")
        return this.skip("rsc_colocation", id, `${attr}=${role} needs a promotable clone`);
    }
    for (const attr of ["node-attribute", "score-attribute", "influence"]) {
      const value = c.attrs[attr];
      if (value !== undefined && !(attr === "node-attribute" && value === "#uname"))
        this.skip("rsc_colocation", `${id}:${attr}`, `${attr}=${value} is not supported`);
    }
    try {
      addColocation(draft, c.attrs["rsc"] ?? "", c.attrs["with-rsc"] ?? "", {
        id,
        score: c.attrs["score"] ?? "INFINITY",
        force: true,
      });
    } catch (error) {
      this.skip("rsc_colocation", id, errorText(error));
    }
  }

  order(c: XmlElement, draft: ClusterConfig): void {
    const id = c.attrs["id"] ?? "?";
    if (kid(c, "resource_set")) return this.skip("rsc_order", id, "resource sets are not supported");
    const problem = this.refProblem(c.attrs["first"]) ?? this.refProblem(c.attrs["then"]);
    if (problem !== null) return this.skip("rsc_order", id, problem);
    for (const attr of ["first-action", "then-action"]) {
      const action = c.attrs[attr];
      if (action !== undefined && action !== "start")
        return this.skip(
          "rsc_order",
          id,
          `${attr}=${action}: floatip orders starts (and stops in reverse) only`,
        );
    }
    const score = scoreOf(c.attrs["score"]);
    const kind = c.attrs["kind"] ?? (score === 0 ? "Optional" : "Mandatory");
    if (kind === "Serialize") return this.skip("rsc_order", id, "kind=Serialize is not supported");
    const symmetrical = pacemakerBoolean(c.attrs["symmetrical"] ?? "true") !== "false";
    try {
      addOrder(draft, c.attrs["first"] ?? "", c.attrs["then"] ?? "", { id, kind, symmetrical, force: true });
    } catch (error) {
      this.skip("rsc_order", id, errorText(error));
    }
  }

  constraints(cib: XmlElement, draft: ClusterConfig): void {
    for (const c of kid(kid(cib, "configuration"), "constraints")?.children ?? []) {
      if (c.name === "rsc_location") this.location(c, draft);
      else if (c.name === "rsc_colocation") this.colocation(c, draft);
      else if (c.name === "rsc_order") this.order(c, draft);
      else if (c.name === "rsc_ticket")
        this.skip(c.name, c.attrs["id"] ?? "?", "tickets (booth) are not supported");
      else this.skip(c.name, c.attrs["id"] ?? "?", `'${c.name}' constraints are not supported`);
    }
  }

  // ------------------------------------------------------------------------------ properties, alerts

  properties(cib: XmlElement, draft: ClusterConfig): string | undefined {
    let clusterName: string | undefined;
    const maintained: string[] = [];
    const crmConfig = kid(kid(cib, "configuration"), "crm_config");
    for (const [rawName, rawValue] of this.nvpairs(crmConfig, "cluster_property_set", "crm_config")) {
      // Pacemaker 3 renamed stonith-enabled; floatip stores the name pcs 0.10 scripts set.
      const name = rawName === "fencing-enabled" ? "stonith-enabled" : rawName;
      if (name === "cluster-name") {
        clusterName = rawValue;
        continue;
      }
      if (name === "default-resource-stickiness") {
        // Pacemaker 1.0's cluster option, replaced by rsc_defaults (read later, so an explicit value there wins).
        try {
          setResourceDefaults(draft, { "resource-stickiness": rawValue });
          this.notes.push(`default-resource-stickiness=${rawValue} becomes rsc_defaults resource-stickiness`);
        } catch (error) {
          this.skip("nvpair", `crm_config/${name}`, errorText(error));
        }
        continue;
      }
      if (PACEMAKER_MAINTAINED.has(name)) {
        maintained.push(name);
        continue;
      }
      const value = BOOLEAN_PROPERTIES.has(name) ? (pacemakerBoolean(rawValue) ?? rawValue) : rawValue;
      try {
        setProperties(draft, { [name]: value });
      } catch (error) {
        const reason =
          error instanceof ConfigCommandError && error.code === "FLOATIP_E_PROPERTY_UNKNOWN"
            ? `floatip has no cluster property '${name}' (${name}=${rawValue})`
            : errorText(error);
        this.skip("nvpair", `crm_config/${name}`, reason);
      }
    }
    if (maintained.length > 0) {
      this.notes.push(`${maintained.join(", ")}: recorded by Pacemaker itself, not configuration; left out`);
    }
    return clusterName;
  }

  alerts(cib: XmlElement, draft: ClusterConfig): void {
    for (const alert of kids(kid(kid(cib, "configuration"), "alerts"), "alert")) {
      const id = alert.attrs["id"] ?? "?";
      if (kid(alert, "select")) {
        this.skip("select", id, "floatip runs alerts for every event; the event selection is dropped");
      }
      try {
        const options = Object.fromEntries(this.nvpairs(alert, "instance_attributes", id));
        const meta = this.alertMeta(alert, id);
        createAlert(draft, {
          id,
          path: alert.attrs["path"] ?? "",
          ...(alert.attrs["description"] !== undefined ? { description: alert.attrs["description"] } : {}),
          options,
          meta,
        });
        for (const r of kids(alert, "recipient")) {
          addRecipient(
            draft,
            id,
            {
              ...(r.attrs["id"] !== undefined ? { id: r.attrs["id"] } : {}),
              value: r.attrs["value"] ?? "",
              ...(r.attrs["description"] !== undefined ? { description: r.attrs["description"] } : {}),
              options: Object.fromEntries(
                this.nvpairs(r, "instance_attributes", `${id}/${r.attrs["id"] ?? "?"}`),
              ),
              meta: this.alertMeta(r, `${id}/${r.attrs["id"] ?? "?"}`),
            },
            { force: true },
          );
        }
      } catch (error) {
        draft.alerts = draft.alerts.filter((a) => a.id !== id);
        this.skip("alert", id, errorText(error));
      }
    }
  }

  private alertMeta(owner: XmlElement, ownerId: string): Record<string, string> {
    const meta: Record<string, string> = {};
    for (const [name, value] of this.nvpairs(owner, "meta_attributes", ownerId)) {
      if (name === "timeout" || name === "timestamp-format") meta[name] = value;
      else
        this.skip("nvpair", `${ownerId}/meta:${name}`, `alerts have no meta attribute '${name}' in floatip`);
    }
    return meta;
  }

  /** Top-level configuration sections floatip has nothing for. */
  otherSections(cib: XmlElement): void {
    const handled = new Set([
      "crm_config",
      "nodes",
      "resources",
      "constraints",
      "rsc_defaults",
      "op_defaults",
      "alerts",
    ]);
    for (const section of kid(cib, "configuration")?.children ?? []) {
      if (handled.has(section.name)) continue;
      if (section.children.length === 0) continue;
      const reason =
        section.name === "fencing-topology"
          ? "fencing levels are not supported; floatip tries the fence devices in the order they are configured"
          : section.name === "acls"
            ? "access control lists are not supported; floatip's admin API has one administrator role"
            : `the '${section.name}' section is not supported`;
      this.skip(section.name, section.name, reason);
    }
  }

  // ------------------------------------------------------------------------------------------- nodes

  nodes(cib: XmlElement, corosync: CorosyncFacts | undefined): NodeConfig[] {
    const overrides = this.options.addrs ?? {};
    const cibNodes = kids(kid(kid(cib, "configuration"), "nodes"), "node");
    const entries: { name: string; id?: number; standby: boolean; element?: XmlElement }[] = [];
    for (const n of cibNodes) {
      const name = n.attrs["uname"] ?? "";
      const type = n.attrs["type"];
      if (type !== undefined && type !== "member" && type !== "normal") {
        this.skip("node", name || (n.attrs["id"] ?? "?"), `${type} nodes are not supported`);
        continue;
      }
      if (!nodeNameSchema.safeParse(name).success) {
        throw new CibImportError(
          "FLOATIP_E_CIB_INVALID",
          `node uname '${name}' is not a host name floatip accepts`,
        );
      }
      const id = /^\d+$/.test(n.attrs["id"] ?? "") ? Number(n.attrs["id"]) : undefined;
      let standby = false;
      for (const [attr, value] of this.nvpairs(n, "instance_attributes", `node ${name}`)) {
        if (attr === "standby") standby = pacemakerBoolean(value) === "true";
        else this.skip("nvpair", `node ${name}/${attr}`, `floatip has no node attribute '${attr}'`);
      }
      if (kid(n, "utilization"))
        this.skip("utilization", `node ${name}`, "floatip does not place by utilization");
      entries.push({ name, ...(id !== undefined ? { id } : {}), standby, element: n });
    }
    // A CIB written before the nodes first joined has no node entries; corosync's nodelist names them.
    if (entries.length === 0) {
      for (const c of corosync?.nodes ?? []) {
        const name = c.name ?? c.ring0;
        if (name !== undefined && nodeNameSchema.safeParse(name).success)
          entries.push({ name, ...(c.nodeid !== undefined ? { id: c.nodeid } : {}), standby: false });
      }
    }
    // Imported into a running cluster: its own nodes.
    if (entries.length === 0) {
      for (const name of Object.keys(this.options.knownAddrs ?? {})) entries.push({ name, standby: false });
    }
    if (entries.length === 0) {
      throw new CibImportError(
        "FLOATIP_E_CIB_INVALID",
        "the CIB has no nodes; give corosync.conf (--corosync-conf) or import a CIB from a running cluster",
      );
    }
    const usedIds = new Set(
      entries.flatMap((e) => (e.id !== undefined && e.id >= 1 && e.id <= 65535 ? [e.id] : [])),
    );
    let next = 1;
    const missing: string[] = [];
    const nodes: NodeConfig[] = [];
    for (const e of entries) {
      const ring = corosync?.nodes.find((c) => c.name === e.name || c.ring0 === e.name);
      let id = e.id ?? ring?.nodeid;
      if (id === undefined || id < 1 || id > 65535) {
        while (usedIds.has(next)) next += 1;
        id = next;
        usedIds.add(id);
      }
      const candidates = [overrides[e.name], ring?.ring0, this.options.knownAddrs?.[e.name], e.name];
      const addr = candidates.find((a) => a !== undefined && ipv4Schema.safeParse(a).success);
      if (overrides[e.name] !== undefined && addr !== overrides[e.name]) {
        throw new CibImportError(
          "FLOATIP_E_CIB_NODE_ADDR",
          `addr=${overrides[e.name]} of ${e.name} is not an IPv4 address`,
        );
      }
      if (addr === undefined) {
        missing.push(e.name);
        continue;
      }
      nodes.push({ name: e.name, id, addrs: [addr], standby: e.standby });
    }
    if (missing.length > 0) {
      const example = missing.map((n, i) => `${n} addr=10.0.0.${i + 2}`).join(" ");
      throw new CibImportError(
        "FLOATIP_E_CIB_NODE_ADDR",
        `the CIB gives no address for ${missing.join(", ")}; name them after the file (e.g. '${example}') or give --corosync-conf`,
      );
    }
    for (const extra of Object.keys(overrides)) {
      if (!nodes.some((n) => n.name === extra))
        throw new CibImportError(
          "FLOATIP_E_CIB_NODE_ADDR",
          `'${extra}' is not a node of the CIB (${nodes.map((n) => n.name).join(", ")})`,
        );
    }
    return nodes;
  }
}

/** The unames of the CIB's member nodes, for checking them against a cluster before converting. */
export function cibNodeNames(xml: string): string[] {
  const cib = parseCibXml(xml);
  return kids(kid(kid(cib, "configuration"), "nodes"), "node")
    .filter(
      (n) => n.attrs["type"] === undefined || n.attrs["type"] === "member" || n.attrs["type"] === "normal",
    )
    .map((n) => n.attrs["uname"] ?? "");
}

/** Converts CIB XML text; throws CibImportError for a document that is not a CIB or lacks node addresses. */
export function importCib(xml: string, options: CibImportOptions = {}): CibImportResult {
  const cib = parseCibXml(xml);
  if (cib.name !== "cib") {
    throw new CibImportError(
      "FLOATIP_E_CIB_INVALID",
      `the document is <${cib.name}>, not a Pacemaker CIB (<cib>); export one with 'pcs cluster cib' or 'cibadmin --query'`,
    );
  }
  if (!kid(cib, "configuration")) {
    throw new CibImportError("FLOATIP_E_CIB_INVALID", "the CIB has no <configuration> section");
  }
  const corosync = options.corosyncConf !== undefined ? parseCorosyncConf(options.corosyncConf) : undefined;
  const conv = new Converter(options);
  const nodes = conv.nodes(cib, corosync);
  const importedToken =
    corosync?.tokenMs === undefined ? undefined : Math.max(200, Math.min(60_000, corosync.tokenMs));
  const draft: ClusterConfig = clusterConfigSchema.parse({
    formatVersion: 1,
    name: "imported",
    epoch: 1,
    nodes,
    ...(importedToken !== undefined
      ? {
          totem: {
            tokenMs: importedToken,
            heartbeatIntervalMs: heartbeatIntervalFor(importedToken),
            port: 5405,
          },
        }
      : {}),
    quorum: {
      twoNode: nodes.length === 2 && (corosync?.twoNode ?? true),
      waitForAll: corosync?.waitForAll ?? false,
    },
  });
  if (corosync?.tokenMs !== undefined) {
    conv.notes.push(`corosync token ${corosync.tokenMs} ms is kept as floatip's failure-detection timeout`);
  }
  const clusterName = conv.properties(cib, draft);
  conv.opDefaults(cib);
  conv.rscDefaults(cib, draft);
  conv.resources(cib, draft);
  conv.constraints(cib, draft);
  conv.alerts(cib, draft);
  conv.otherSections(cib);
  if (options.cloud === "oci" || (options.cloud === undefined && conv.cloudImplied)) {
    draft.properties = { ...draft.properties, cloud: "oci" };
  }
  const name = clusterName ?? corosync?.clusterName ?? options.name;
  if (name !== undefined) {
    if (/^[A-Za-z0-9_.-]{1,64}$/.test(name)) draft.name = name;
    else conv.skip("nvpair", "crm_config/cluster-name", `'${name}' is not a cluster name floatip accepts`);
  }
  const parsed = clusterConfigSchema.safeParse(draft);
  if (!parsed.success) {
    // Every step checks its part, so this is a converter bug; still a coded error rather than a trace.
    const issue = parsed.error.issues[0];
    throw new CibImportError(
      "FLOATIP_E_CIB_INVALID",
      `the converted configuration is invalid: ${issue?.path.join(".")}: ${issue?.message}`,
    );
  }
  return { config: parsed.data, unconverted: conv.unconverted, notes: conv.notes };
}

/** A score as pcs prints it. */
function scoreText(score: number): string {
  if (score >= INFINITY_SCORE) return "INFINITY";
  if (score <= -INFINITY_SCORE) return "-INFINITY";
  return String(score);
}

/** The human-readable summary `import-cib` prints. */
export function formatImportReport(result: CibImportResult): string {
  const { config } = result;
  const lines: string[] = [`Cluster '${config.name}'`];
  lines.push(
    `  Nodes: ${config.nodes.map((n) => `${n.name} (id ${n.id}, ${n.addrs.join(",")}${n.standby ? ", standby" : ""})`).join(", ")}`,
  );
  for (const r of config.resources) {
    const group = config.groups.find((g) => g.resources.includes(r.id));
    const params = Object.entries(r.params).map(([k, v]) => `${k}=${v}`);
    const meta = Object.entries(r.meta).map(([k, v]) => `${k}=${v}`);
    const ops = r.ops.map((o) => `${o.name} interval=${o.intervalMs / 1000}s timeout=${o.timeoutMs / 1000}s`);
    lines.push(
      `  Resource: ${r.id} (${r.type})${group ? ` in group ${group.id}` : ""}${params.length ? ` ${params.join(" ")}` : ""}${meta.length ? ` meta ${meta.join(" ")}` : ""}${ops.length ? ` op ${ops.join(", ")}` : ""}`,
    );
  }
  for (const d of config.stonith) {
    const params = Object.entries(d.params).map(([k, v]) => `${k}=${v}`);
    lines.push(`  Fence device: ${d.id} (stonith:${d.type})${params.length ? ` ${params.join(" ")}` : ""}`);
  }
  for (const g of config.groups) {
    const meta = Object.entries(g.meta).map(([k, v]) => `${k}=${v}`);
    lines.push(`  Group: ${g.id}: ${g.resources.join(" ")}${meta.length ? ` meta ${meta.join(" ")}` : ""}`);
  }
  for (const c of config.constraints.location)
    lines.push(`  Location: ${c.resource} on ${c.node} score ${scoreText(c.score)} (id: ${c.id})`);
  for (const c of config.constraints.colocation)
    lines.push(
      `  Colocation: ${c.resource} with ${c.withResource} score ${scoreText(c.score)} (id: ${c.id})`,
    );
  for (const c of config.constraints.order)
    lines.push(
      `  Order: start ${c.first} then start ${c.then} kind ${c.kind}${c.symmetrical ? "" : " non-symmetrical"} (id: ${c.id})`,
    );
  const props = Object.entries(config.properties).map(([k, v]) => `${k}=${v}`);
  if (props.length) lines.push(`  Properties: ${props.join(" ")}`);
  const defaults = Object.entries(config.resourceDefaults).map(([k, v]) => `${k}=${v}`);
  if (defaults.length) lines.push(`  Resource defaults: ${defaults.join(" ")}`);
  for (const a of config.alerts)
    lines.push(
      `  Alert: ${a.id} path=${a.path ?? ""}${a.recipients.length ? ` recipients ${a.recipients.map((r) => r.value).join(" ")}` : ""}`,
    );
  if (result.notes.length) {
    lines.push("Notes:");
    for (const n of result.notes) lines.push(`  ${n}`);
  }
  if (result.unconverted.length) {
    lines.push(`Not converted (${result.unconverted.length}):`);
    for (const u of result.unconverted) lines.push(`  ${u.element} ${u.id}: ${u.reason}`);
  } else {
    lines.push("Everything in the CIB was converted.");
  }
  return lines.join("\n");
}
