/** A datagram transport between cluster nodes; the real one is UDP, tests use the in-memory one. */
export interface Transport {
  /** Sends one datagram to a peer address; failures are dropped silently, as UDP would. */
  send(addr: string, payload: Uint8Array): void;
  /** Registers the single receiver; `from` is the sender's address. */
  onMessage(handler: (payload: Uint8Array, from: string) => void): void;
  close(): Promise<void>;
}
