import type { Clock } from "../clock/clock.ts";
import { parseEtcdEndpoints, type ClusterConfig } from "../config/schema.ts";
import type { EtcdCoordination } from "../coordinator/etcd-coordination.ts";
import type { EtcdMembers } from "../membership/etcd-members.ts";
import type { EtcdSession } from "../membership/etcd-session.ts";
import type { EventLog } from "../observability/event-log.ts";
import type { Logger } from "../observability/logger.ts";

export interface EtcdServices {
  session: EtcdSession;
  members: EtcdMembers;
  coordination: EtcdCoordination;
}

/** etcd's lease TTL is whole seconds, and etcd itself does not grant less than about 2 s by default. */
export function etcdLeaseTtlSeconds(config: ClusterConfig): number {
  return Math.max(2, Math.ceil(config.totem.tokenMs / 1000));
}

export function usesEtcd(config: ClusterConfig): boolean {
  return config.properties["coordination"] === "etcd";
}

/**
 * The etcd session, membership and coordination of a node (coordination=etcd); call session.start().
 * Loaded on demand: the etcd client (gRPC, protobuf) adds ~25 MB RSS to a daemon that heartbeats over UDP.
 */
export async function createEtcdServices(input: {
  config: ClusterConfig;
  self: { id: number; name: string };
  clock: Clock;
  logger: Logger;
  events: EventLog;
}): Promise<EtcdServices> {
  const { config, self, clock, logger, events } = input;
  const [{ EtcdSession }, { EtcdMembers }, { EtcdCoordination }] = await Promise.all([
    import("../membership/etcd-session.ts"),
    import("../membership/etcd-members.ts"),
    import("../coordinator/etcd-coordination.ts"),
  ]);
  const endpoints = parseEtcdEndpoints(config.properties["etcd-endpoints"] ?? "");
  const session = new EtcdSession({
    endpoints,
    cluster: config.name,
    node: self.name,
    ttlSeconds: etcdLeaseTtlSeconds(config),
    clock,
    logger: logger.child({ component: "etcd" }),
  });
  const members = new EtcdMembers({
    self,
    peers: config.nodes.map((n) => ({ id: n.id, name: n.name })),
    session,
    clock,
  });
  const coordination = new EtcdCoordination({
    session,
    selfName: self.name,
    endpoints,
    clock,
    logger: logger.child({ component: "etcd-coordination" }),
    events,
  });
  return { session, members, coordination };
}
