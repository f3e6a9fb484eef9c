import net from "node:net";
import type { AgentResult } from "./agent.ts";
import { HealthCheckAgent } from "./health-check-agent.ts";
import { parseCheckTimeout } from "./http-check.ts";

/**
 * Health check of a TCP service: "running" between start and stop as long as a connection to host:port is
 * accepted within the timeout. Nothing is sent; the connection is closed as soon as it is established.
 */

export const TCP_CHECK_TYPE = "floatip:check:tcp";

const DEFAULT_TIMEOUT_MS = 5000;

export interface TcpCheckParams {
  host: string;
  port: number;
  timeoutMs: number;
}

// A DNS name, an IPv4 address or an IPv6 address (without brackets, as net.connect takes it).
const hostPattern = /^(?:[A-Za-z0-9_.-]{1,253}|[0-9A-Fa-f:.]{2,45})$/;

export function parseTcpCheckParams(
  params: Readonly<Record<string, string>>,
): { params: TcpCheckParams } | { problems: string[] } {
  const problems: string[] = [];
  const host = params.host?.trim() ?? "";
  if (host === "") problems.push("host is required; set host=127.0.0.1 (a name or an IP address)");
  else if (!hostPattern.test(host)) {
    problems.push(`host=${host} is not a host name or IP address; use e.g. host=127.0.0.1`);
  }
  const portText = params.port?.trim() ?? "";
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (portText === "") problems.push("port is required; set port=<1-65535>, e.g. port=5432");
  else if (!(port >= 1 && port <= 65535)) {
    problems.push(`port=${params.port ?? ""} is not a port number between 1 and 65535; e.g. port=5432`);
  }
  const timeout = parseCheckTimeout(params.timeout, DEFAULT_TIMEOUT_MS);
  if ("problem" in timeout) problems.push(timeout.problem);
  if (problems.length > 0 || "problem" in timeout) return { problems };
  return { params: { host, port, timeoutMs: timeout.ms } };
}

export function validateTcpCheckParams(params: Readonly<Record<string, string>>): string[] {
  const parsed = parseTcpCheckParams(params);
  return "problems" in parsed ? parsed.problems : [];
}

type Outcome = { kind: "connected" } | { kind: "aborted" } | { kind: "error"; code: string; detail: string };

function connectOnce(check: TcpCheckParams, signal: AbortSignal): Promise<Outcome> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve({ kind: "aborted" });
      return;
    }
    const socket = net.connect({ host: check.host, port: check.port });
    const finish = (outcome: Outcome): void => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => finish({ kind: "aborted" });
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => finish({ kind: "connected" }));
    socket.once("error", (error: NodeJS.ErrnoException) =>
      finish({ kind: "error", code: error.code ?? error.name, detail: error.message }),
    );
  });
}

/** One connection attempt; the result a start or a monitor reports. */
export async function checkTcp(check: TcpCheckParams, signal: AbortSignal): Promise<AgentResult> {
  const where = net.isIPv6(check.host) ? `[${check.host}]:${check.port}` : `${check.host}:${check.port}`;
  const outcome = await connectOnce(check, AbortSignal.any([signal, AbortSignal.timeout(check.timeoutMs)]));
  if (outcome.kind === "connected") return { state: "running", message: `${where} accepts connections` };
  if (signal.aborted) {
    // The caller gave up (operation timeout or shutdown): no evidence about the service either way.
    return { state: "unknown", message: `connecting to ${where} was cancelled` };
  }
  if (outcome.kind === "aborted") {
    return {
      state: "failed",
      message: `FLOATIP_E_CHECK_TIMEOUT: ${where} did not accept a connection within ${check.timeoutMs} ms; check that the service is not hung and no firewall drops packets, or raise timeout=`,
    };
  }
  return {
    state: "failed",
    message: `FLOATIP_E_CHECK_UNREACHABLE: connecting to ${where} failed (${outcome.code}: ${outcome.detail}); check that the service is running and listening`,
  };
}

export class TcpCheckAgent extends HealthCheckAgent<TcpCheckParams> {
  constructor() {
    super({ parse: parseTcpCheckParams, validate: validateTcpCheckParams, check: checkTcp });
  }
}
