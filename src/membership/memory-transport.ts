import type { Clock } from "../clock/clock.ts";
import type { Transport } from "./transport.ts";

export interface MemoryNetworkOptions {
  /** Deliveries are timers on this clock, so a ManualClock decides when packets arrive. */
  clock: Clock;
  /** Source of randomness for loss; pass seededRandom(n) for reproducible runs. Default Math.random. */
  random?: () => number;
  /** One-way delay of every datagram. Default 1 ms, so a reply is never delivered in the same instant. */
  latencyMs?: number;
}

export interface MemoryNetworkStats {
  sent: number;
  delivered: number;
  droppedByLoss: number;
  droppedByPartition: number;
  droppedNoReceiver: number;
}

/**
 * An in-process datagram network for multi-node tests: each node gets a Transport at an address,
 * links can lose packets with a probability, and groups of addresses can be partitioned and healed.
 */
export class MemoryNetwork {
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #latencyMs: number;
  readonly #endpoints = new Map<string, MemoryTransport>();
  readonly #loss = new Map<string, number>();
  readonly #cut = new Set<string>();
  readonly #stats: MemoryNetworkStats = {
    sent: 0,
    delivered: 0,
    droppedByLoss: 0,
    droppedByPartition: 0,
    droppedNoReceiver: 0,
  };

  constructor(opts: MemoryNetworkOptions) {
    this.#clock = opts.clock;
    this.#random = opts.random ?? Math.random;
    this.#latencyMs = opts.latencyMs ?? 1;
  }

  /** A transport bound to `addr`; an address can be reused once its previous transport is closed. */
  transport(addr: string): Transport {
    if (this.#endpoints.has(addr)) throw new Error(`MemoryNetwork: address ${addr} is already in use`);
    const endpoint = new MemoryTransport(this, addr);
    this.#endpoints.set(addr, endpoint);
    return endpoint;
  }

  /** Drops each datagram from `fromAddr` to `toAddr` with this probability (one direction only). */
  setLoss(fromAddr: string, toAddr: string, probability: number): void {
    if (!(probability >= 0 && probability <= 1))
      throw new RangeError(`loss must be in [0, 1], got ${probability}`);
    this.#loss.set(linkKey(fromAddr, toAddr), probability);
  }

  /** Cuts every link between the two groups, both ways; links inside a group keep working. */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.#cut.add(linkKey(a, b));
        this.#cut.add(linkKey(b, a));
      }
    }
  }

  /** Restores every partitioned link; configured loss stays. */
  heal(): void {
    this.#cut.clear();
  }

  stats(): MemoryNetworkStats {
    return { ...this.#stats };
  }

  /** Called by MemoryTransport; the decision to drop is taken at send time, as on a real wire. */
  route(from: string, to: string, payload: Uint8Array): void {
    this.#stats.sent++;
    const key = linkKey(from, to);
    if (this.#cut.has(key)) {
      this.#stats.droppedByPartition++;
      return;
    }
    const loss = this.#loss.get(key) ?? 0;
    if (loss > 0 && this.#random() < loss) {
      this.#stats.droppedByLoss++;
      return;
    }
    const copy = Uint8Array.from(payload);
    this.#clock.setTimeout(() => {
      const receiver = this.#endpoints.get(to);
      if (receiver === undefined || !receiver.deliver(copy, from)) {
        this.#stats.droppedNoReceiver++;
        return;
      }
      this.#stats.delivered++;
    }, this.#latencyMs);
  }

  release(addr: string, endpoint: MemoryTransport): void {
    if (this.#endpoints.get(addr) === endpoint) this.#endpoints.delete(addr);
  }
}

class MemoryTransport implements Transport {
  readonly #network: MemoryNetwork;
  readonly #addr: string;
  #handler: ((payload: Uint8Array, from: string) => void) | undefined;
  #closed = false;

  constructor(network: MemoryNetwork, addr: string) {
    this.#network = network;
    this.#addr = addr;
  }

  send(addr: string, payload: Uint8Array): void {
    if (!this.#closed) this.#network.route(this.#addr, addr, payload);
  }

  onMessage(handler: (payload: Uint8Array, from: string) => void): void {
    this.#handler = handler;
  }

  /** Returns false when nobody is listening, so the network can count the drop. */
  deliver(payload: Uint8Array, from: string): boolean {
    if (this.#closed || this.#handler === undefined) return false;
    this.#handler(payload, from);
    return true;
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#network.release(this.#addr, this);
    return Promise.resolve();
  }
}

function linkKey(from: string, to: string): string {
  return `${from}>${to}`;
}
