import { EventEmitter } from "node:events";
import type { Clock } from "../clock/clock.ts";
import { configHash } from "../config/hash.ts";
import type { ClusterConfig } from "../config/schema.ts";
import type { Membership, MembershipEvents } from "../membership/membership.ts";
import { MAX_PAYLOAD_BYTES } from "../membership/packet.ts";
import type { Logger } from "../observability/logger.ts";
import { decide } from "../policy/decide.ts";
import type { NodeStatus, PolicyDecision } from "../policy/types.ts";
import {
  effectiveQuorumOptions,
  quorumState,
  type DeviceVote,
  type QuorumState,
} from "../quorum/votequorum.ts";
import type { EventLog } from "../observability/event-log.ts";
import type { Coordination, CoordinationStatus } from "./coordination.ts";
import { FailoverTracker } from "./failover-tracker.ts";
import type { FencingView, NodeFencing } from "./fence-coordinator.ts";
import type { LocalExecutor } from "./local-executor.ts";
import { decodeReport, encodeReport, type NodeReport, type ResourceReport } from "./node-report.ts";

export interface ClusterNodeDeps {
  selfName: string;
  config: ClusterConfig;
  membership: MembershipPort;
  executor: LocalExecutor;
  clock: Clock;
  logger: Logger;
  /** Where membership changes, decisions and measured failovers are recorded. */
  events?: EventLog;
  /**
   * Where membership, quorum, the DC and resource ownership come from when not built in (etcd); absent:
   * heartbeats, votequorum and the lowest node id.
   */
  coordination?: Coordination;
  /** This node's availability domain (or zone), gossiped so every node can show where each peer runs. */
  zone?: string;
  /** This node's cloud instance OCID, gossiped so a peer's fence_oci can find it. */
  instanceId?: string;
  /** Lost-node tracking and fence execution (coordinator/fence-coordinator.ts); absent: no fencing. */
  fencing?: NodeFencing;
  /** Persists a newer configuration received from a peer; returns false when it was not newer. */
  adoptConfig(config: ClusterConfig): boolean;
  /** The witness's vote (quorum device), told every membership change; absent without a witness. */
  quorumDevice?: { setView(memberIds: number[]): void; vote(): DeviceVote };
}

/** What the coordinator needs of a membership: heartbeats (Membership) or etcd (EtcdMembers). */
export type MembershipPort = Pick<EventEmitter<MembershipEvents>, "on"> &
  Pick<Membership, "updatePeers" | "setPayload" | "sendNow"> & {
    stats(): { peers: Record<number, number | null> };
  };

interface PeerReport {
  incarnation: bigint;
  report: NodeReport;
  /** The report without the DC section and config, to tell real status changes from repeats. */
  statusKey: string;
}

export interface ClusterView {
  selfName: string;
  dc: string | null;
  quorate: boolean;
  online: string[];
  leaving: string[];
  reports: Record<string, NodeReport>;
  decision: PolicyDecision | null;
  /** Actions the current DC asked for, as last seen by this node. */
  dcActions: NodeReport["dc"] | null;
  /** Availability domain (zone) per node, as last reported. */
  zones: Record<string, string>;
  /** Unclean, pending and fenced nodes as this node knows them; absent without fencing. */
  fencing?: FencingView;
  /** Present when an external backend (etcd) coordinates this cluster. */
  coordination?: CoordinationStatus;
}

/**
 * One node's cluster logic: gossips its report, elects the designated coordinator (lowest node id among
 * live, non-leaving members), and, when it is the DC, runs the pure policy and publishes the actions.
 * Every node executes the actions addressed to it by the DC it currently recognises.
 */
export class ClusterNode extends EventEmitter {
  private config: ClusterConfig;
  private hash: string;
  private readonly reports = new Map<string, PeerReport>();
  /** Per resource: the node whose handover hint was noted last. */
  private readonly hintSources = new Map<string, string>();
  private alive = new Set<string>();
  private allSeenOnce = false;
  private leaving = false;
  private restartGraceMs: number | null = null;
  /** Nodes that announced a restart: until when their resources stay put although they are silent. */
  private readonly expectedBack = new Map<string, number>();
  private readonly failovers = new FailoverTracker();
  /** Last zone each node reported; kept after a node is lost, so status still says where it was. */
  private readonly zones = new Map<string, string>();
  private decision: PolicyDecision | null = null;
  private lastDcSection: NodeReport["dc"] | null = null;
  private publishScheduled = false;
  private readonly lastDecoded = new Map<
    number,
    { bytes: Uint8Array; result: ReturnType<typeof decodeReport> }
  >();
  private lastQuorate: boolean | null = null;

