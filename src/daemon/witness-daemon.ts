import { randomBytes } from "node:crypto";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ApiError } from "../api/protocol.ts";
import type { WitnessStatus } from "../api/witness-status.ts";
import { AdminServer } from "../api/server.ts";
import { loadOrCreateTlsIdentity } from "../api/tls-identity.ts";
import type { Clock } from "../clock/clock.ts";
import { writeFileAtomic } from "../config/store.ts";
import { clusterIdOf } from "../membership/packet.ts";
import { ReplayGuard } from "../membership/replay-guard.ts";
import type { Logger } from "../observability/logger.ts";
import { FfsplitArbiter, type ArbiterState } from "../quorum/ffsplit.ts";
import {
  decodeWitnessPacket,
  encodeWitnessPacket,
  peekClusterId,
  Verdict,
  WitnessPacketType,
  witnessPacketKey,
  WITNESS_KEY_BYTES,
  type WitnessPacketKey,
  type WitnessRejectReason,
} from "../quorum/witness-packet.ts";
import { AuthStore } from "./auth-store.ts";
import { registerCredentialRoutes } from "./credential-routes.ts";

export interface WitnessDaemonOptions {
  stateDir: string;
  socketPath: string;
  /** UDP address and port for votes (corosync-qnetd listens on 5403). */
  address: string;
  port: number;
  adminHost: string;
  adminPort: number;
  logger: Logger;
  clock: Clock;
  version: string;
}

const nodeListSchema = z.array(
  z.object({ id: z.number().int().min(1).max(0xffff), name: z.string().min(1).max(64) }),
);
const clusterNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/);
const enrolledSchema = z.record(
  z.string(),
  z.object({ key: z.string(), nodes: nodeListSchema, enrolledAt: z.string() }),
);
const arbiterStatesSchema = z.record(
  z.string(),
  z.object({ lastHolder: z.array(z.number().int()).nullable(), maxLeaseMs: z.number().int().min(0) }),
);

export const enrolRequestSchema = z.object({
  cluster: clusterNameSchema,
  /** The witness key (base64), derived from the cluster key by the cluster. */
  key: z.string().max(100),
  nodes: nodeListSchema.min(1).max(64),
});

type RejectReason = WitnessRejectReason | "unknown-cluster" | "unknown-node" | "replay" | "not-a-report";

interface EnrolledCluster {
  name: string;
  key: WitnessPacketKey;
  nodes: { id: number; name: string }[];
  arbiter: FfsplitArbiter;
  guard: ReplayGuard;
  lastSeen: Map<number, { at: number; addr: string }>;
  answered: Record<"granted" | "denied" | "wait" | "resync", number>;
}

/**
 * `floatip witness`: the third vote for one or more clusters, like corosync-qnetd. It answers the admin
 * API (password, `host auth`, enrolment) over TLS like a node, and votes over UDP with HMAC packets. What
 * it must remember across restarts (enrolled clusters, keys 0600, the last holder per cluster) is written
 * atomically to the state dir.
 */
export class WitnessDaemon {
  readonly auth: AuthStore;
  readonly api: AdminServer;
  /** Random per start: reports echo it, so a report recorded before a restart is worthless after it. */
  readonly incarnation = randomBytes(8).readBigUInt64BE(0) | 1n;
  private seq = 0n;
  private socket: Socket | null = null;
  private boundPort = 0;
  private readonly clusters = new Map<number, EnrolledCluster>();
  private readonly rejected: Record<RejectReason, number> = {
    truncated: 0,
    "trailing-bytes": 0,
    "bad-magic": 0,
    "bad-version": 0,
    "wrong-cluster": 0,
    oversized: 0,
    "bad-mac": 0,
    "unknown-type": 0,
    "bad-body": 0,
    "unknown-cluster": 0,
    "unknown-node": 0,
    replay: 0,
    "not-a-report": 0,
  };

