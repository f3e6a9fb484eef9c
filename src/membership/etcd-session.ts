import { EventEmitter } from "node:events";
import { Etcd3, type IKeyValue, type Lease, type Watcher } from "etcd3";
import type { Clock, TimerHandle } from "../clock/clock.ts";
import type { Logger } from "../observability/logger.ts";
import { etcdKeys, EtcdMirror, type EtcdKeys, type KeyValue } from "./etcd-mirror.ts";
import { EtcdReachability, type FreezeState } from "./etcd-reachability.ts";

export interface EtcdSessionOptions {
  endpoints: readonly string[];
  cluster: string;
  node: string;
  /** Lease TTL in whole seconds (etcd's unit); a lost node is noticed by peers after this long. */
  ttlSeconds: number;
  clock: Clock;
  logger: Logger;
}

export interface EtcdSessionEvents {
  /** The local copy of the cluster's keys changed (never emitted while frozen). */
  change: [];
  frozen: [FreezeState];
  /** The freeze lasted this many ms. */
  thawed: [number];
}

/** Every few renewals the whole prefix is read again, in case a watch stream stalled unnoticed. */
const RESYNC_EVERY_TICKS = 3;

/**
 * This node's connection to etcd: one lease (renewed by this class every TTL/3, so the renewal cadence and
 * its failures are under floatip's clock), the member key and the election key under that lease, a watch
 * on the cluster's prefix mirrored locally, and the freeze state. A lease lost while cut off is replaced
 * by a new one as soon as etcd answers again, and the member and election keys are written anew.
 */
export class EtcdSession extends EventEmitter<EtcdSessionEvents> {
  readonly keys: EtcdKeys;
  readonly mirror = new EtcdMirror();
  readonly reachability: EtcdReachability;
  readonly client: Etcd3;
  readonly intervalMs: number;
  private lease: Lease | null = null;
  private leaseIdValue: string | null = null;
  private watcher: Watcher | null = null;
  private memberValue: Buffer | null = null;
  private written: { value: Buffer; lease: string } | null = null;
  private campaigning = false;
  private election: { key: string; lease: string; createRevision: bigint } | null = null;
  private needsSync = true;
  private ticks = 0;
  private ticking = false;
  private syncing = false;
  private closed = false;
  private timers: TimerHandle[] = [];
  private writeChain: Promise<void> = Promise.resolve();
  private changeScheduled = false;

  constructor(private readonly options: EtcdSessionOptions) {
    super();
    this.keys = etcdKeys(options.cluster);
    this.intervalMs = Math.max(200, Math.floor((options.ttlSeconds * 1000) / 3));
    this.reachability = new EtcdReachability(options.clock, 2 * this.intervalMs);
    const requestTimeoutMs = this.intervalMs;
    this.client = new Etcd3({
      hosts: [...options.endpoints],
      dialTimeout: requestTimeoutMs,
      // Unary calls must fail within one renewal interval so a cut-off node notices in time.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
      grpcOptions: {
        // A watch stream to a member that vanished without a reset (link down) is noticed by pings.
        "grpc.keepalive_time_ms": 5_000,
        "grpc.keepalive_timeout_ms": 2_000,
      },
    });
  }

  get leaseId(): string | null {
    return this.leaseIdValue;
  }

  /** The own election key and its create revision (the leadership guard), while campaigning. */
  get electionKey(): { key: string; createRevision: bigint } | null {
    return this.election;
  }

  start(): void {
    this.timers.push(this.options.clock.setInterval(() => void this.tick(), this.intervalMs));
    // Freezing must not wait for a slow tick: the check is cheap and runs on its own.
    this.timers.push(
      this.options.clock.setInterval(() => this.checkFreeze(), Math.max(50, this.intervalMs / 4)),
    );
    void this.tick();
  }

  /** What the member key carries (the node report); written now and again under every new lease. */
  publishMember(value: Uint8Array): void {
    this.memberValue = Buffer.from(value);
    this.queueWrite();
  }

  /** Stand for coordinator: the election key is kept under the lease until resign(). */
  campaign(): void {
    this.campaigning = true;
    this.queueWrite();
  }

