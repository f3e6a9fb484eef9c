import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AddressEvents } from "../agents/address-events.ts";
import type { Clock } from "../clock/clock.ts";
import { createClusterKey, readClusterKey } from "../config/cluster-key.ts";
import type { ClusterConfig } from "../config/schema.ts";
import { ConfigStore, writeFileAtomic } from "../config/store.ts";
import { AdminServer } from "../api/server.ts";
import { loadOrCreateTlsIdentity } from "../api/tls-identity.ts";
import type { StatusSnapshot } from "../api/status-types.ts";
import { ClusterNode, peersOf, type MembershipPort } from "../coordinator/cluster-node.ts";
import { LocalExecutor } from "../coordinator/local-executor.ts";
import { Membership, newIncarnation } from "../membership/membership.ts";
import { UdpTransport } from "../membership/udp-transport.ts";
import { EventLog } from "../observability/event-log.ts";
import type { Logger } from "../observability/logger.ts";
import type { AgentFactory } from "./agent-registry.ts";
import { AuthStore } from "./auth-store.ts";
import { createEtcdServices, usesEtcd, type EtcdServices } from "./etcd-services.ts";
import { findSelf } from "./self-identity.ts";
import { WitnessClient } from "./witness-client.ts";
import { buildStatus } from "./status-builder.ts";
import { NodeFencing } from "../coordinator/fence-coordinator.ts";
import type { FencingProvider } from "./fence-provider.ts";

/** How long peers keep a restarting node's resources in place before failing them over. */
const RESTART_GRACE_MS = 15_000;

export interface DaemonOptions {
  stateDir: string;
  socketPath: string;
  configPath: string;
  adminHost: string;
  adminPort: number;
  /** Leave resources running on exit so a restarted daemon re-attaches to them. */
  leaveResourcesOnExit: boolean;
  nodeName?: string;
  logger: Logger;
  clock: Clock;
  agents: AgentFactory;
  version: string;
  /** Fence devices and this node's instance OCID; absent: the cluster never fences. */
  fencing?: FencingProvider;
}

interface RunningCluster {
  node: ClusterNode;
  membership: MembershipPort & { stop(): void };
  executor: LocalExecutor;
  /** The heartbeat socket; null with coordination=etcd, where membership lives in etcd. */
  transport: UdpTransport | null;
  etcd: EtcdServices | null;
  addressEvents: AddressEvents | null;
  selfName: string;
}

/**
 * One floatip daemon per node: always answers the admin API (like pcsd), and runs the cluster services
 * (membership, coordinator, executor) between `cluster start` and `cluster stop`.
 */
export class Daemon {
  readonly store: ConfigStore;
  readonly auth: AuthStore;
  readonly api: AdminServer;
  /** This node's recent events: membership, decisions, actions, cloud calls, measured failovers. */
  readonly events: EventLog;
  private cluster: RunningCluster | null = null;
  private readonly startedAt = new Date();
  /** Lost-node tracking and fence execution while cluster services run. */
  private fencing: NodeFencing | null = null;
  private transition: Promise<void> = Promise.resolve();
  /** The witness connection (quorum.device) while cluster services run. */
  private witness: WitnessClient | null = null;

  constructor(readonly options: DaemonOptions) {
    mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
    this.store = ConfigStore.open(options.configPath);
    this.auth = new AuthStore(options.stateDir, () => options.clock.now());
    this.api = new AdminServer({ logger: options.logger, verifyToken: (t) => this.auth.verifyToken(t) });
    this.events = new EventLog({
      node: () => this.cluster?.selfName ?? options.nodeName ?? "local",
      now: () => Date.now(),
    });
  }

  get keyPath(): string {
    return join(this.options.stateDir, "cluster.key");
  }

  private get startedMarker(): string {
    return join(this.options.stateDir, "cluster-started");
  }

  async start(): Promise<void> {
    await this.api.listenUnix(this.options.socketPath);
    const tls = await loadOrCreateTlsIdentity(this.options.stateDir, this.options.nodeName ?? "floatip");
    await this.api.listenTcp(this.options.adminHost, this.options.adminPort, tls);
    this.options.logger.info({ fingerprint: tls.fingerprint }, "admin API certificate");
    const config = this.loadConfig();
    if (config && existsSync(this.startedMarker)) await this.startCluster();
  }

  loadConfig(): ClusterConfig | null {
    const config = this.store.load();
    if (this.store.lastLoadProblem) this.options.logger.warn(this.store.lastLoadProblem);
    return config;
  }

  /** Fencing of the running cluster services (for `stonith fence` and `stonith history`). */
  get runningFencing(): NodeFencing | null {
    return this.fencing;
  }

