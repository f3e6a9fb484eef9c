import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { startEmulator, loadSeedFile, type RunningEmulator } from "./emulator.ts";

/**
 * The emulator as a process, for test beds that run nodes in other network namespaces:
 *   node --import tsx tools/oci-emulator/main.ts --seed FILE --listen 169.254.169.254:80 --listen 127.0.0.1:0 \
 *     --control-socket PATH --latency-ms 300 \
 *     --tls-listen 192.0.2.10:443 --tls-cert server.pem --tls-key server.key
 * stdout: one line {"ready":true,"urls":[...]} once listening, then one JSON line per cloud change
 * ({"event":"privateIpAssigned",...}, "privateIpDeleted", "instanceAction"), so a parent can follow moves.
 */

const FOLLOWED_EVENTS = ["privateIpAssigned", "privateIpDeleted", "instanceAction"] as const;

function parseListen(
  value: string,
  previous: { host: string; port: number }[],
): { host: string; port: number }[] {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new InvalidArgumentError(`expected HOST:PORT (IPv6 as [::1]:PORT), got ${value}`);
  }
  return [...previous, { host, port }];
}

function parseNonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected a non-negative number, got ${value}`);
  return n;
}

function parseRateLimit(value: string): { perSecond: number; burst?: number } {
  const [perSecond, burst] = value.split("/").map(Number);
  if (perSecond === undefined || !(perSecond > 0) || (burst !== undefined && !(burst > 0))) {
    throw new InvalidArgumentError(`expected PER_SECOND or PER_SECOND/BURST, got ${value}`);
  }
  return burst === undefined ? { perSecond } : { perSecond, burst };
}

interface CliOptions {
  seed: string;
  listen: { host: string; port: number }[];
  tlsListen: { host: string; port: number }[];
  tlsCert?: string;
  tlsKey?: string;
  controlSocket?: string;
  latencyMs?: number;
  rateLimit?: { perSecond: number; burst?: number };
  tokenTtlSeconds?: number;
}

function writeLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name("oci-emulator")
    .description("Local OCI Core API, instance metadata v2 and federation endpoint for tests")
    .requiredOption("--seed <file>", "JSON seed: subnets, instances, private IPs (see seeds/two-ads.json)")
    .option("--listen <host:port>", "address to listen on (repeatable); default 127.0.0.1:0", parseListen, [])
    .option(
      "--tls-listen <host:port>",
      "also serve HTTPS here (repeatable), with --tls-cert and --tls-key: the region's endpoint names",
      parseListen,
      [],
    )
    .option("--tls-cert <file>", "PEM certificate (chain) for --tls-listen")
    .option("--tls-key <file>", "PEM private key for --tls-listen")
    .option("--control-socket <path>", "also serve everything, including /_emulator, on this unix socket")
    .option("--latency-ms <ms>", "latency added to every Core API call", parseNonNegative)
    .option(
      "--rate-limit <perSecond[/burst]>",
      "answer 429 TooManyRequests past this Core API rate",
      parseRateLimit,
    )
    .option("--token-ttl-seconds <s>", "lifetime of federation tokens", parseNonNegative)
    .parse(argv);
  const options = program.opts<CliOptions>();
  if (options.tlsListen.length > 0 && (options.tlsCert === undefined || options.tlsKey === undefined)) {
    throw new Error("--tls-listen needs --tls-cert and --tls-key");
  }
  const tls =
    options.tlsListen.length > 0
      ? {
          certPem: readFileSync(options.tlsCert ?? "", "utf8"),
          keyPem: readFileSync(options.tlsKey ?? "", "utf8"),
        }
      : undefined;
  const plain = options.listen.length > 0 || tls ? options.listen : [{ host: "127.0.0.1", port: 0 }];

  const emulator: RunningEmulator = await startEmulator({
    seed: await loadSeedFile(options.seed),
    listen: [...plain, ...options.tlsListen.map((target) => ({ ...target, ...(tls ? { tls } : {}) }))],
    ...(options.controlSocket === undefined ? {} : { controlSocket: options.controlSocket }),
    ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
    ...(options.tokenTtlSeconds === undefined ? {} : { tokenTtlSeconds: options.tokenTtlSeconds }),
  });
  for (const event of FOLLOWED_EVENTS) {
    emulator.events.on(event, (payload: object) => writeLine({ event, ...payload }));
  }
  writeLine({ ready: true, urls: emulator.urls });

  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`oci-emulator: close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`oci-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
