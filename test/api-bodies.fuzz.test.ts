import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { request } from "node:http";
import { request as httpsRequest } from "node:https";
import { after, before, test } from "node:test";
import fc from "fast-check";
import type { z } from "zod";
import { registerAdminRoutes } from "../src/daemon/admin-routes.ts";
import { registerFenceRoutes } from "../src/daemon/fence-routes.ts";
import type { Daemon } from "../src/daemon/daemon.ts";
import { encodePacket, packetKey } from "../src/membership/packet.ts";
import { LoopbackDaemon } from "../tools/testbed/loopback-daemon.ts";

/*
 * Fuzzing of the admin API of a real daemon (the built one, on loopback, as test/admin-api.test.ts runs
 * it): random, malformed, wrong-type, oversized bodies and wrong content types to every route the daemon
 * registers. Every answer must be a JSON success or a 4xx JSON error with a code and a message, never a
 * 500 and never a dead daemon. The same daemon also gets hostile heartbeat datagrams on its UDP port and
 * must count them in /metrics. FLOATIP_FUZZ_SEED replays a run.
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);
const params = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

interface RouteInfo {
  method: string;
  path: string;
  schema: z.ZodType;
}

/**
 * The routes the daemon registers, read by running registerAdminRoutes against a stand-in that only
 * records api.add (every other daemon member is an inert proxy, as registration does not call them).
 * New routes are fuzzed without editing this file.
 */
function daemonRoutes(): RouteInfo[] {
  const routes: RouteInfo[] = [];
  const api = {
    add: (r: RouteInfo) => routes.push({ method: r.method, path: r.path, schema: r.schema }),
    addStream: () => undefined,
  };
  const inert: ProxyHandler<() => void> = {
    get: (_t, p) => (p === Symbol.toPrimitive ? () => 0 : new Proxy(() => undefined, inert)),
    apply: () => new Proxy(() => undefined, inert),
  };
  const daemon = new Proxy(() => undefined, {
    get: (_t, p) => (p === "api" ? api : new Proxy(() => undefined, inert)),
  });
  // As `floatip daemon` does (src/cli/daemon-command.ts).
  registerAdminRoutes(daemon as unknown as Daemon);
  registerFenceRoutes(daemon as unknown as Daemon);
  return routes;
}

/**
 * Calls that reach other hosts when their body is valid (they contact or resolve the nodes named in it)
 * or replace the cluster wholesale: only bodies their schema refuses are sent there, so the fuzzer never
 * sends traffic off this machine.
 */
const OUTBOUND = new Set(["/v1/cluster/auth", "/v1/cluster/setup", "/remote/setup"]);
/**
 * Fence devices run commands (fence_exec) and power nodes off: a random but valid device followed by a
 * valid fence request must never happen on a test host, so these routes also get only refused bodies.
 */
const onlyRefused = (path: string) => OUTBOUND.has(path) || /stonith|fence|quorum\/device|alert/.test(path);

interface Answer {
  status: number;
  text: string;
}

let daemon: LoopbackDaemon | undefined;

