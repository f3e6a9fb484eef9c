import { z } from "zod";
import type { ClusterEvent, ClusterEventType } from "../observability/event-log.ts";
import type { Daemon } from "./daemon.ts";

const EVENT_TYPES = [
  "membership",
  "decision",
  "action",
  "resource",
  "cloud-call",
  "failover",
  "config",
  "quorum",
  "fencing",
] as const;
const typesSchema = z.array(z.enum(EVENT_TYPES)).optional();

/** `floatip events`: the recent events as a list, or a live stream of server-sent events. */
export function registerEventRoutes(daemon: Daemon): void {
  daemon.api.add({
    method: "POST",
    path: "/v1/events",
    scope: "remote",
    schema: z.object({ since: z.number().int().min(0).default(0), types: typesSchema }),
    handle: async ({ since, types }) => ({ events: daemon.events.since(since, types) }),
  });
  daemon.api.addStream({
    path: "/v1/events/stream",
    scope: "remote",
    open: (url, res) => {
      const since = Math.max(0, Number(url.searchParams.get("since") ?? "0") || 0);
      const wanted = (url.searchParams.get("types") ?? "")
        .split(",")
        .filter((t): t is ClusterEventType => (EVENT_TYPES as readonly string[]).includes(t));
      const types = wanted.length > 0 ? wanted : undefined;
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      const send = (e: ClusterEvent): void => {
        if (types === undefined || types.includes(e.type))
          res.write(`id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`);
      };
      for (const e of daemon.events.since(since)) send(e);
      daemon.events.on("event", send);
      // A comment now and then keeps proxies and idle timers from closing a quiet stream.
      const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
      res.on("close", () => {
        clearInterval(keepAlive);
        daemon.events.off("event", send);
      });
    },
  });
}
