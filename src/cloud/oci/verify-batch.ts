import { abortReason } from "../../clock/clock.ts";
import type { OciApi, PrivateIpInfo, Versioned } from "./oci-api.ts";

interface Reader {
  privateIpId: string;
  signal: AbortSignal | undefined;
  resolve: (seen: Versioned<PrivateIpInfo> | undefined) => void;
  reject: (error: unknown) => void;
}

interface VnicQueue {
  /** A read of this VNIC is on its way: readers arriving now wait for the next one. */
  busy: boolean;
  waiting: Reader[];
}

/**
 * Read-backs of private IPs on one VNIC, coalesced. When hundreds of VIPs move to this node at once, reading
 * each back with GetPrivateIp doubles the Core calls of the failover, which the API's rate limit turns into
 * seconds; one ListPrivateIps(vnicId) answers for all of them (vnicId and freeform tags: VNIC, epoch, holder).
 *
 * There is no batching window: a read starts at once when none is on its way for the VNIC, and a lone read
 * is the same GetPrivateIp as before (with its ETag). Readers arriving while one is on its way share the
 * next read, sent as soon as it returns: a read sent before a reader asked could predate its write.
 */
export class VnicReadBatcher {
  readonly #vnics = new Map<string, VnicQueue>();

  constructor(private readonly api: OciApi) {}

  /**
   * The private IP as a read sent after this call shows it: with its ETag when read alone (GetPrivateIp,
   * wherever it is), without one when listed with others on `vnicId` (ListPrivateIps has no ETags).
   * Undefined: listed with others and not on `vnicId`.
   */
  read(
    vnicId: string,
    privateIpId: string,
    signal?: AbortSignal,
  ): Promise<Versioned<PrivateIpInfo> | undefined> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    let queue = this.#vnics.get(vnicId);
    if (!queue) {
      queue = { busy: false, waiting: [] };
      this.#vnics.set(vnicId, queue);
    }
    const q = queue;
    return new Promise((resolve, reject) => {
      // A reader that gives up is answered at once; the shared read goes on for the others.
      const onAbort = (): void => reject(abortReason(signal!));
      signal?.addEventListener("abort", onAbort, { once: true });
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T): void => {
          signal?.removeEventListener("abort", onAbort);
          fn(value);
        };
      q.waiting.push({ privateIpId, signal, resolve: settle(resolve), reject: settle(reject) });
      if (!q.busy) void this.#send(vnicId, q);
    });
  }

  async #send(vnicId: string, queue: VnicQueue): Promise<void> {
    const readers = queue.waiting.splice(0).filter((r) => !r.signal?.aborted);
    if (readers.length === 0) {
      if (queue.waiting.length === 0) this.#vnics.delete(vnicId);
      return;
    }
    queue.busy = true;
    // The shared call is cancelled only when every reader waiting for it has given up.
    const shared = new AbortController();
    const onAbort = (): void => {
      if (readers.every((r) => r.signal?.aborted)) shared.abort(abortReason(readers[0]!.signal!));
    };
    for (const r of readers) r.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (readers.length === 1) {
        const only = readers[0]!;
        only.resolve(await this.api.getPrivateIp(only.privateIpId, { signal: shared.signal }));
      } else {
        const listed = await this.api.listPrivateIps({ vnicId }, { signal: shared.signal });
        const byId = new Map(listed.map((item) => [item.id, item]));
        for (const r of readers) {
          const item = byId.get(r.privateIpId);
          r.resolve(item === undefined ? undefined : { value: item, etag: undefined });
        }
      }
    } catch (error) {
      for (const r of readers) r.reject(r.signal?.aborted ? abortReason(r.signal) : error);
    } finally {
      for (const r of readers) r.signal?.removeEventListener("abort", onAbort);
      queue.busy = false;
      if (queue.waiting.length > 0) void this.#send(vnicId, queue);
      else this.#vnics.delete(vnicId);
    }
  }
}
