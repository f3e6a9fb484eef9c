import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { AuthStore } from "./auth-store.ts";

/*
 * The admin credentials files (passwd.json, tokens-issued.json, known-hosts.json) are read on every
 * authenticated admin call. Whatever a disk fault or a hand edit leaves in them, the checks must answer
 * (fail closed), never throw: an exception there is a 500 on every call over TLS. FLOATIP_FUZZ_SEED replays.
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);
const params = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

const oddString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    "",
    "zz",
    "abcd",
    "AAAA",
    "a".repeat(64),
    "0".repeat(63),
    "ff".repeat(40),
    "!!==",
    "\u0000",
  ),
);
const content = (kind: "passwd" | "tokens" | "hosts"): fc.Arbitrary<string | Uint8Array> =>
  fc.oneof(
    fc.uint8Array({ maxLength: 80 }),
    fc.json(),
    // Schema-valid shapes with values no real write produces: short hashes, non-hex digests, bad base64.
    kind === "passwd"
      ? fc
          .dictionary(fc.constantFrom("hacluster", "root"), fc.record({ salt: oddString, hash: oddString }))
          .map((v) => JSON.stringify(v))
      : kind === "tokens"
        ? fc
            .array(fc.record({ sha256: oddString, expiresAt: fc.double() }), { maxLength: 4 })
            .map((v) => JSON.stringify(v))
        : fc
            .dictionary(
              fc.constantFrom("node1", "__proto__", "constructor"),
              fc.record({ addr: oddString, port: fc.integer(), token: oddString }),
            )
            .map((v) => JSON.stringify(v)),
  );

void test("fuzz: damaged or odd credential files make every check answer (fail closed), never throw", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "floatip-auth-fuzz-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const now = 1_800_000_000_000;
  fc.assert(
    fc.property(
      content("passwd"),
      content("tokens"),
      content("hosts"),
      oddString,
      // scrypt is slow on purpose: the repair check runs in one case out of ten.
      fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 9, arbitrary: fc.constant(false) }),
      (passwd, tokens, hosts, guess, repair) => {
        writeFileSync(join(dir, "passwd.json"), passwd);
        writeFileSync(join(dir, "tokens-issued.json"), tokens);
        writeFileSync(join(dir, "known-hosts.json"), hosts);
        const auth = new AuthStore(dir, () => now);
        assert.ok(["valid", "expired", "unknown"].includes(auth.verifyToken(guess)));
        assert.equal(typeof auth.hasPassword("hacluster"), "boolean");
        const login = auth.login("hacluster", guess || "x");
        assert.equal(typeof login.ok, "boolean");
        const host = auth.knownHost("node1");
        assert.ok(host === undefined || typeof host.addr === "string");
        if (!repair) return;
        // Setting the password again always repairs the store.
        auth.setPassword("hacluster", "pw");
        const again = auth.login("hacluster", "pw");
        assert.ok(again.ok, JSON.stringify(again));
        assert.equal(auth.verifyToken(again.token), "valid");
      },
    ),
    params(100),
  );
});
