/**
 * A local copy of one cluster's keys in etcd, fed by a full read and then by watch events, and the pure
 * derivations the coordinator needs from it: the live members, the election leader and the VIP owners.
 *
 * Key layout under `/floatip/<cluster>/`:
 * - `members/<node>`: the node's report, under the node's lease (gone when the node stops renewing it);
 * - `election/dc/<lease id>`: a candidate for coordinator (DC), under the same lease, valued with the node
 *   name; the leader is the candidate with the lowest create revision. This is etcd's own election recipe
 *   (etcd's concurrency.Election, etcd3's Election) and the same layout, so
 *   `new Etcd3().namespace("/floatip/<cluster>/").election("dc").leader()` names the DC;
 * - `owner/<resource>`: the node the DC assigned the resource to, written only in a transaction that
 *   compares the DC's election key create revision, so a deposed DC cannot write.
 */

export interface MirrorEntry {
  value: Buffer;
  createRevision: bigint;
  modRevision: bigint;
  /** The lease id as etcd prints it (decimal), "0" without a lease. */
  lease: string;
}

export interface EtcdKeys {
  prefix: string;
  member(node: string): string;
  electionPrefix: string;
  election(leaseId: string): string;
  ownerPrefix: string;
  owner(resource: string): string;
}

export function etcdKeys(cluster: string): EtcdKeys {
  const prefix = `/floatip/${cluster}/`;
  return {
    prefix,
    member: (node) => `${prefix}members/${node}`,
    electionPrefix: `${prefix}election/dc/`,
    // Named after the lease as etcd3's Campaign names its key, so etcd3's Election reads the same leader.
    election: (leaseId) => `${prefix}election/dc/${leaseId}`,
    ownerPrefix: `${prefix}owner/`,
    owner: (resource) => `${prefix}owner/${resource}`,
  };
}

export interface KeyValue {
  key: string;
  value: Buffer;
  createRevision: bigint;
  modRevision: bigint;
  lease: string;
}

export class EtcdMirror {
  readonly entries = new Map<string, MirrorEntry>();
  /** The revision the last full read was taken at; watch events at or below it are already included. */
  private syncedAt = 0n;
  /** The highest revision seen, from reads or events. */
  revision = 0n;

  /** Replaces everything with a full read taken at `revision`; returns whether anything changed. */
  reset(kvs: readonly KeyValue[], revision: bigint): boolean {
    const before = this.fingerprint();
    this.entries.clear();
    for (const kv of kvs) this.entries.set(kv.key, entryOf(kv));
    this.syncedAt = revision;
    if (revision > this.revision) this.revision = revision;
    return this.fingerprint() !== before;
  }

  /** A watch put; ignored when a full read already covered it. Returns whether it applied. */
  put(kv: KeyValue): boolean {
    if (kv.modRevision <= this.syncedAt) return false;
    const existing = this.entries.get(kv.key);
    if (existing && existing.modRevision >= kv.modRevision) return false;
    this.entries.set(kv.key, entryOf(kv));
    if (kv.modRevision > this.revision) this.revision = kv.modRevision;
    return true;
  }

  /** A watch delete at `revision`; ignored when a full read already covered it. */
  delete(key: string, revision: bigint): boolean {
    if (revision <= this.syncedAt) return false;
    const existing = this.entries.get(key);
    if (!existing || existing.modRevision > revision) return false;
    this.entries.delete(key);
    if (revision > this.revision) this.revision = revision;
    return true;
  }

  private fingerprint(): string {
    return [...this.entries]
      .map(([k, e]) => `${k}@${e.modRevision}/${e.lease}`)
      .sort()
      .join("|");
  }
}

function entryOf(kv: KeyValue): MirrorEntry {
  return {
    value: kv.value,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    lease: kv.lease,
  };
}

export interface LiveMember {
  name: string;
  report: Buffer;
  /** The lease the key lives under: a restarted daemon takes a new one, so it is the incarnation. */
  lease: string;
  modRevision: bigint;
}

export function membersOf(mirror: EtcdMirror, keys: EtcdKeys): Map<string, LiveMember> {
  const out = new Map<string, LiveMember>();
  const prefix = `${keys.prefix}members/`;
  for (const [key, entry] of mirror.entries) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    out.set(name, { name, report: entry.value, lease: entry.lease, modRevision: entry.modRevision });
  }
  return out;
}

export interface Leader {
  name: string;
  key: string;
  createRevision: bigint;
}

/** The candidate with the lowest create revision, as in etcd's election recipe; null without candidates. */
export function leaderOf(mirror: EtcdMirror, keys: EtcdKeys): Leader | null {
  let best: Leader | null = null;
  for (const [key, entry] of mirror.entries) {
    if (!key.startsWith(keys.electionPrefix)) continue;
    if (best === null || entry.createRevision < best.createRevision) {
      best = { name: entry.value.toString("utf8"), key, createRevision: entry.createRevision };
    }
  }
  return best;
}

export interface Ownership {
  node: string;
  /** The key's mod revision: grows with every assignment, so it orders them cluster-wide. */
  revision: bigint;
}

export function ownersOf(mirror: EtcdMirror, keys: EtcdKeys): Map<string, Ownership> {
  const out = new Map<string, Ownership>();
  for (const [key, entry] of mirror.entries) {
    if (!key.startsWith(keys.ownerPrefix)) continue;
    out.set(key.slice(keys.ownerPrefix.length), {
      node: entry.value.toString("utf8"),
      revision: entry.modRevision,
    });
  }
  return out;
}
