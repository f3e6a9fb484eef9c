/** A datagram transport between cluster nodes; the real one is UDP, tests use the in-memory one. */
export interface Transport {
  /**
   * Sends one datagram to a peer address; failures are dropped silently, as UDP would. `port` overrides
   * the transport's default destination port (several daemons on one loopback address in tests).
   */
  send(addr: string, payload: Uint8Array, port?: number): void;
  /** Registers the single receiver; `from` is the sender's address. */
  onMessage(handler: (payload: Uint8Array, from: string) => void): void;
  close(): Promise<void>;
}