  constructor(private readonly deps: ClusterNodeDeps) {
    super();
    this.config = deps.config;
    this.hash = configHash(deps.config);
    this.alive.add(deps.selfName);
    // A bug in handling one message must not take the node's membership down with it.
    deps.membership.on("view", (view) => this.guard("view", () => this.onView(view)));
    deps.membership.on("payload", (msg) =>
      this.guard("payload", () => this.onPayload(msg.nodeId, msg.incarnation, msg.payload)),
    );
    deps.executor.setResources(this.config.resources);
    deps.coordination?.onChange(() => this.guard("coordination", () => this.onCoordinationChange()));
    this.refresh();
  }

  get currentConfig(): ClusterConfig {
    return this.config;
  }

  /** A local configuration change (CLI) or one adopted from a peer. */
  applyConfig(config: ClusterConfig): void {
    this.config = config;
    this.hash = configHash(config);
    this.deps.membership.updatePeers(peersOf(config, this.deps.selfName));
    this.deps.executor.setResources(config.resources);
    this.emit("config", config);
    this.deps.events?.record({
      type: "config",
      summary: `configuration epoch ${config.epoch}`,
      data: { epoch: config.epoch },
    });
    this.refresh();
  }

  /** Something local changed (a resource state); re-decide and gossip at once. */
  refresh(): void {
    this.recordQuorumChange();
    this.decideIfDc();
    this.schedulePublish();
  }

  /**
   * Only this node's handover hints changed (lease renewals: at 200 VIPs several a second): gossip the
   * report at once without deciding again, which would re-evaluate every resource each time.
   */
  republish(): void {
    this.schedulePublish();
  }

  /**
   * A planned restart that leaves resources running: tell peers to keep them where they are for
   * `graceMs`, and give the announcement one heartbeat interval to go out.
   */
  async announceRestart(graceMs: number): Promise<void> {
    this.restartGraceMs = graceMs;
    this.schedulePublish();
    await this.deps.clock.sleep(Math.min(200, this.config.totem.heartbeatIntervalMs * 2));
  }

  /** Forgets failures of a resource (or all) on this node and re-probes, as `resource cleanup` does. */
  cleanup(resourceId?: string): void {
    this.deps.executor.cleanup(resourceId);
  }

  /** Clean stop: hands resources over and stops them here; resolves when done or after the timeout. */
  async leave(timeoutMs: number): Promise<void> {
    this.leaving = true;
    this.refresh();
    await this.deps.executor.stopAll();
    this.refresh();
    const deadline = this.deps.clock.now() + timeoutMs;
    // Stay in the membership until a peer runs what we had, so the hand-off is not a node-loss timeout.
    while (this.deps.clock.now() < deadline && !this.handedOver()) {
      await this.deps.clock.sleep(20);
    }
  }

  view(): ClusterView {
    const reports: Record<string, NodeReport> = {};
    for (const [name, r] of this.reports) if (this.alive.has(name)) reports[name] = r.report;
    reports[this.deps.selfName] = this.ownReport(false);
    return {
      selfName: this.deps.selfName,
      dc: this.dcName(),
      quorate: this.quorate(),
      online: this.onlineNames(),
      leaving: this.leavingNames(),
      reports,
      decision: this.decision,
      dcActions: this.lastDcSection,
      zones: Object.fromEntries(
        this.deps.zone !== undefined ? [...this.zones, [this.deps.selfName, this.deps.zone]] : this.zones,
      ),
      ...(this.deps.fencing ? { fencing: this.deps.fencing.view() } : {}),
      ...(this.deps.coordination ? { coordination: this.deps.coordination.status() } : {}),
    };
  }

  /** Heartbeats repeat the same report 10 times a second: decode (JSON + schema) only what changed. */
  private decodeCached(nodeId: number, payload: Uint8Array): ReturnType<typeof decodeReport> {
    const last = this.lastDecoded.get(nodeId);
    if (last && Buffer.from(last.bytes).equals(payload)) return last.result;
    const result = decodeReport(payload);
    this.lastDecoded.set(nodeId, { bytes: Uint8Array.from(payload), result });
    return result;
  }

