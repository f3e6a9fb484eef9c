import { EventEmitter } from "node:events";

/** What happened, for `floatip events`, the dashboard, metrics and alert agents. */
export type ClusterEventType =
  | "membership" // a node joined, left or restarted
  | "decision" // the coordinator asked for actions
  | "action" // this node ran start/stop (with the result and duration)
  | "resource" // a resource failed or was displaced here
  | "cloud-call" // one OCI API call (operation, status, latency, opc-request-id)
  | "failover" // a resource moved after a node loss or failure, with its phase durations
  | "fencing" // a fence requested, succeeded or failed (target, action, device, attempts)
  | "config" // a configuration change (epoch)
  | "quorum"; // quorum gained or lost, the witness vote granted or lost

export interface ClusterEvent {
  /** Grows by one per event on this node; `since` pages with it. */
  seq: number;
  /** Wall-clock time, ISO 8601. */
  at: string;
  node: string;
  type: ClusterEventType;
  /** One line for people. */
  summary: string;
  data: Record<string, unknown>;
}

export type NewClusterEvent = Pick<ClusterEvent, "type" | "summary" | "data">;

/**
 * The node's recent events in a ring buffer, with subscribers for live streams. Bounded, so a long-lived
 * daemon keeps the last `capacity` events and no more.
 */
export class EventLog extends EventEmitter<{ event: [ClusterEvent] }> {
  private readonly events: ClusterEvent[] = [];
  private seq = 0;

  constructor(private readonly options: { node: () => string; now: () => number; capacity?: number }) {
    super();
    this.setMaxListeners(100);
  }

  record(event: NewClusterEvent): ClusterEvent {
    this.seq += 1;
    const full: ClusterEvent = {
      seq: this.seq,
      at: new Date(this.options.now()).toISOString(),
      node: this.options.node(),
      ...event,
    };
    this.events.push(full);
    const capacity = this.options.capacity ?? 2000;
    if (this.events.length > capacity) this.events.splice(0, this.events.length - capacity);
    this.emit("event", full);
    return full;
  }

  /** Events after `seq` (all kept ones for 0), oldest first, optionally of some types only. */
  since(seq: number, types?: readonly ClusterEventType[]): ClusterEvent[] {
    return this.events.filter((e) => e.seq > seq && (types === undefined || types.includes(e.type)));
  }
}
