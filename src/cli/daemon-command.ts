import { mkdirSync } from "node:fs";
import { setPriority } from "node:os";
import { join } from "node:path";
import { systemClock } from "../clock/system-clock.ts";
import { registerAdminRoutes } from "../daemon/admin-routes.ts";
import { readVersion } from "../observability/version.ts";
import { IpAddressAgent } from "../agents/ip-address.ts";
import { LocalAgentFactory } from "../daemon/agent-registry.ts";
import { OciAgentProvider } from "../daemon/cloud.ts";
import { Daemon } from "../daemon/daemon.ts";
import { FencingProvider } from "../daemon/fence-provider.ts";
import { registerFenceRoutes } from "../daemon/fence-routes.ts";
import { createLogger } from "../observability/logger.ts";

export async function runDaemon(opts: {
  stateDir: string;
  socketPath: string;
  configPath: string | undefined;
  adminPort: number;
  adminHost: string;
  nodeName: string | undefined;
  leaveResourcesOnExit: boolean;
}): Promise<void> {
  const logger = createLogger({ name: "floatip" });
  raisePriority(logger);
  const rscTmpDir = `${opts.socketPath}.rsctmp`;
  mkdirSync(rscTmpDir, { recursive: true, mode: 0o700 });
  const localAddress = new IpAddressAgent();
  const oci = new OciAgentProvider({
    stateDir: opts.stateDir,
    clock: systemClock,
    logger,
    localAddress,
    env: process.env,
    onCall: (call) =>
      daemon.events.record({
        type: "cloud-call",
        summary: `${call.op} ${call.status ?? "no answer"} in ${call.latencyMs} ms${call.opcRequestId ? ` (opc-request-id ${call.opcRequestId})` : ""}`,
        data: { ...call },
      }),
  });
  const fencing = new FencingProvider({
    env: process.env,
    clock: systemClock,
    logger,
    sharedApi: () => oci.sharedApi(),
  });
  const daemon = new Daemon({
    stateDir: opts.stateDir,
    socketPath: opts.socketPath,
    configPath: opts.configPath ?? join(opts.stateDir, "cluster.json"),
    adminHost: opts.adminHost,
    adminPort: opts.adminPort,
    leaveResourcesOnExit: opts.leaveResourcesOnExit,
    ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
    logger,
    clock: systemClock,
    // Agents' run-time state beside the admin socket: on tmpfs (/run/floatip) in production, so it does
    // not survive a reboot, and separate per daemon when several share a host.
    agents: new LocalAgentFactory(localAddress, oci, rscTmpDir),
    fencing,
    version: readVersion(),
  });
  registerAdminRoutes(daemon);
  registerFenceRoutes(daemon);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    daemon
      .shutdown()
      .then(async () => {
        oci.close();
        fencing.close();
        await localAddress.close();
      })
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  try {
    await daemon.start();
  } catch (error) {
    logger.error({ err: error }, "daemon failed to start");
    process.stderr.write(`Error: ${(error as Error).message}\n`);
    process.exit(1);
  }
  logger.info({ socket: opts.socketPath, adminPort: opts.adminPort }, "floatip daemon ready");
}

/**
 * Heartbeats must go out on time even when the host is busy, or a loaded node looks dead (corosync
 * runs with a real-time priority for the same reason). Needs root; without it the daemon runs as is.
 */
function raisePriority(logger: ReturnType<typeof createLogger>): void {
  try {
    setPriority(0, -10);
  } catch (error) {
    logger.warn(
      { err: error },
      "cannot raise the daemon's scheduling priority; heartbeats may be late under load",
    );
  }
}