function call(method: string, path: string, body: Buffer | string, headers: Record<string, string> = {}) {
  const socketPath = daemon?.socket;
  assert.ok(socketPath, "daemon started");
  return new Promise<Answer>((resolve, reject) => {
    const all =
      "transfer-encoding" in headers
        ? headers
        : { "content-length": String(Buffer.byteLength(body)), ...headers };
    const req = request({ socketPath, method, path, headers: all, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} did not answer within 15 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

const post = (path: string, body: Buffer | string, type = "application/json") =>
  call("POST", path, body, { "content-type": type, "content-length": String(Buffer.byteLength(body)) });

/** A JSON success, or a 4xx JSON error with a FLOATIP_E_ code and a message; never a 500. */
function assertClean(answer: Answer, what: string): { code?: string } {
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    assert.fail(`${what}: HTTP ${answer.status} with a body that is not JSON: ${answer.text.slice(0, 200)}`);
  }
  if (answer.status === 200) return {};
  assert.ok(answer.status >= 400 && answer.status < 500, `${what}: HTTP ${answer.status} ${answer.text}`);
  const error = (json as { error?: { code?: unknown; message?: unknown } }).error;
  assert.match(String(error?.code), /^FLOATIP_E_[A-Z0-9_]+$/, `${what}: ${answer.text}`);
  assert.ok(typeof error?.message === "string" && error.message.length > 0, `${what}: no message`);
  return { code: String(error?.code) };
}

/**
 * Bodies that can neither name another host nor a program: no dots or colons in any string, and no
 * host, url, address, command or path field (a single-label host name is still a DNS query, and an
 * agent, alert or check runs what its path or command names).
 */
function staysLocal(value: unknown): boolean {
  if (typeof value === "string") return value === "127.0.0.1" || !/[.:]/.test(value);
  if (Array.isArray(value)) return value.every(staysLocal);
  if (value !== null && typeof value === "object")
    return Object.entries(value).every(
      ([k, v]) => !/host|url|addr|ip|command|path|exec|cmd/i.test(k) && staysLocal(k) && staysLocal(v),
    );
  return true;
}

const plausible = fc.oneof(
  fc.constantFrom("vip", "node1", "node2", "g", "", "INFINITY", "-INFINITY", "10s", "true", "a".repeat(300)),
  fc.constantFrom("ocf:heartbeat:IPaddr2", "floatip:check:tcp", "127.0.0.1", "stop", "monitor", "Started"),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);

interface ZodDef {
  type?: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, unknown>;
  values?: unknown[];
  valueType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  in?: z.ZodType;
}

const defOf = (schema: z.ZodType): ZodDef => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;

/**
 * Values of the schema's own types (strings for strings, members of an enum, ...), so most bodies pass the
 * schema and the handler's own checks answer; without it the fuzzer reached a handler only a few times
 * per run and its coverage check failed by chance.
 */
function typed(schema: z.ZodType, depth = 0): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  const inner = (t: z.ZodType | undefined) => (t === undefined ? plausible : typed(t, depth + 1));
  if (depth > 4) return plausible;
  switch (def.type) {
    case "string":
      return fc.oneof(
        fc.constantFrom(
          "vip",
          "node1",
          "node2",
          "g",
          "INFINITY",
          "10s",
          "true",
          "monitor",
          "ocf:heartbeat:IPaddr2",
        ),
        fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/),
      );
    case "number":
    case "int":
      return fc.oneof(fc.constantFrom(0, 1, 2, 100), fc.integer({ min: -5, max: 100_000 }));
    case "boolean":
      return fc.boolean();
    case "enum":
      return fc.constantFrom(...Object.values(def.entries ?? { a: "a" }));
    case "literal":
      return fc.constantFrom(...(def.values ?? [null]));
    case "optional":
    case "nullable":
    case "default":
    case "readonly":
    case "catch":
      return fc.option(inner(def.innerType), { nil: undefined }).map((v) => v ?? null);
    case "pipe":
      return inner(def.in);
    case "array":
      return fc.array(inner(def.element), { maxLength: 3 });
    case "union":
      return def.options && def.options.length > 0
        ? fc.oneof(...def.options.map((o) => inner(o)))
        : plausible;
    case "record":
      return fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/), inner(def.valueType), { maxKeys: 3 });
    case "object":
      return fc.record(Object.fromEntries(Object.entries(def.shape ?? {}).map(([k, v]) => [k, inner(v)])), {
        requiredKeys: Object.entries(def.shape ?? {})
          .filter(([, v]) => !isOptional(v))
          .map(([k]) => k),
      });
    default:
      return plausible;
  }
}

const isOptional = (schema: z.ZodType): boolean => ["optional", "default"].includes(defOf(schema).type ?? "");

/** Objects with the route's own field names (so the schema's inner checks and the handler are reached). */
function shaped(schema: z.ZodType): fc.Arbitrary<unknown> {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  const keys = shape ? Object.keys(shape) : [];
  if (keys.length === 0) return fc.jsonValue({ maxDepth: 3 });
  return fc
    .tuple(
      fc.subarray(keys),
      fc.array(plausible, { minLength: keys.length, maxLength: keys.length }),
      fc.dictionary(fc.string({ maxLength: 8 }), plausible, { maxKeys: 2 }),
    )
    .map(([present, values, extra]) => ({
      ...extra,
      ...Object.fromEntries(present.map((k) => [k, values[keys.indexOf(k)]])),
    }));
}

