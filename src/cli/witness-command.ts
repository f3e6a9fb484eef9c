import { systemClock } from "../clock/system-clock.ts";
import { WitnessDaemon } from "../daemon/witness-daemon.ts";
import { createLogger } from "../observability/logger.ts";
import { readVersion } from "../observability/version.ts";

/** `floatip witness`: runs until SIGTERM/SIGINT. */
export async function runWitness(opts: {
  stateDir: string;
  socketPath: string;
  address: string;
  port: number;
  adminHost: string;
  adminPort: number;
}): Promise<void> {
  const logger = createLogger({ name: "floatip-witness" });
  const witness = new WitnessDaemon({ ...opts, logger, clock: systemClock, version: readVersion() });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "witness shutting down");
    witness.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  try {
    await witness.start();
  } catch (error) {
    logger.error({ err: error }, "witness failed to start");
    process.stderr.write(`Error: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
