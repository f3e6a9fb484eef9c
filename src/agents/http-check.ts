import http from "node:http";
import https from "node:https";
import type { AgentResult } from "./agent.ts";
import { HealthCheckAgent } from "./health-check-agent.ts";
import { parseDuration } from "../config/duration.ts";

/**
 * Health check of an HTTP(S) service: "running" between start and stop as long as one GET answers with an
 * expected status within the timeout. In a group with a VIP, a failing check fails the group here and the
 * cluster moves it to a node whose service answers.
 *
 * Requests go through node:http/https, not fetch: fetch silently drops a Host header, and host_header is
 * how a check reaches a name-based virtual host on 127.0.0.1.
 */

export const HTTP_CHECK_TYPE = "floatip:check:http";

const DEFAULT_TIMEOUT_MS = 5000;
/** Longer than any sane operation timeout; a check that needs more is not a health check. */
const MAX_TIMEOUT_MS = 10 * 60_000;

/** An inclusive range of HTTP status codes; a single code is a range of one. */
export interface StatusRange {
  from: number;
  to: number;
}

export interface HttpCheckParams {
  url: URL;
  expect: StatusRange[];
  timeoutMs: number;
  hostHeader?: string;
}

// A host, optionally with a port: a DNS name, an IPv4 address or a bracketed IPv6 address.
const hostHeaderPattern = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]{1,253})(:\d{1,5})?$/;

/** "200", "200-399" or a comma-separated list of both ("200,204,300-399"); undefined when malformed. */
export function parseStatusRanges(text: string): StatusRange[] | undefined {
  const ranges: StatusRange[] = [];
  for (const item of text.split(",")) {
    const match = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(item);
    if (match === null) return undefined;
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (from < 100 || to > 599 || from > to) return undefined;
    ranges.push({ from, to });
  }
  return ranges;
}

export function formatStatusRanges(ranges: readonly StatusRange[]): string {
  return ranges.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(",");
}

/**
 * Parses a check's `timeout` parameter (default when absent or empty). Returns a problem message instead
 * of throwing, so validators never throw.
 */
export function parseCheckTimeout(
  text: string | undefined,
  fallbackMs: number,
): { ms: number } | { problem: string } {
  if (text === undefined || text.trim() === "") return { ms: fallbackMs };
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    return { problem: `timeout=${text} is not a duration; use e.g. timeout=5s or timeout=500ms` };
  }
  if (ms < 1 || ms > MAX_TIMEOUT_MS) {
    return { problem: `timeout=${text} must be between 1ms and 10min; use e.g. timeout=5s` };
  }
  return { ms };
}

function parseUrl(text: string | undefined): { url: URL } | { problem: string } {
  if (text === undefined || text.trim() === "") {
    return { problem: "url is required; set url=http://127.0.0.1:8080/health (http or https)" };
  }
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { problem: `url=${text} is not a URL; use e.g. url=http://127.0.0.1:8080/health` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { problem: `url=${redact(url)} uses ${url.protocol}; only http: and https: are checked` };
  }
  return { url };
}

/** The parsed parameters, or one message per bad parameter. */
export function parseHttpCheckParams(
  params: Readonly<Record<string, string>>,
): { params: HttpCheckParams } | { problems: string[] } {
  const problems: string[] = [];
  const url = parseUrl(params.url);
  if ("problem" in url) problems.push(url.problem);
  const expectText = params.expect_status;
  const expect =
    expectText === undefined || expectText.trim() === ""
      ? [{ from: 200, to: 200 }]
      : parseStatusRanges(expectText);
  if (expect === undefined) {
    problems.push(
      `expect_status=${expectText ?? ""} is not a status code or range between 100 and 599; use e.g. expect_status=200 or expect_status=200-399`,
    );
  }
  const timeout = parseCheckTimeout(params.timeout, DEFAULT_TIMEOUT_MS);
  if ("problem" in timeout) problems.push(timeout.problem);
  const hostHeader = params.host_header;
  if (hostHeader !== undefined && hostHeader !== "" && !hostHeaderPattern.test(hostHeader)) {
    problems.push(
      `host_header=${hostHeader} is not a host name with an optional port; use e.g. host_header=www.example.com`,
    );
  }
  if (problems.length > 0 || "problem" in url || expect === undefined || "problem" in timeout) {
    return { problems };
  }
  return {
    params: {
      url: url.url,
      expect,
      timeoutMs: timeout.ms,
      ...(hostHeader !== undefined && hostHeader !== "" ? { hostHeader } : {}),
    },
  };
}

export function validateHttpCheckParams(params: Readonly<Record<string, string>>): string[] {
  const parsed = parseHttpCheckParams(params);
  return "problems" in parsed ? parsed.problems : [];
}

/** The URL as shown to operators: credentials and query strings may hold secrets, so they are left out. */
function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

type Answer = { kind: "status"; status: number } | { kind: "error"; code: string; detail: string };

/** One GET; resolves with the status line's code as soon as the headers arrive, never reads the body. */
function requestStatus(check: HttpCheckParams, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve) => {
    const transport = check.url.protocol === "https:" ? https : http;
    const headers: Record<string, string> = { "user-agent": "floatip-http-check", connection: "close" };
    if (check.hostHeader !== undefined) headers.host = check.hostHeader;
    const request = transport.request(
      check.url,
      {
        method: "GET",
        headers,
        signal,
        agent: false,
        // The certificate must match the name the service is reached by, which host_header overrides.
        ...(check.hostHeader !== undefined && check.url.protocol === "https:"
          ? { servername: check.hostHeader.replace(/:\d+$/, "") }
          : {}),
      },
      (response) => {
        resolve({ kind: "status", status: response.statusCode ?? 0 });
        response.destroy();
      },
    );
    request.on("error", (error: NodeJS.ErrnoException) => {
      resolve({ kind: "error", code: error.code ?? error.name, detail: error.message });
    });
    request.end();
  });
}

/** One check of the service; the result a start or a monitor reports. */
export async function checkHttp(check: HttpCheckParams, signal: AbortSignal): Promise<AgentResult> {
  const what = `GET ${redact(check.url)}`;
  const answer = await requestStatus(check, AbortSignal.any([signal, AbortSignal.timeout(check.timeoutMs)]));
  if (answer.kind === "status") {
    if (check.expect.some((r) => answer.status >= r.from && answer.status <= r.to)) {
      return { state: "running", message: `${what} returned ${answer.status}` };
    }
    return {
      state: "failed",
      message: `FLOATIP_E_CHECK_STATUS: ${what} returned ${answer.status}, expected ${formatStatusRanges(check.expect)}; check the service on this node or fix expect_status=`,
    };
  }
  if (signal.aborted) {
    // The caller gave up (operation timeout or shutdown): no evidence about the service either way.
    return { state: "unknown", message: `${what} was cancelled before an answer arrived` };
  }
  if (answer.code === "ABORT_ERR") {
    return {
      state: "failed",
      message: `FLOATIP_E_CHECK_TIMEOUT: ${what} got no answer within ${check.timeoutMs} ms; check that the service is not hung, or raise timeout=`,
    };
  }
  return {
    state: "failed",
    message: `FLOATIP_E_CHECK_UNREACHABLE: ${what} failed (${answer.code}: ${answer.detail}); check that the service is running and listening`,
  };
}

export class HttpCheckAgent extends HealthCheckAgent<HttpCheckParams> {
  constructor() {
    super({ parse: parseHttpCheckParams, validate: validateHttpCheckParams, check: checkHttp });
  }
}
