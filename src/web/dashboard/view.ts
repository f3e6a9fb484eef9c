import type { StatusSnapshot } from "../../api/status-types.ts";
import type { ClusterEvent } from "../../observability/event-log.ts";

/**
 * What the page knows, built from the polled status and the event stream; no DOM here. Where the cloud
 * holds each VIP is derived from events, since the status says only where the cluster runs it.
 */

const MAX_EVENTS = 500;
export const VIP_TYPE = "ocf:heartbeat:IPaddr2";
// The SDK's operation names (updatePrivateIp); compared without case.
const MOVE_OPS = new Set(["updateprivateip", "createprivateip"]);

/** How the VIP got to its holder: the move's cloud call, or null when only the failover is known. */
export interface MoveCall {
  op: string;
  status: number;
  latencyMs: number;
  opcRequestId?: string;
}

export interface CloudHolder {
  node: string;
  at: string;
  how: MoveCall | null;
}

export interface View {
  lastSeq: number;
  startedAt: string | null;
  status: StatusSnapshot | null;
  events: ClusterEvent[];
  failovers: ClusterEvent[];
  cloudHolder: Map<string, CloudHolder>;
  /** A node's last successful move, waiting for the start it belongs to. */
  pendingMove: Map<string, ClusterEvent>;
  firstLoad: boolean;
  /** Events from this sequence number on arrived in the last poll (flashed); Infinity for none. */
  newSeqFrom: number;
}

export function freshView(): View {
  return {
    lastSeq: 0,
    startedAt: null,
    status: null,
    events: [],
    failovers: [],
    cloudHolder: new Map(),
    pendingMove: new Map(),
    firstLoad: true,
    newSeqFrom: Infinity,
  };
}

/** A field of an event's data as a string ("" when absent) or a number (0 when absent or not one). */
export function text(data: Record<string, unknown>, key: string): string {
  const value = data[key];
  return value === undefined || value === null ? "" : String(value);
}

export function num(data: Record<string, unknown>, key: string): number {
  const value = data[key];
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function isVip(view: View, resourceId: string): boolean {
  return view.status?.resources.some((r) => r.id === resourceId && r.type === VIP_TYPE) ?? false;
}

function moveCall(data: Record<string, unknown>): MoveCall {
  const id = data["opcRequestId"];
  return {
    op: text(data, "op"),
    status: num(data, "status"),
    latencyMs: num(data, "latencyMs"),
    ...(typeof id === "string" && id !== "" ? { opcRequestId: id } : {}),
  };
}

/** Takes the events of one poll, oldest first. */
export function ingest(view: View, events: readonly ClusterEvent[]): void {
  for (const e of events) {
    view.lastSeq = Math.max(view.lastSeq, e.seq);
    const d = e.data ?? {};
    const status = num(d, "status");
    if (
      e.type === "cloud-call" &&
      MOVE_OPS.has(text(d, "op").toLowerCase()) &&
      status >= 200 &&
      status < 300
    ) {
      view.pendingMove.set(e.node, e);
    } else if (
      e.type === "action" &&
      d["op"] === "start" &&
      d["state"] === "running" &&
      isVip(view, text(d, "resource"))
    ) {
      // Cloud calls carry no resource: a successful move on a node belongs to the next start that node reports.
      const move = view.pendingMove.get(e.node);
      if (move) {
        view.pendingMove.delete(e.node);
        view.cloudHolder.set(text(d, "resource"), { node: e.node, at: move.at, how: moveCall(move.data) });
      }
    } else if (e.type === "failover") {
      view.failovers.push(e);
      const resource = text(d, "resource");
      if (isVip(view, resource)) {
        const known = view.cloudHolder.get(resource);
        if (!known || known.at <= e.at)
          view.cloudHolder.set(resource, { node: text(d, "to"), at: e.at, how: null });
      }
    }
    view.events.push(e);
  }
  if (view.events.length > MAX_EVENTS) view.events.splice(0, view.events.length - MAX_EVENTS);
  view.newSeqFrom = view.firstLoad ? Infinity : (events[0]?.seq ?? Infinity);
  view.firstLoad = false;
}