  constructor(readonly options: WitnessDaemonOptions) {
    mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
    this.auth = new AuthStore(options.stateDir, () => options.clock.now());
    this.api = new AdminServer({ logger: options.logger, verifyToken: (t) => this.auth.verifyToken(t) });
    this.registerRoutes();
    const states = this.readJson("witness-state.json", arbiterStatesSchema, {});
    for (const [name, entry] of Object.entries(this.readJson("witness-clusters.json", enrolledSchema, {}))) {
      this.addCluster(name, Buffer.from(entry.key, "base64"), entry.nodes, states[name] ?? null);
    }
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const { options } = this;
    const socket = createSocket({ type: "udp4" });
    // A datagram socket error only means lost packets; never let it take the witness down.
    socket.on("error", (error) => options.logger.warn({ err: error }, "witness socket error"));
    socket.on("message", (msg, rinfo) => {
      try {
        this.onDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), rinfo);
      } catch (error) {
        options.logger.error({ err: error }, "failed to handle a witness packet");
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(options.port, options.address, () => {
        socket.off("error", reject);
        resolve();
      });
    }).catch((error: unknown) => {
      throw Object.assign(
        new Error(
          `FLOATIP_E_WITNESS_BIND: cannot listen for votes on ${options.address}:${options.port}/udp (${(error as Error).message}); ` +
            "check that the address is on this host and no other witness uses the port",
        ),
        { code: "FLOATIP_E_WITNESS_BIND" },
      );
    });
    this.socket = socket;
    this.boundPort = socket.address().port;
    await this.api.listenUnix(options.socketPath);
    const tls = await loadOrCreateTlsIdentity(options.stateDir, "floatip-witness");
    await this.api.listenTcp(options.adminHost, options.adminPort, tls);
    options.logger.info(
      {
        port: this.boundPort,
        adminPort: options.adminPort,
        fingerprint: tls.fingerprint,
        clusters: this.clusters.size,
      },
      "floatip witness ready",
    );
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    await this.api.close();
    rmSync(this.options.socketPath, { force: true });
  }

  enrol(name: string, key: Buffer, nodes: { id: number; name: string }[]): void {
    if (key.length !== WITNESS_KEY_BYTES) {
      throw new ApiError("FLOATIP_E_WITNESS_KEY", `the witness key must have ${WITNESS_KEY_BYTES} bytes`);
    }
    const id = clusterIdOf(name);
    const existing = this.clusters.get(id);
    if (existing && existing.name !== name) {
      throw new ApiError(
        "FLOATIP_E_WITNESS_CLUSTER_CLASH",
        `cluster '${name}' has the same id as cluster '${existing.name}' already enrolled here; rename one of them`,
      );
    }
    const all = this.readJson("witness-clusters.json", enrolledSchema, {});
    all[name] = { key: key.toString("base64"), nodes, enrolledAt: new Date().toISOString() };
    this.writeJson("witness-clusters.json", all);
    // Re-enrolling keeps what the witness knows about the cluster's vote.
    this.addCluster(name, key, nodes, existing?.arbiter.persistentState ?? null, existing?.arbiter);
    this.options.logger.info({ cluster: name, nodes: nodes.map((n) => n.name) }, "cluster enrolled");
  }

  remove(name: string): boolean {
    const all = this.readJson("witness-clusters.json", enrolledSchema, {});
    const known = all[name] !== undefined;
    delete all[name];
    this.writeJson("witness-clusters.json", all);
    this.clusters.delete(clusterIdOf(name));
    const states = this.readJson("witness-state.json", arbiterStatesSchema, {});
    delete states[name];
    this.writeJson("witness-state.json", states);
    return known;
  }

  status(): WitnessStatus {
    const now = this.options.clock.now();
    return {
      version: this.options.version,
      incarnation: this.incarnation.toString(),
      address: this.options.address,
      port: this.boundPort,
      clusters: [...this.clusters.values()].map((c) => {
        const views = c.arbiter.views(now);
        return {
          cluster: c.name,
          nodes: c.nodes.map((n) => {
            const seen = c.lastSeen.get(n.id);
            return {
              id: n.id,
              name: n.name,
              lastReportAgoMs: seen ? now - seen.at : null,
              address: seen?.addr ?? null,
              view: views[n.id] ?? null,
            };
          }),
          holder: c.arbiter.currentHolder(now),
          restartHold: c.arbiter.holding(now),
          answered: { ...c.answered },
        };
      }),
      rejected: { ...this.rejected },
    };
  }

  private addCluster(
    name: string,
    key: Buffer,
    nodes: { id: number; name: string }[],
    state: ArbiterState | null,
    arbiter?: FfsplitArbiter,
  ): void {
    this.clusters.set(clusterIdOf(name), {
      name,
      key: witnessPacketKey(key, name),
      nodes,
      arbiter:
        arbiter ?? new FfsplitArbiter(state, this.options.clock.now(), (s) => this.persistState(name, s)),
      guard: new ReplayGuard(),
      lastSeen: new Map(),
      answered: { granted: 0, denied: 0, wait: 0, resync: 0 },
    });
  }

  private persistState(name: string, state: ArbiterState): void {
    const states = this.readJson("witness-state.json", arbiterStatesSchema, {});
    states[name] = state;
    this.writeJson("witness-state.json", states);
  }

  private onDatagram(bytes: Uint8Array, rinfo: RemoteInfo): void {
    const id = peekClusterId(bytes);
    const cluster = id === null ? undefined : this.clusters.get(id);
    if (id === null) return void this.rejected.truncated++;
    if (!cluster) return void this.rejected["unknown-cluster"]++;
    const decoded = decodeWitnessPacket(cluster.key, bytes);
    if (!decoded.ok) return void this.rejected[decoded.reason]++;
    const { packet } = decoded;
    if (packet.body.type !== WitnessPacketType.report) return void this.rejected["not-a-report"]++;
    if (!cluster.nodes.some((n) => n.id === packet.sender)) return void this.rejected["unknown-node"]++;
    if (cluster.guard.admit(packet.sender, packet.incarnation, packet.seq) === "replay") {
      return void this.rejected.replay++;
    }
    const report = packet.body;
    const now = this.options.clock.now();
    cluster.lastSeen.set(packet.sender, { at: now, addr: rinfo.address });
    let verdict: Verdict;
    let leaseMs = report.leaseMs;
    let holder: number[] = [];
    if (report.witnessIncarnation !== this.incarnation) {
      verdict = Verdict.resync;
    } else {
      const answer = cluster.arbiter.report(packet.sender, report.members, report.leaseMs, now);
      ({ verdict, leaseMs, holder } = answer);
    }
    cluster.answered[(["granted", "denied", "wait", "resync"] as const)[verdict - 1] ?? "wait"]++;
    this.seq++;
    const out = encodeWitnessPacket(cluster.key, {
      sender: 0,
      incarnation: this.incarnation,
      seq: this.seq,
      body: {
        type: WitnessPacketType.answer,
        nodeIncarnation: packet.incarnation,
        nodeSeq: packet.seq,
        viewId: report.viewId,
        verdict,
        leaseMs,
        holder,
      },
    });
    this.socket?.send(out, rinfo.port, rinfo.address);
  }

  private registerRoutes(): void {
    const api = this.api;
    registerCredentialRoutes(api, this.auth);
    api.add({
      method: "POST",
      path: "/remote/witness/enrol",
      scope: "remote",
      schema: enrolRequestSchema,
      handle: async ({ cluster, key, nodes }) => {
        this.enrol(cluster, Buffer.from(key, "base64"), nodes);
        return { ok: true, port: this.boundPort };
      },
    });
    api.add({
      method: "POST",
      path: "/remote/witness/remove",
      scope: "remote",
      schema: z.object({ cluster: clusterNameSchema }),
      handle: async ({ cluster }) => ({ ok: true, removed: this.remove(cluster) }),
    });
    api.add({
      method: "GET",
      path: "/v1/status",
      scope: "remote",
      schema: z.object({}),
      handle: async () => {
        throw new ApiError(
          "FLOATIP_E_WITNESS_ONLY",
          "this host runs the floatip witness, not a cluster node; see 'floatip qdevice status net'",
        );
      },
    });
    api.add({
      method: "GET",
      path: "/v1/witness/status",
      scope: "remote",
      schema: z.object({}),
      handle: async () => this.status(),
    });
  }

  private readJson<T>(file: string, schema: z.ZodType<T>, fallback: T): T {
    const path = join(this.options.stateDir, file);
    if (!existsSync(path)) return fallback;
    try {
      const parsed = schema.safeParse(JSON.parse(readFileSync(path, "utf8")));
      if (parsed.success) return parsed.data;
    } catch {
      // Reported below like a schema mismatch.
    }
    this.options.logger.warn({ path }, "ignoring an unreadable witness state file");
    return fallback;
  }

  private writeJson(file: string, value: unknown): void {
    writeFileAtomic(join(this.options.stateDir, file), `${JSON.stringify(value, null, 2)}\n`, {
      mode: 0o600,
      overwrite: true,
    });
  }
}