before(async () => {
  daemon = await LoopbackDaemon.start({ name: "api-fuzz" });
});

after(() => daemon?.stop());

void test("hostile heartbeat datagrams on the daemon's UDP port are counted in /metrics and the daemon stays up", async () => {
  assert.ok(daemon);
  const metric = async () => {
    const answer = await call("GET", "/metrics", "");
    assert.equal(answer.status, 200);
    return [
      ...answer.text.matchAll(/^floatip_heartbeat_packets_rejected_total\{reason="(\w+)"\} (\d+)$/gm),
    ].reduce((sum, m) => sum + Number(m[2]), 0);
  };
  const before = await metric();
  const socket = createSocket("udp4");
  const port = daemon.adminPort + 1;
  const key = packetKey(Buffer.alloc(32, 7), "api-fuzz");
  const datagrams = fc.sample(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.constant(new Uint8Array(65_507)),
      // Signed with the real key but from a node that is not configured, and with a broken echo block.
      fc
        .integer({ min: 2, max: 0xffff })
        .map((sender) => encodePacket(key, { sender, incarnation: 1n, seq: 1n, payload: new Uint8Array(3) })),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((k) =>
        encodePacket(packetKey(k, "api-fuzz"), {
          sender: 2,
          incarnation: 1n,
          seq: 1n,
          payload: new Uint8Array(),
        }),
      ),
    ),
    seed === undefined ? 40 : { numRuns: 40, seed },
  );
  try {
    for (const bytes of datagrams) {
      await new Promise<void>((resolve, reject) =>
        socket.send(bytes, port, "127.0.0.1", (err) => (err ? reject(err) : resolve())),
      );
      // Paced, so a burst of 64 KiB datagrams cannot overflow the socket buffer (a UDP drop, not a bug).
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    socket.close();
  }
  const deadline = Date.now() + 5_000;
  let now = await metric();
  while (now < before + datagrams.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    now = await metric();
  }
  assert.equal(now - before, datagrams.length, "every datagram was counted as one rejection");
  assert.equal((await call("GET", "/v1/status", "")).status, 200);
});

void test("fuzz: non-JSON, random JSON and wrong-type bodies to every route get a 4xx JSON error or a clean success, never a 500", async () => {
  const routes = daemonRoutes();
  assert.ok(routes.length >= 40, `only ${routes.length} routes found`);
  for (const must of ["/v1/resource/create", "/v1/constraint/location", "/v1/alert/create", "/remote/auth"])
    assert.ok(
      routes.some((r) => r.path === must),
      `route ${must} not found`,
    );
  const codes = new Map<string, number>();
  // Stopping the cluster last: after it, most calls only answer FLOATIP_E_NOT_RUNNING.
  const stopsLast = [...routes].sort(
    (a, b) => Number(a.path.includes("stop")) - Number(b.path.includes("stop")),
  );
  for (const route of stopsLast) {
    const body = fc
      .oneof(
        { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => ({ raw: `{${s}` })) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => ({ raw: Buffer.from(b) })) },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ raw: JSON.stringify(v) })) },
        { weight: 4, arbitrary: shaped(route.schema).map((v) => ({ raw: JSON.stringify(v) })) },
        { weight: 4, arbitrary: typed(route.schema).map((v) => ({ raw: JSON.stringify(v) })) },
      )
      .filter(({ raw }) => {
        if (typeof raw !== "string") return true;
        let value: unknown;
        try {
          value = JSON.parse(raw);
        } catch {
          return true;
        }
        if (!staysLocal(value)) return false;
        return !onlyRefused(route.path) || !route.schema.safeParse(value).success;
      });
    await fc.assert(
      fc.asyncProperty(body, async ({ raw }) => {
        const answer =
          route.method === "GET" ? await call("GET", route.path, raw) : await post(route.path, raw);
        const { code } = assertClean(answer, `${route.method} ${route.path} ${String(raw).slice(0, 200)}`);
        if (code !== undefined) codes.set(code, (codes.get(code) ?? 0) + 1);
      }),
      params(route.method === "GET" ? 3 : 12),
    );
  }
  // The fuzzer reached past the JSON parser into the schemas and the handlers.
  assert.ok((codes.get("FLOATIP_E_API_BAD_JSON") ?? 0) > 0, JSON.stringify([...codes]));
  assert.ok((codes.get("FLOATIP_E_API_BAD_REQUEST") ?? 0) > 0, JSON.stringify([...codes]));
  assert.ok(codes.size > 6, `only ${[...codes.keys()].join(", ")}`);
  assert.equal((await call("GET", "/v1/status", "")).status, 200, "the daemon is still up");
});

