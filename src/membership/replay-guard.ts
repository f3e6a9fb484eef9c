/**
 * Rejects heartbeats that were seen before. Per sender it remembers the newest incarnation and the
 * highest sequence number accepted in it: a packet passes only if it starts a newer incarnation, or is
 * in the same incarnation with a higher sequence. Older incarnations, repeats and out-of-order older
 * packets are all "replay": a heartbeat is only worth its freshness, so dropping a late one costs nothing.
 *
 * Call it only after the MAC has been checked, or a forger could advance the guard and lock a peer out.
 */
export type ReplayVerdict = "new-incarnation" | "accept" | "replay";

interface SenderHighWater {
  incarnation: bigint;
  seq: bigint;
}

export class ReplayGuard {
  readonly #senders = new Map<number, SenderHighWater>();

  /** Checks a packet and, when it passes, records it as the sender's new high-water mark. */
  admit(sender: number, incarnation: bigint, seq: bigint): ReplayVerdict {
    const seen = this.#senders.get(sender);
    if (seen === undefined || incarnation > seen.incarnation) {
      this.#senders.set(sender, { incarnation, seq });
      return "new-incarnation";
    }
    if (incarnation === seen.incarnation && seq > seen.seq) {
      seen.seq = seq;
      return "accept";
    }
    return "replay";
  }

  /** Drops what is known about a sender, e.g. when it is removed from the configuration. */
  forget(sender: number): void {
    this.#senders.delete(sender);
  }
}
