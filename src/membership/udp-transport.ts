import { createSocket, type Socket } from "node:dgram";
import { isIPv4 } from "node:net";
import { MembershipError } from "./errors.ts";
import type { Transport } from "./transport.ts";

export interface UdpTransportOptions {
  /** The node's own heartbeat address; binding to it (not 0.0.0.0) lets several daemons share a port number. */
  address: string;
  /** Local port; 0 picks a free one (tests). */
  port: number;
  /** Destination port when send() names none. Default: the local port, as every node uses the same one. */
  peerPort?: number;
  /** Bind gives up after this long. Default 5000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface UdpTransportStats {
  /** Asynchronous socket errors. A send refused at once (e.g. no route while a link is down) is dropped
   * silently, as the datagram would be lost: the receiver counts the gap. */
  socketErrors: number;
  /** Destinations that were not IPv4 literals: never resolved, so a heartbeat never waits on DNS. */
  badDestinations: number;
}

/** Heartbeats over IPv4 UDP (node:dgram). `from` on received datagrams is the sender's IP without port. */
export class UdpTransport implements Transport {
  readonly #socket: Socket;
  readonly #peerPort: number;
  readonly #stats: UdpTransportStats = { socketErrors: 0, badDestinations: 0 };
  #handler: ((payload: Uint8Array, from: string) => void) | undefined;
  #closed: Promise<void> | undefined;

  private constructor(socket: Socket, peerPort: number) {
    this.#socket = socket;
    this.#peerPort = peerPort;
    socket.on("message", (msg, rinfo) => {
      this.#handler?.(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), rinfo.address);
    });
    // An unhandled 'error' would crash the daemon; for a datagram socket it only means packets are lost.
    socket.on("error", () => this.#stats.socketErrors++);
  }

  /** Throws FLOATIP_E_HEARTBEAT_BIND when the address is not on this node, the port is taken, or the time is up. */
  static async bind(opts: UdpTransportOptions): Promise<UdpTransport> {
    const socket = createSocket({ type: "udp4", reuseAddr: false, lookup: literalLookup });
    const where = `${opts.address}:${opts.port}/udp`;
    const fail = (detail: string, cause?: unknown): MembershipError => {
      try {
        socket.close();
      } catch {
        // Already closed by the failed bind; nothing left to release.
      }
      return new MembershipError(
        "FLOATIP_E_HEARTBEAT_BIND",
        `cannot listen for heartbeats on ${where}: ${detail}; check that the address is configured on this ` +
          "node (ip addr), that no other daemon uses the port, and that addrs= in the configuration is right",
        cause === undefined ? {} : { cause },
      );
    };
    if (!isIPv4(opts.address)) throw fail("not an IPv4 address");
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? 5000;
      const cleanup = (): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        socket.off("error", onError);
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(fail((err as NodeJS.ErrnoException).code ?? err.message, err));
      };
      const onAbort = (): void => {
        cleanup();
        reject(fail("cancelled", opts.signal?.reason));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(fail(`no answer from the kernel within ${timeoutMs} ms`));
      }, timeoutMs);
      if (opts.signal?.aborted) {
        onAbort();
        return;
      }
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      socket.once("error", onError);
      socket.bind({ address: opts.address, port: opts.port, exclusive: true }, () => {
        cleanup();
        resolve();
      });
    });
    const bound = socket.address().port;
    return new UdpTransport(socket, opts.peerPort ?? bound);
  }

  /** The local port actually bound (useful after binding port 0). */
  get port(): number {
    return this.#socket.address().port;
  }

  stats(): UdpTransportStats {
    return { ...this.#stats };
  }

  send(addr: string, payload: Uint8Array, port?: number): void {
    if (this.#closed !== undefined) return;
    if (!isIPv4(addr)) {
      this.#stats.badDestinations++;
      return;
    }
    // No callback: with one, node queues a tick per datagram to report a send that already finished
    // (heartbeats go out 10 times a second per peer, and the idle daemon's CPU is mostly this path).
    this.#socket.send(payload, port ?? this.#peerPort, addr);
  }

  onMessage(handler: (payload: Uint8Array, from: string) => void): void {
    this.#handler = handler;
  }

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => this.#socket.close(() => resolve()));
    return this.#closed;
  }
}

/**
 * Destinations and the bind address are IPv4 literals (checked before use), so they are answered at
 * once: node's default, dns.lookup, answers a literal a tick later, once per datagram sent.
 */
function literalLookup(
  address: string,
  _options: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, address, 4);
}