void test("fuzz: a body declared as anything but JSON is refused with 415 on every POST route", async () => {
  const routes = daemonRoutes().filter((r) => r.method === "POST");
  const type = fc.oneof(
    fc.constantFrom(
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonx",
      "application/xml",
      "",
    ),
    fc.stringMatching(/^[a-z]{1,8}\/[a-z.+-]{1,12}$/).filter((t) => !/^application\/json$/i.test(t)),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...routes), type, async (route, contentType) => {
      const answer = await post(route.path, "{}", contentType);
      assert.equal(answer.status, 415, `${route.path} with ${contentType}: ${answer.text}`);
      assert.equal(assertClean(answer, route.path).code, "FLOATIP_E_API_CONTENT_TYPE");
    }),
    params(30),
  );
  // Parameters on the JSON type are fine.
  assertClean(await post("/v1/resource/cleanup", "{}", "application/json; charset=utf-8"), "charset");
  assert.notEqual((await post("/v1/resource/cleanup", "{}", "Application/JSON")).status, 415);
});

void test("a body over 1 MiB is refused with a 413 JSON error, declared or streamed, and the daemon stays up", async () => {
  const big = Buffer.alloc(1024 * 1024 + 1, 0x20);
  const declared = await post("/v1/resource/create", big);
  assert.equal(declared.status, 413, declared.text);
  assert.equal(assertClean(declared, "declared").code, "FLOATIP_E_API_TOO_LARGE");
  // Chunked, with no length to check up front: the limit is counted while reading.
  const streamed = await call("POST", "/v1/resource/create", Buffer.alloc(3 * 1024 * 1024, 0x20), {
    "content-type": "application/json",
    "transfer-encoding": "chunked",
  });
  assert.equal(streamed.status, 413, streamed.text);
  assert.equal(assertClean(streamed, "streamed").code, "FLOATIP_E_API_TOO_LARGE");
  // Exactly at the limit is still read (and is then just bad JSON).
  const atLimit = await post("/v1/resource/create", Buffer.alloc(1024 * 1024, 0x20));
  assert.equal(assertClean(atLimit, "at limit").code, "FLOATIP_E_API_BAD_JSON");
  assert.equal((await call("GET", "/v1/status", "")).status, 200);
});

void test("fuzz: unknown paths and methods get a 404 JSON error", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
      // The event stream never ends by design; `/a/../v1/events/stream` is the same path once normalised.
      fc
        .webPath()
        .filter(
          (p) =>
            !new URL(`http://x${p.startsWith("/") ? "" : "/"}${p}`).pathname.startsWith("/v1/events/stream"),
        ),
      async (method, path) => {
        const answer = await call(method, path.startsWith("/") ? path : `/${path}`, "");
        if (answer.status === 200 || answer.status === 415) return;
        assertClean(answer, `${method} ${path}`);
      },
    ),
    params(40),
  );
});

void test("fuzz: over TLS without a token, random bodies to every route get 401/403 or a 4xx JSON error, never a 500", async () => {
  const port = daemon?.adminPort;
  assert.ok(port);
  const routes = daemonRoutes().filter((r) => r.method === "POST");
  const tls = (path: string, body: string) =>
    new Promise<Answer>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path,
          rejectUnauthorized: false,
          timeout: 15_000,
          headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
          );
        },
      );
      req.on("timeout", () => req.destroy(new Error(`POST ${path} did not answer within 15 s`)));
      req.on("error", reject);
      req.end(body);
    });
  const seen = new Set<number>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...routes),
      fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      ),
      async (route, body) => {
        const answer = await tls(route.path, body);
        assert.notEqual(answer.status, 200, `${route.path} answered an unauthenticated call: ${answer.text}`);
        assertClean(answer, `TLS ${route.path} ${body.slice(0, 100)}`);
        seen.add(answer.status);
      },
    ),
    params(25),
  );
  assert.ok(seen.has(401) || seen.has(403), [...seen].join(","));
});