  get runningNode(): ClusterNode | null {
    return this.cluster?.node ?? null;
  }

  /** Installs a cluster configuration and key received at setup. */
  install(config: ClusterConfig, key: Buffer | null, force: boolean): void {
    const existing = this.store.load();
    if (existing && !force && existing.name !== config.name) {
      throw Object.assign(
        new Error(
          `FLOATIP_E_CLUSTER_EXISTS: this node already belongs to cluster '${existing.name}'; destroy it first or use --force`,
        ),
        { code: "FLOATIP_E_CLUSTER_EXISTS" },
      );
    }
    if (key) writeFileAtomic(this.keyPath, key, { mode: 0o600, overwrite: true });
    else if (!existsSync(this.keyPath)) createClusterKey(this.keyPath);
    const next = { ...config, epoch: Math.max(config.epoch, (existing?.epoch ?? 0) + 1) };
    this.store.commit(next);
  }

  /** Commits a configuration change made on this node and hands it to the running cluster. */
  updateConfig(mutate: (draft: ClusterConfig) => void): ClusterConfig {
    const next = this.store.update(mutate);
    this.cluster?.node.applyConfig(next);
    return next;
  }

  startCluster(): Promise<void> {
    return this.serialize(async () => {
      if (this.cluster) return;
      const config = this.loadConfig();
      if (!config) {
        throw Object.assign(
          new Error("FLOATIP_E_NO_CLUSTER: this node is not in a cluster; run 'floatip cluster setup' first"),
          { code: "FLOATIP_E_NO_CLUSTER" },
        );
      }
      const key = readClusterKey(this.keyPath);
      const self = findSelf(config, this.options.nodeName);
      await this.options.agents.prepare?.(config);
      const zone = await this.options.agents.zone?.(config);
      const instanceId = await this.options.fencing?.selfInstanceId(config);
      const provider = this.options.fencing;
      const fencing = provider
        ? new NodeFencing({
            selfName: self.name,
            clock: this.options.clock,
            wallNow: () => Date.now(),
            logger: this.options.logger.child({ component: "fencing" }),
            events: this.events,
            devicesFor: (current, instanceIdOf) => provider.devicesFor(current, instanceIdOf),
            config: () => node?.currentConfig ?? config,
            onChange: () => node?.refresh(),
          })
        : null;
      this.fencing = fencing;
      const { logger, clock } = this.options;
      const etcd = usesEtcd(config)
        ? await createEtcdServices({ config, self, clock, logger, events: this.events })
        : null;
      const transport = etcd
        ? null
        : await UdpTransport.bind({ address: self.addrs[0] ?? "0.0.0.0", port: config.totem.port });
      const membership: MembershipPort & { stop(): void } =
        etcd?.members ??
        new Membership({
          self: { id: self.id, name: self.name },
          peers: peersOf(config, self.name),
          key,
          clusterName: config.name,
          tokenMs: config.totem.tokenMs,
          heartbeatIntervalMs: config.totem.heartbeatIntervalMs,
          heartbeatCopies: config.totem.heartbeatCopies,
          transport: transport as UdpTransport,
          clock,
        });
      let node: ClusterNode | null = null;
      const executor = new LocalExecutor({
        resolveAgent: (resource) => this.options.agents.agentFor(resource, node?.currentConfig ?? config),
        clock,
        logger: logger.child({ component: "executor" }),
        events: {
          onChange: () => node?.refresh(),
          onHintChange: () => node?.republish(),
          onAction: (a) =>
            this.events.record({
              type: a.op === "monitor" ? "resource" : "action",
              summary: `${a.op} ${a.resource}: ${a.state}${a.message ? ` (${a.message})` : ""} in ${a.durationMs} ms`,
              data: { ...a },
            }),
        },
      });
      const witness = new WitnessClient(
        {
          clock,
          logger: logger.child({ component: "witness" }),
          events: this.events,
          clusterKey: key,
          selfId: self.id,
          bindAddress: self.addrs[0] ?? "0.0.0.0",
          incarnation: newIncarnation(clock.now()),
        },
        config,
      );
      await witness.configure(config);
      this.witness = witness;
      node = new ClusterNode({
        quorumDevice: witness,
        selfName: self.name,
        config,
        membership,
        executor,
        clock,
        logger: logger.child({ component: "coordinator" }),
        adoptConfig: (remote) => this.store.adopt(remote),
        events: this.events,
        ...(zone !== undefined ? { zone } : {}),
        ...(instanceId !== undefined ? { instanceId } : {}),
        ...(fencing ? { fencing } : {}),
        ...(etcd ? { coordination: etcd.coordination } : {}),
      });
      // Only now: the node listens to the session before its first read of etcd arrives.
      etcd?.session.start();
      witness.on("change", () => node?.refresh());
      node.on("config", (next: ClusterConfig) => void witness.configure(next));
      const addressEvents = await this.watchAddresses(executor);
      let wasOnline: string[] = [];
      node.on("membership", ({ online }: { online: string[] }) => {
        const lost = wasOnline.some((name) => !online.includes(name));
        wasOnline = online;
        if (lost) this.options.agents.peersLost?.();
        const current = node?.currentConfig ?? config;
        if (current.nodes.every((n) => online.includes(n.name))) {
          const runningHere = Object.entries(executor.report())
            .filter(([, r]) => r.state === "running")
            .flatMap(([id]) => executor.paramsOf(id)?.["ip"] ?? []);
          this.options.agents.clusterWhole?.(runningHere).catch((error: unknown) => {
            logger.warn({ err: error }, "could not forget partition-time displacements");
          });
        } else {
          this.options.agents.clusterPartial?.();
        }
      });
      this.cluster = { node, membership, executor, transport, etcd, addressEvents, selfName: self.name };
      writeFileSync(this.startedMarker, `${new Date().toISOString()}\n`, { mode: 0o600 });
      logger.info({ node: self.name, cluster: config.name }, "cluster services started");
    });
  }

