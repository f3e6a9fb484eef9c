import type { AdminServer } from "../api/server.ts";
import type { StatusSnapshot } from "../api/status-types.ts";
import type { Clock } from "../clock/clock.ts";
import type { EventLog } from "../observability/event-log.ts";
import type { Logger } from "../observability/logger.ts";
import { ClusterMetrics } from "../observability/metrics.ts";

/** The parts of the daemon the metrics read; a Daemon fits. */
export interface MetricsSource {
  api: AdminServer;
  events: EventLog;
  status(): StatusSnapshot;
  options: { clock: Clock; logger: Logger };
}

/**
 * GET /metrics in the Prometheus text format, on the local socket and on the TLS admin port.
 *
 * Public (no token) so that Prometheus scrapes it without holding cluster credentials: it is read-only
 * and carries no secrets, only node and resource names, counters and timings (never addresses of the
 * cloud, OCIDs, tokens, passwords or the cluster key). Anyone who can reach the admin port learns the
 * cluster's shape from it (node and resource names, who runs what); firewall 2224/tcp accordingly.
 */
export function registerMetricsRoutes(daemon: MetricsSource): ClusterMetrics {
  const metrics = new ClusterMetrics({
    events: daemon.events,
    collect: () => daemon.status(),
    now: () => daemon.options.clock.now(),
  });
  daemon.api.addStream({
    path: "/metrics",
    scope: "public",
    open: (_url, res) => {
      void metrics.text().then(
        (body) => {
          res.writeHead(200, {
            "content-type": metrics.contentType,
            "content-length": Buffer.byteLength(body),
            "cache-control": "no-store",
          });
          res.end(body);
        },
        (error: unknown) => {
          daemon.options.logger.error({ err: error }, "metrics scrape failed");
          res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
          res.end("FLOATIP_E_METRICS: the metrics could not be collected; see the daemon log\n");
        },
      );
    },
  });
  return metrics;
}
