import { createHash, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../config/store.ts";

const passwdSchema = z.record(z.string(), z.object({ salt: z.string(), hash: z.string() }));
/** An issued token, kept only as its SHA-256, with its expiry (ms since 1970). */
const issuedSchema = z.array(z.object({ sha256: z.string(), expiresAt: z.number() }));

/** How long a token from `cluster auth` stays good; after that the node must be authorised again. */
export const TOKEN_LIFETIME_MS = 90 * 24 * 3600 * 1000;

export type TokenCheck = "valid" | "expired" | "unknown";
const knownHostsSchema = z.record(
  z.string(),
  z.object({
    addr: z.string(),
    port: z.number().int(),
    token: z.string(),
    fingerprint: z.string().optional(),
  }),
);

export type KnownHost = z.infer<typeof knownHostsSchema>[string];

const MAX_FAILURES = 5;
const LOCKOUT_MS = 60_000;

/**
 * Who may administer this node: the floatip password of the cluster admin user (scrypt, never plaintext),
 * the tokens this node handed out (kept as SHA-256 only) and the tokens it holds for other nodes.
 * Every file is written 0600.
 */
export class AuthStore {
  private failures: number[] = [];

  constructor(
    private readonly stateDir: string,
    private readonly now: () => number,
  ) {}

  setPassword(user: string, password: string): void {
    const all = this.readJson("passwd.json", passwdSchema, {});
    const salt = randomBytes(16);
    all[user] = { salt: salt.toString("base64"), hash: scryptSync(password, salt, 32).toString("base64") };
    this.writeJson("passwd.json", all);
  }

  hasPassword(user: string): boolean {
    return this.readJson("passwd.json", passwdSchema, {})[user] !== undefined;
  }

  /** Checks a password and returns a new token; throttled so guessing is slow. */
  login(user: string, password: string): { ok: true; token: string } | { ok: false; reason: string } {
    const now = this.now();
    this.failures = this.failures.filter((t) => now - t < LOCKOUT_MS);
    if (this.failures.length >= MAX_FAILURES) {
      return { ok: false, reason: "too many failed attempts; wait a minute and try again" };
    }
    const entry = this.readJson("passwd.json", passwdSchema, {})[user];
    // A hand-edited entry whose hash is not 32 bytes never matches (timingSafeEqual would throw on it).
    const stored = entry === undefined ? undefined : Buffer.from(entry.hash, "base64");
    const valid =
      entry !== undefined &&
      stored?.length === 32 &&
      timingSafeEqual(scryptSync(password, Buffer.from(entry.salt, "base64"), 32), stored);
    if (!valid) {
      this.failures.push(now);
      return {
        ok: false,
        reason:
          entry === undefined
            ? `no password is set for '${user}' on this node; run 'floatip passwd' there`
            : "username or password is wrong",
      };
    }
    const token = randomBytes(32).toString("base64url");
    const issued = this.readJson("tokens-issued.json", issuedSchema, []);
    issued.push({ sha256: sha256(token), expiresAt: now + TOKEN_LIFETIME_MS });
    this.writeJson("tokens-issued.json", issued.filter((t) => t.expiresAt > now).slice(-256));
    return { ok: true, token };
  }

  verifyToken(token: string): TokenCheck {
    if (token.length === 0) return "unknown";
    const digest = Buffer.from(sha256(token), "hex");
    const match = this.readJson("tokens-issued.json", issuedSchema, []).find((t) => {
      const stored = Buffer.from(t.sha256, "hex");
      return stored.length === digest.length && timingSafeEqual(stored, digest);
    });
    if (match === undefined) return "unknown";
    return match.expiresAt > this.now() ? "valid" : "expired";
  }

  rememberHost(name: string, host: KnownHost): void {
    const all = this.readJson("known-hosts.json", knownHostsSchema, {});
    all[name] = host;
    this.writeJson("known-hosts.json", all);
  }

  knownHost(name: string): KnownHost | undefined {
    return this.readJson("known-hosts.json", knownHostsSchema, {})[name];
  }

  private readJson<T>(file: string, schema: z.ZodType<T>, fallback: T): T {
    const path = join(this.stateDir, file);
    if (!existsSync(path)) return fallback;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, "utf8"));
    } catch {
      // A damaged file counts as no file, like one that fails the schema: no password, no tokens (fail closed),
      // instead of an exception on every admin call that checks a token.
      return fallback;
    }
    const parsed = schema.safeParse(json);
    return parsed.success ? parsed.data : fallback;
  }

  private writeJson(file: string, value: unknown): void {
    writeFileAtomic(join(this.stateDir, file), `${JSON.stringify(value, null, 2)}\n`, {
      mode: 0o600,
      overwrite: true,
    });
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