  stopCluster(options: { leaveResources: boolean; forget: boolean; restarting?: boolean }): Promise<void> {
    return this.serialize(async () => {
      const running = this.cluster;
      if (!running) {
        if (options.forget) rmSync(this.startedMarker, { force: true });
        return;
      }
      const config = running.node.currentConfig;
      if (!options.leaveResources) await running.node.leave(config.totem.tokenMs * 3);
      else if (options.restarting) await running.node.announceRestart(RESTART_GRACE_MS);
      running.membership.stop();
      await this.witness?.stop();
      this.witness = null;
      await running.executor.close();
      await running.transport?.close();
      // A clean stop revokes the lease (peers see the node go at once); a restart lets it run out.
      await running.etcd?.session.close({ revoke: !options.leaveResources });
      await running.addressEvents?.stop();
      this.fencing?.close();
      this.fencing = null;
      this.cluster = null;
      if (options.forget) rmSync(this.startedMarker, { force: true });
      this.options.logger.info({ leftResources: options.leaveResources }, "cluster services stopped");
    });
  }

  async shutdown(): Promise<void> {
    const leave = this.options.leaveResourcesOnExit;
    await this.stopCluster({ leaveResources: leave, forget: false, restarting: leave });
    await this.api.close();
    rmSync(this.options.socketPath, { force: true });
  }

  status(): StatusSnapshot {
    const config = this.store.load();
    const lastChange = existsSync(this.options.configPath)
      ? { at: statSync(this.options.configPath).mtime.toISOString(), epoch: config?.epoch ?? 0 }
      : null;
    return buildStatus({
      config,
      view: this.cluster?.node.view() ?? null,
      membershipStats: this.cluster?.membership.stats() ?? null,
      configProblem: this.store.lastLoadProblem,
      lastChange,
      daemon: { pid: process.pid, startedAt: this.startedAt.toISOString(), version: this.options.version },
      nodeName: this.cluster?.selfName ?? null,
      quorum: this.quorumStatus(),
    });
  }

  /** Votes, flags and the witness connection of the running node (`quorum status`), or null when stopped. */
  quorumStatus(): StatusSnapshot["quorum"] {
    const node = this.cluster?.node;
    if (!node) return null;
    return { ...node.quorumInfo(), device: this.witness?.status() ?? null };
  }

  /**
   * A VIP removed by hand (`ip addr del`, a network restart) is noticed from netlink at once, not at the
   * next monitor interval.
   */
  private async watchAddresses(executor: LocalExecutor): Promise<AddressEvents | null> {
    const events = new AddressEvents();
    events.on("deleted", ({ ip }: { ip: string }) => {
      for (const id of executor.resourceIds())
        if (executor.paramsOf(id)?.["ip"] === ip) executor.checkNow(id);
    });
    events.on("error", (error: unknown) =>
      this.options.logger.warn({ err: error }, "address events stopped"),
    );
    try {
      await events.start();
      return events;
    } catch (error) {
      this.options.logger.warn({ err: error }, "cannot watch address events; relying on monitors");
      return null;
    }
  }

  /** Start and stop requests arrive concurrently from CLI calls; run them one at a time. */
  private serialize(work: () => Promise<void>): Promise<void> {
    const next = this.transition.then(work, work);
    this.transition = next.catch(() => undefined);
    return next;
  }
}