  resign(): void {
    if (!this.campaigning) return;
    this.campaigning = false;
    const held = this.election;
    this.election = null;
    if (held) {
      this.writeChain = this.writeChain
        .then(async () => void (await this.client.delete().key(held.key).exec()))
        .catch((error: unknown) => this.failed(error));
    }
  }

  get isCampaigning(): boolean {
    return this.campaigning;
  }

  /**
   * Writes `puts` and deletes `deletes` only while the own election key still has the create revision it
   * had when this node became leader; false when it does not (deposed), throws when etcd did not answer.
   */
  async guardedWrite(
    guard: { key: string; createRevision: bigint },
    puts: Record<string, string>,
    deletes: readonly string[],
  ): Promise<{ written: boolean; revision: bigint }> {
    const ops = [
      ...Object.entries(puts).map(([key, value]) => this.client.put(key).value(value)),
      ...deletes.map((key) => this.client.delete().key(key)),
    ];
    const result = await this.client
      .if(guard.key, "Create", "==", guard.createRevision.toString())
      .then(...ops)
      .commit();
    this.reachability.answered();
    return { written: result.succeeded, revision: BigInt(result.header.revision) };
  }

  /** Stops renewing; `revoke` deletes the member and election keys at once (a clean stop). */
  async close(options: { revoke: boolean }): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) this.options.clock.clearInterval(t);
    await this.writeChain.catch(() => undefined);
    if (options.revoke && this.lease) {
      await withTimeout(this.options.clock, this.lease.revoke(), this.intervalMs).catch((error: unknown) =>
        this.options.logger.warn({ err: error }, "could not revoke the etcd lease; it expires by itself"),
      );
    } else {
      this.lease?.release();
    }
    await this.watcher?.cancel().catch(() => undefined);
    this.client.close();
  }

  /** Renewal only, so a slow read or write never delays the next renewal. */
  private async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      if (this.lease === null) await this.grant();
      else await this.renew();
      this.reachability.answered();
      void this.sync();
    } catch (error) {
      this.failed(error);
    } finally {
      this.ticking = false;
      this.checkFreeze();
    }
  }

  /** Own keys written, the local copy read again when due, the watch in place; then maybe thaw. */
  private async sync(): Promise<void> {
    if (this.syncing || this.closed) return;
    this.syncing = true;
    try {
      await this.writeOwn();
      this.ticks++;
      if (this.needsSync || this.ticks % RESYNC_EVERY_TICKS === 0) await this.resync();
      if (this.watcher === null) await this.watch();
      this.maybeThaw();
    } catch (error) {
      this.failed(error);
    } finally {
      this.syncing = false;
    }
  }

  private async grant(): Promise<void> {
    const lease = this.client.lease(this.options.ttlSeconds, { autoKeepAlive: false });
    // A grant that fails emits "lost"; it is handled through the rejected grant() below.
    lease.on("lost", () => undefined);
    const id = await withTimeout(this.options.clock, lease.grant(), this.intervalMs);
    this.lease = lease;
    this.leaseIdValue = id;
    this.written = null;
    this.election = null;
    this.options.logger.info({ lease: id, ttlSeconds: this.options.ttlSeconds }, "etcd lease granted");
  }

  private async renew(): Promise<void> {
    const lease = this.lease;
    if (lease === null) return;
    try {
      const res = await this.keepaliveOnce(lease);
      if (Number(res.TTL) <= 0) throw new LeaseGone();
    } catch (error) {
      if (!(error instanceof LeaseGone) && !/expired or revoked/i.test(String(error))) throw error;
      // etcd answered, and the lease is gone: peers already saw this node leave. Start a new life.
      this.options.logger.warn({ lease: this.leaseIdValue }, "etcd lease expired; taking a new one");
      this.reachability.answered();
      this.freezeNow("the etcd lease expired while etcd was unreachable");
      this.lease = null;
      this.leaseIdValue = null;
      this.needsSync = true;
      await this.grant();
    }
  }

  /**
   * One renewal, tried on another endpoint when the first fails: the client picks an endpoint at random
   * per stream and does not retry streams, so with one etcd member down a third of single attempts fail.
   */
  private async keepaliveOnce(lease: Lease): Promise<{ TTL: string }> {
    const attempts = this.options.endpoints.length + 1;
    // A dead member fails at once (connection refused); only a slow or unreachable one uses the deadline.
    const perAttemptMs = this.intervalMs;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        const deadline = new Date(Date.now() + perAttemptMs);
        return await withTimeout(this.options.clock, lease.keepaliveOnce({ deadline }), perAttemptMs);
      } catch (error) {
        if (/expired or revoked/i.test(String(error))) throw error;
        lastError = error;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  private queueWrite(): void {
    if (this.lease === null) return;
    this.writeChain = this.writeChain
      .then(() => this.writeOwn())
      .catch((error: unknown) => this.failed(error));
  }

  private async writeOwn(): Promise<void> {
    const lease = this.lease;
    const leaseId = this.leaseIdValue;
    if (lease === null || leaseId === null || this.closed) return;
    const value = this.memberValue;
    if (value !== null && (this.written?.lease !== leaseId || !this.written.value.equals(value))) {
      await lease.put(this.keys.member(this.options.node)).value(value).exec();
      this.written = { value, lease: leaseId };
    }
    if (this.campaigning && this.election?.lease !== leaseId) {
      const key = this.keys.election(leaseId);
      const res = await lease.put(key).value(this.options.node).exec();
      // The key is named after a fresh lease, so this put created it: its revision is the create revision.
      this.election = { key, lease: leaseId, createRevision: BigInt(res.header.revision) };
    }
  }

  private async resync(): Promise<void> {
    const res = await this.client.getAll().prefix(this.keys.prefix).exec();
    const changed = this.mirror.reset(res.kvs.map(toKeyValue), BigInt(res.header.revision));
    this.needsSync = false;
    if (changed) this.scheduleChange();
  }

  private async watch(): Promise<void> {
    const watcher = await this.client
      .watch()
      .prefix(this.keys.prefix)
      .startRevision((this.mirror.revision + 1n).toString())
      .create();
    watcher.on("put", (kv) => {
      if (this.mirror.put(toKeyValue(kv))) this.scheduleChange();
    });
    watcher.on("delete", (kv) => {
      if (this.mirror.delete(kv.key.toString(), BigInt(kv.mod_revision))) this.scheduleChange();
    });
    watcher.on("error", (error) => this.options.logger.debug({ err: error }, "etcd watch error"));
    watcher.on("disconnected", () => this.options.logger.debug("etcd watch disconnected"));
    this.watcher = watcher;
  }

  private scheduleChange(): void {
    if (this.changeScheduled) return;
    this.changeScheduled = true;
    // One notification per burst of watch events.
    queueMicrotask(() => {
      this.changeScheduled = false;
      if (!this.closed && this.reachability.frozen === null) this.emit("change");
    });
  }

  private maybeThaw(): void {
    if (this.reachability.frozen === null || this.needsSync || !this.reachability.reachable) return;
    const lasted = this.reachability.thaw();
    if (lasted === null) return;
    this.options.logger.info({ frozenMs: lasted }, "etcd reachable again; unfrozen");
    this.emit("thawed", lasted);
    this.emit("change");
  }

  private checkFreeze(): void {
    if (this.closed) return;
    const frozen = this.reachability.check();
    if (frozen) this.onFrozen(frozen);
  }

  private freezeNow(reason: string): void {
    const frozen = this.reachability.freeze(reason);
    if (frozen) this.onFrozen(frozen);
  }

  private onFrozen(frozen: FreezeState): void {
    // Whatever was missed while cut off is read in full before the node acts again.
    this.needsSync = true;
    this.options.logger.warn({ reason: frozen.reason }, "frozen: etcd unreachable");
    this.emit("frozen", frozen);
  }

  private failed(error: unknown): void {
    const text = error instanceof Error ? error.message : String(error);
    this.reachability.failed(text.slice(0, 200));
    this.options.logger.debug({ err: text }, "etcd request failed");
  }
}

class LeaseGone extends Error {
  constructor() {
    super("lease expired or revoked");
  }
}

function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: Buffer.from(kv.value),
    createRevision: BigInt(kv.create_revision),
    modRevision: BigInt(kv.mod_revision),
    lease: String(kv.lease),
  };
}

function withTimeout<T>(clock: Clock, promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`etcd did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
