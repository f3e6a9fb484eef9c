import { pino, type Logger } from "pino";

export type { Logger };

/** Field names whose values must never reach a log line, wherever they appear in a logged object. */
const SECRET_PATHS = [
  "key",
  "*.key",
  "token",
  "*.token",
  "password",
  "*.password",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "privateKey",
  "*.privateKey",
];

export function createLogger(options: {
  name: string;
  level?: string;
  destination?: NodeJS.WritableStream;
}): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? process.env["FLOATIP_LOG_LEVEL"] ?? "info",
      redact: { paths: SECRET_PATHS, censor: "[redacted]" },
      base: { pid: process.pid },
    },
    options.destination ?? pino.destination(2),
  );
}

/** For unit tests and one-shot CLI commands that must not print log lines. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
