import { createSocket, type Socket } from "node:dgram";
import { EventEmitter } from "node:events";
import type { Clock, TimerHandle } from "../clock/clock.ts";
import type { ClusterConfig } from "../config/schema.ts";
import type { EventLog } from "../observability/event-log.ts";
import type { Logger } from "../observability/logger.ts";
import type { DeviceVote } from "../quorum/votequorum.ts";
import {
  decodeWitnessPacket,
  encodeWitnessPacket,
  WitnessPacketType,
  witnessKeyOf,
  witnessPacketKey,
  type WitnessPacketKey,
} from "../quorum/witness-packet.ts";
import { WitnessVoteTracker, type QuorumDeviceStatus } from "../quorum/witness-vote.ts";

type Device = NonNullable<ClusterConfig["quorum"]["device"]>;

/**
 * A node's connection to the witness: sends its membership view ten times per token over UDP and
 * keeps the vote the witness grants (see WitnessVoteTracker). Emits "change" when the vote changes, so
 * the coordinator re-evaluates quorum at once.
 */
export class WitnessClient extends EventEmitter<{ change: [DeviceVote] }> {
  private socket: Socket | null = null;
  private timer: TimerHandle | null = null;
  private device: Device | null = null;
  private key: WitnessPacketKey | null = null;
  private tracker: WitnessVoteTracker;
  private members: number[];
  private lastVote: DeviceVote = "none";
  private sent = 0;
  private received = 0;
  private readonly rejectedPackets: Record<string, number> = {};

  constructor(
    private readonly deps: {
      clock: Clock;
      logger: Logger;
      events?: EventLog;
      clusterKey: Buffer;
      selfId: number;
      bindAddress: string;
      incarnation: bigint;
    },
    private config: ClusterConfig,
  ) {
    super();
    this.members = [deps.selfId];
    this.tracker = this.newTracker();
  }

  /** (Re)starts or stops talking to the witness after a configuration change. */
  async configure(config: ClusterConfig): Promise<void> {
    const before = this.config;
    this.config = config;
    const device = config.quorum.device ?? null;
    const same =
      device !== null &&
      this.device !== null &&
      device.addr === this.device.addr &&
      device.port === this.device.port &&
      config.totem.tokenMs === before.totem.tokenMs;
    if (same) return;
    await this.stop();
    this.device = device;
    if (device === null) {
      this.check();
      return;
    }
    this.key = witnessPacketKey(witnessKeyOf(this.deps.clusterKey), config.name);
    this.tracker = this.newTracker();
    const socket = createSocket({ type: "udp4" });
    socket.on("error", (error) => this.deps.logger.debug({ err: error }, "witness socket error"));
    socket.on("message", (msg) => this.onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.length)));
    await new Promise<void>((resolve) => {
      socket.once("error", () => resolve());
      socket.bind(0, this.deps.bindAddress, () => resolve());
    });
    this.socket = socket;
    this.timer = this.deps.clock.setInterval(
      () => this.tick(),
      witnessReportIntervalMs(config.totem.tokenMs),
    );
    this.send();
  }

  setView(memberIds: number[]): void {
    this.members = memberIds;
    if (this.tracker.setView(memberIds, this.deps.clock.now()) && this.device) {
      this.send();
      // The coordinator re-evaluates quorum after telling us its view; only note the change here, or a
      // quick grant for the new view would look like no change at all and never reach the coordinator.
      this.check(false);
    }
  }

  vote(): DeviceVote {
    return this.device ? this.tracker.vote(this.deps.clock.now()) : "none";
  }

  status(): QuorumDeviceStatus | null {
    if (!this.device) return null;
    return {
      ...this.tracker.status(this.deps.clock.now()),
      host: this.device.host,
      addr: this.device.addr,
      port: this.device.port,
      algorithm: this.device.algorithm,
      sent: this.sent,
      received: this.received,
      rejectedPackets: { ...this.rejectedPackets },
    };
  }

  async stop(): Promise<void> {
    if (this.timer) this.deps.clock.clearInterval(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    this.device = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private newTracker(): WitnessVoteTracker {
    const t = new WitnessVoteTracker(
      this.deps.incarnation,
      2 * this.config.totem.tokenMs,
      this.config.totem.tokenMs,
      this.deps.clock.now(),
    );
    t.setView(this.members, this.deps.clock.now());
    return t;
  }

  private tick(): void {
    this.send();
    this.check();
  }

  private send(): void {
    if (!this.socket || !this.device || !this.key) return;
    const report = this.tracker.nextReport(this.deps.clock.now());
    const bytes = encodeWitnessPacket(this.key, {
      sender: this.deps.selfId,
      incarnation: this.deps.incarnation,
      seq: report.seq,
      body: report.body,
    });
    this.sent++;
    this.socket.send(bytes, this.device.port, this.device.addr, (error) => {
      if (error) this.count("send-error");
    });
  }

  private onMessage(bytes: Uint8Array): void {
    if (!this.key) return;
    const decoded = decodeWitnessPacket(this.key, bytes);
    if (!decoded.ok) return this.count(decoded.reason);
    const { packet } = decoded;
    if (packet.body.type !== WitnessPacketType.answer || packet.sender !== 0)
      return this.count("not-an-answer");
    const reason = this.tracker.onAnswer(packet.incarnation, packet.body, this.deps.clock.now());
    if (reason !== null) return this.count(reason);
    this.received++;
    this.check();
  }

  private count(reason: string): void {
    this.rejectedPackets[reason] = (this.rejectedPackets[reason] ?? 0) + 1;
  }

  private check(emit = true): void {
    const vote = this.vote();
    if (vote === this.lastVote) return;
    const before = this.lastVote;
    this.lastVote = vote;
    const summary =
      vote === "granted"
        ? "witness vote granted"
        : before === "granted"
          ? `witness vote lost (${vote})`
          : `witness vote ${vote}`;
    this.deps.logger.info({ vote, before }, summary);
    this.deps.events?.record({ type: "quorum", summary, data: { witness: vote, before } });
    if (emit) this.emit("change", vote);
  }
}

/**
 * Ten reports per token. Not the heartbeat interval: heartbeats go out as copies in fewer rounds, while a
 * witness report is one request and one answer, so its loss tolerance is the number of exchanges.
 */
export function witnessReportIntervalMs(tokenMs: number): number {
  return Math.max(20, Math.floor(tokenMs / 10));
}