  private guard(what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.deps.logger.error({ err: error }, `failed to handle a ${what} event`);
    }
  }

  private onView(view: { alive: number[]; joined: number[]; lost: number[]; restarted: number[] }): void {
    const names = new Set(
      view.alive.map((id) => this.nameOf(id)).filter((n): n is string => n !== undefined),
    );
    names.add(this.deps.selfName);
    for (const id of view.restarted) {
      const name = this.nameOf(id);
      // A restarted daemon must probe again before anything is decided about its resources.
      if (name !== undefined) this.reports.delete(name);
    }
    for (const id of view.lost) {
      const name = this.nameOf(id);
      if (name === undefined) continue;
      const until = this.expectedBack.get(name);
      if (until !== undefined && until > this.deps.clock.now()) {
        this.deps.logger.info(
          { node: name, graceMs: until - this.deps.clock.now() },
          "node restarting; keeping its resources",
        );
        this.deps.clock.setTimeout(
          () => this.guard("restart grace", () => this.refresh()),
          until - this.deps.clock.now() + 1,
        );
      } else {
        const running = Object.entries(this.reports.get(name)?.report.resources ?? {})
          .filter(([, r]) => r.state === "running")
          .map(([id]) => id);
        const lastHeard = this.deps.membership.stats().peers[id] ?? this.deps.clock.now();
        this.failovers.nodeLost(name, running, lastHeard, this.deps.clock.now());
        this.deps.executor.peerLost(name);
        this.deps.fencing?.nodeLost(name, this.reports.get(name)?.report);
        this.reports.delete(name);
      }
    }
    for (const id of view.joined) {
      const name = this.nameOf(id);
      if (name !== undefined) this.deps.fencing?.nodeJoined(name);
      if (name !== undefined) this.deps.executor.peerJoined(name);
      if (name !== undefined && this.expectedBack.delete(name)) this.reports.delete(name);
    }
    this.alive = names;
    if (this.config.nodes.every((n) => names.has(n.name))) this.allSeenOnce = true;
    this.deps.quorumDevice?.setView(this.config.nodes.filter((n) => names.has(n.name)).map((n) => n.id));
    this.deps.logger.info(
      { online: [...names], lost: view.lost, restarted: view.restarted },
      "membership changed",
    );
    this.emit("membership", { online: [...names] });
    if (view.lost.length > 0 || view.joined.length > 0) this.deps.executor.reprobeUnknown();
    const label = (ids: number[]) => ids.map((id) => this.nameOf(id) ?? String(id));
    const changes = [
      ...label(view.joined).map((n) => `${n} joined`),
      ...label(view.lost).map((n) => `${n} lost`),
      ...label(view.restarted).map((n) => `${n} restarted`),
    ];
    if (changes.length > 0) {
      this.deps.events?.record({
        type: "membership",
        summary: changes.join(", "),
        data: {
          online: [...names],
          joined: label(view.joined),
          lost: label(view.lost),
          restarted: label(view.restarted),
        },
      });
    }
    this.refresh();
  }

  private onPayload(nodeId: number, incarnation: bigint, payload: Uint8Array): void {
    const name = this.nameOf(nodeId);
    if (name === undefined) return;
    const decoded = this.decodeCached(nodeId, payload);
    if (!decoded.ok) {
      this.deps.logger.warn({ node: name, error: decoded.error }, "ignoring a malformed report");
      return;
    }
    const report = decoded.report;
    if (report.name !== name) return;
    if (report.zone !== undefined) this.zones.set(name, report.zone);
    this.deps.fencing?.observe(name, incarnation, report);
    if (report.restartGraceMs !== undefined)
      this.expectedBack.set(name, this.deps.clock.now() + report.restartGraceMs);
    if (report.config && report.config.epoch > this.config.epoch) {
      if (this.deps.adoptConfig(report.config)) this.applyConfig(report.config);
    }
    const { dc } = report;
    const previous = this.reports.get(name);
    // decodeCached hands back the same object for a repeated payload: skip re-serialising its status
    // (hundreds of resources, ten times a second per peer).
    const statusKey = previous?.report === report ? previous.statusKey : decisionKey(report);
    this.reports.set(name, { incarnation, report, statusKey });
    const statusChanged = previous?.statusKey !== statusKey || previous.incarnation !== incarnation;
    for (const [rid, r] of Object.entries(report.resources)) {
      if (r.hint !== undefined && (r.state === "running" || this.hintSources.get(rid) === name)) {
        // A stopped resource's hint (its release) counts only from the node whose running hint was the
        // last one noted: the one that just handed it over, not one that held it long ago.
        this.hintSources.set(rid, name);
        this.deps.executor.notePeerHint(rid, r.hint);
      }
      if (r.state === "failed" && previous?.report.resources[rid]?.state !== "failed") {
        this.failovers.resourceFailed(rid, name, this.deps.clock.now());
      }
    }

    if (dc && name === this.dcName()) {
      this.lastDcSection = dc;
      if (dc.fenced) this.deps.fencing?.adoptFenced(dc.fenced);
      this.runOwn(dc.actions);
    }
    if (statusChanged) this.refresh();
    // A peer with an older configuration needs ours attached to our heartbeats.
    else if (report.configEpoch < this.config.epoch) this.schedulePublish();
  }

  private decideIfDc(): void {
    // Frozen (etcd unreachable): decide nothing, so nothing starts, stops or moves.
    if (this.deps.coordination?.frozen()) return;
    if (this.dcName() !== this.deps.selfName) {
      this.decision = null;
      return;
    }
    // A node that announced a restart counts as present with its last report until its grace ends.
    const online = [...this.onlineNames(), ...this.restartingNames()];
    const status: Record<string, NodeStatus> = {};
    for (const name of online) {
      const report = name === this.deps.selfName ? this.ownReport(false) : this.reports.get(name)?.report;
      // A node whose report we have not yet seen (or that runs an older configuration) has not probed it.
      status[name] = report
        ? { probed: report.probed && report.configEpoch === this.config.epoch, resources: report.resources }
        : { probed: false, resources: {} };
    }
    const quorum = this.quorumInfo();
    // Until the witness answers for a new view, or (wait_for_all) until every node was seen, neither start
    // nor stop: a restarted daemon re-attaching to its resources must not stop them before it hears its peers.
    const decision = decide({
      config:
        !this.deps.coordination && (quorum.pending || quorum.waitingForAll)
          ? { ...this.config, properties: { ...this.config.properties, "no-quorum-policy": "freeze" } }
          : this.config,
      view: { online, quorate: this.quorate() },
      status,
      nowMs: this.deps.clock.now(),
      ...(this.deps.fencing ? { lost: this.deps.fencing.lostNodes(this.config, online) } : {}),
    });
    this.deps.fencing?.execute(decision.fencing);
    // A leaving node is no candidate, but what it still runs must stop before it starts elsewhere.
    const stillOnLeaving = new Set<string>();
    for (const name of this.leavingNames()) {
      const report =
        this.reports.get(name)?.report ?? (name === this.deps.selfName ? this.ownReport(false) : undefined);
      for (const [rid, r] of Object.entries(report?.resources ?? {}))
        if (r.state !== "stopped") stillOnLeaving.add(rid);
    }
    decision.actions = decision.actions.filter((a) => !(a.op === "start" && stillOnLeaving.has(a.resource)));
    const changed = JSON.stringify(decision.actions) !== JSON.stringify(this.decision?.actions);
    this.decision = decision;
    if (changed && decision.actions.length > 0) {
      this.deps.logger.info({ actions: decision.actions, notes: decision.notes }, "coordinator decision");
      this.deps.events?.record({
        type: "decision",
        summary: decision.actions.map((a) => `${a.op} ${a.resource} on ${a.node}`).join(", "),
        data: { actions: decision.actions, notes: decision.notes },
      });
    }
    for (const a of decision.actions) {
      if (a.op === "start") this.failovers.startRequested(a.resource, a.node, this.deps.clock.now());
    }
    this.recordFailovers();
    this.lastDcSection = {
      quorate: this.quorate(),
      online,
      actions: decision.actions,
      // Peers accept at most 100 notes (one per resource that cannot run, say): the rest stay in the log.
      notes: decision.notes.slice(0, 100).map((note) => note.slice(0, 300)),
      ...(this.deps.fencing?.view().fenced.length ? { fenced: this.deps.fencing.view().fenced } : {}),
    };
    this.deps.coordination?.publishPlacement(
      decision.placement,
      this.config.resources.map((r) => r.id),
    );
    this.runOwn(decision.actions);
  }

  /** Failovers whose resource now runs on its new node become events (on the coordinator only). */
  private recordFailovers(): void {
    const reports: Record<string, NodeReport> = {};
    for (const [name, r] of this.reports) reports[name] = r.report;
    reports[this.deps.selfName] = this.ownReport(false);
    for (const f of this.failovers.observe(reports, this.deps.clock.now())) {
      this.deps.logger.info(f, "failover complete");
      this.deps.events?.record({
        type: "failover",
        summary: `${f.resource} moved from ${f.from} to ${f.to} in ${f.totalMs} ms (detect ${f.detectMs}, decide ${f.decideMs}, start ${f.startMs}${f.cloudMoveMs !== undefined ? `: cloud move ${f.cloudMoveMs}, verify ${f.verifyMs ?? "?"}` : ""})`,
        data: { ...f },
      });
    }
  }

  private schedulePublish(): void {
    if (this.publishScheduled) return;
    this.publishScheduled = true;
    // Coalesce bursts of changes into one immediate heartbeat.
    queueMicrotask(() => {
      this.publishScheduled = false;
      this.guard("publish", () => {
        this.deps.membership.setPayload(this.fittingPayload());
        this.deps.membership.sendNow();
      });
    });
  }

  /**
   * The report as it fits one heartbeat. Reports are deflated when large; if one still does not fit,
   * the whole configuration is left out first (a lagging peer then waits for the next change), then the
   * per-resource extras, so the node keeps gossiping its states instead of going silent.
   */
  private fittingPayload(): Uint8Array {
    const full = this.ownReport(true);
    const attempts: NodeReport[] = [full];
    if (full.config) attempts.push({ ...full, config: undefined });
    attempts.push({
      ...full,
      config: undefined,
      resources: Object.fromEntries(
        Object.entries(full.resources).map(([id, r]) => [
          id,
          {
            state: r.state,
            failCount: r.failCount,
            ...(r.generation === undefined ? {} : { generation: r.generation }),
          },
        ]),
      ),
    });
    for (const [index, report] of attempts.entries()) {
      const bytes = encodeReport(report);
      if (bytes.length <= MAX_PAYLOAD_BYTES) {
        if (index > 0) {
          this.deps.logger.error(
            {
              bytes: encodeReport(full).length,
              limit: MAX_PAYLOAD_BYTES,
              dropped: index === 1 ? "config" : "config and details",
            },
            "node report too large for a heartbeat even deflated; sent without parts",
          );
        }
        return bytes;
      }
    }
    throw new Error(
      `FLOATIP_E_HEARTBEAT_PAYLOAD_TOO_LARGE: even the smallest report of this node is over ${MAX_PAYLOAD_BYTES} bytes deflated`,
    );
  }

  private ownReport(forWire: boolean): NodeReport {
    const isDc = this.dcName() === this.deps.selfName;
    const lagging = [...this.reports.entries()].some(
      ([name, r]) => this.alive.has(name) && r.report.configEpoch < this.config.epoch,
    );
    return {
      v: 1,
      name: this.deps.selfName,
      configEpoch: this.config.epoch,
      configHash: this.hash,
      probed: this.deps.executor.allProbed,
      leaving: this.leaving,
      resources: this.deps.executor.report(),
      ...(this.deps.zone !== undefined ? { zone: this.deps.zone } : {}),
      ...(this.restartGraceMs !== null ? { restartGraceMs: this.restartGraceMs } : {}),
      ...(this.deps.instanceId !== undefined ? { instanceId: this.deps.instanceId } : {}),
      ...(isDc && this.lastDcSection ? { dc: this.lastDcSection } : {}),
      ...(forWire && lagging ? { config: this.config } : {}),
    };
  }

  /** Runs the actions addressed to this node, as far as the coordination backend admits them. */
  private runOwn(actions: PolicyDecision["actions"]): void {
    const own = actions.filter((a) => a.node === this.deps.selfName);
    const coordination = this.deps.coordination;
    if (!coordination) {
      this.deps.executor.apply(own);
      return;
    }
    const running = Object.entries(this.deps.executor.report())
      .filter(([, r]) => r.state === "running")
      .map(([id]) => id);
    this.deps.executor.apply(coordination.admit(own, running, this.onlineNames()));
  }

  /**
   * The backend's answers moved (owners, leader, freeze): re-decide, and run the DC's starts that were
   * waiting for their owner key (stops arrive with the DC's next report).
   */
  private onCoordinationChange(): void {
    this.refresh();
    if (this.dcName() !== this.deps.selfName)
      this.runOwn((this.lastDcSection?.actions ?? []).filter((a) => a.op === "start"));
  }

  private handedOver(): boolean {
    const own = this.deps.executor.report();
    if (Object.values(own).some((r) => r.state !== "stopped")) return false;
    const others = this.onlineNames();
    if (others.length === 0) return true;
    const wanted = this.config.resources.filter((r) => (r.meta["target-role"] ?? "Started") !== "Stopped");
    return wanted.every((res) =>
      others.some((n) => this.reports.get(n)?.report.resources[res.id]?.state === "running"),
    );
  }

  private onlineNames(): string[] {
    return this.config.nodes.map((n) => n.name).filter((n) => this.alive.has(n) && !this.isLeaving(n));
  }

  private restartingNames(): string[] {
    const now = this.deps.clock.now();
    return [...this.expectedBack.entries()]
      .filter(([name, until]) => until > now && !this.alive.has(name) && this.reports.has(name))
      .map(([name]) => name);
  }

  private leavingNames(): string[] {
    return this.config.nodes.map((n) => n.name).filter((n) => this.alive.has(n) && this.isLeaving(n));
  }

  private isLeaving(name: string): boolean {
    if (name === this.deps.selfName) return this.leaving;
    return this.reports.get(name)?.report.leaving === true;
  }

  private dcName(): string | null {
    if (this.deps.coordination) return this.deps.coordination.dc();
    const candidates = this.config.nodes
      .filter((n) => this.alive.has(n.name) && !this.isLeaving(n.name))
      .sort((a, b) => a.id - b.id);
    return candidates[0]?.name ?? null;
  }

  private quorate(): boolean {
    if (this.deps.coordination) return this.deps.coordination.quorate();
    return this.quorumInfo().quorate;
  }

  /** Votes, flags and whether this partition is quorate (corosync-quorumtool's view of this node). */
  quorumInfo(): QuorumState {
    return quorumState({
      expectedVotes: this.config.nodes.length,
      aliveVotes: this.config.nodes.filter((n) => this.alive.has(n.name)).length,
      ...effectiveQuorumOptions(this.config.quorum, this.config.nodes.length),
      allSeenOnce: this.allSeenOnce,
      ...(this.config.quorum.device && this.deps.quorumDevice
        ? { device: this.deps.quorumDevice.vote() }
        : {}),
    });
  }

  /** `quorum unblock`: stop waiting for all nodes (wait_for_all) on this running node. */
  unblockQuorum(): void {
    this.allSeenOnce = true;
    this.refresh();
  }

  private recordQuorumChange(): void {
    // With etcd the quorum is etcd's: its freeze and thaw are recorded by the coordination, not as votes.
    if (this.deps.coordination) return;
    const quorate = this.quorate();
    if (quorate === this.lastQuorate) return;
    const first = this.lastQuorate === null;
    this.lastQuorate = quorate;
    if (first && !quorate) return;
    const q = this.quorumInfo();
    this.deps.logger.info({ quorate, votes: q.totalVotes, expected: q.expectedVotes }, "quorum changed");
    this.deps.events?.record({
      type: "quorum",
      summary: `${quorate ? "quorum gained" : "quorum lost"} (${q.totalVotes} of ${q.expectedVotes} votes)`,
      data: { quorate, totalVotes: q.totalVotes, expectedVotes: q.expectedVotes, flags: q.flags },
    });
  }

  private nameOf(id: number): string | undefined {
    return this.config.nodes.find((n) => n.id === id)?.name;
  }
}

export function peersOf(
  config: ClusterConfig,
  selfName: string,
): { id: number; name: string; addrs: string[] }[] {
  return config.nodes
    .filter((n) => n.name !== selfName)
    .map((n) => ({ id: n.id, name: n.name, addrs: n.addrs }));
}

/**
 * What of a peer's report the decision depends on: all but the configuration, the DC's own section and
 * each resource's hint and message. A VIP holder's hint changes at every lease renewal (at 200 VIPs,
 * several times a second) and a monitor's message with every cloud error: neither moves anything, so
 * neither re-runs decide() and re-gossips this node's report (the hint itself is still noted).
 */
function decisionKey(report: NodeReport): string {
  const { dc: _dc, config: _config, resources, ...rest } = report;
  const decisive: Record<string, Omit<ResourceReport, "hint" | "message">> = {};
  for (const [id, { hint: _hint, message: _message, ...r }] of Object.entries(resources)) decisive[id] = r;
  return JSON.stringify({ ...rest, resources: decisive });
}
