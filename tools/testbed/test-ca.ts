import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * A throw-away certificate authority for one test bed, made with the openssl CLI when the bed starts, and a
 * server certificate it signs for the emulated region's endpoint names. Daemons trust it through
 * NODE_EXTRA_CA_CERTS, so their TLS connections are verified exactly as against the real endpoints; the CA's
 * key stays in the bed's private directory and is removed with it.
 */

export interface TestCa {
  /** PEM file of the CA certificate: what NODE_EXTRA_CA_CERTS points at. */
  caCertFile: string;
  /** The server certificate (PEM) and its key, for the emulator's HTTPS listener. */
  serverCertFile: string;
  serverKeyFile: string;
  serverCertPem: string;
  serverKeyPem: string;
}

const runFile = promisify(execFile);
const OPENSSL_TIMEOUT_MS = 30_000;
const hostNamePattern = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

/** openssl's date form for `ca -startdate/-enddate`: YYYYMMDDHHMMSSZ. */
function opensslDate(ms: number): string {
  return `${new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
}

/**
 * Makes the CA and a server certificate for `hostNames` (subjectAltName DNS entries) in `dir`. Both are
 * valid from two days ago, not from now: a daemon whose wall clock a test steps back (libfaketime) must
 * still accept them, as it would real endpoints' certificates.
 */
export async function makeTestCa(dir: string, hostNames: readonly string[]): Promise<TestCa> {
  if (hostNames.length === 0) throw new Error("FLOATIP_E_TESTBED: a server certificate needs a host name");
  for (const name of hostNames) {
    if (!hostNamePattern.test(name)) throw new Error(`FLOATIP_E_TESTBED: ${name} is not a DNS host name`);
  }
  const openssl = (args: string[]): Promise<unknown> =>
    runFile("openssl", args, { timeout: OPENSSL_TIMEOUT_MS, cwd: dir });
  const now = Date.now();
  const validity = [
    "-startdate",
    opensslDate(now - 2 * 86_400_000),
    "-enddate",
    opensslDate(now + 30 * 86_400_000),
  ];
  // `openssl ca` is the one OpenSSL 3.0 command that sets a start date; it keeps its records in `dir`.
  await writeFile(
    join(dir, "ca.cnf"),
    [
      "[ ca ]",
      "default_ca = bed",
      "[ bed ]",
      "database = ./ca-index.txt",
      "new_certs_dir = .",
      "serial = ./ca-serial",
      "default_md = sha256",
      "policy = anything",
      "unique_subject = no",
      "copy_extensions = none",
      "[ anything ]",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
  await writeFile(join(dir, "ca-index.txt"), "");
  await writeFile(join(dir, "ca-serial"), "01\n");
  await writeFile(
    join(dir, "ca.ext"),
    "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
  );
  await writeFile(
    join(dir, "endpoints.ext"),
    [
      `subjectAltName=${hostNames.map((name) => `DNS:${name}`).join(",")}`,
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  const caCertFile = join(dir, "test-ca.pem");
  await openssl([
    ...["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "test-ca.key", "-out", "test-ca.csr"],
    ...["-subj", "/CN=floatip test bed CA (not trusted anywhere else)"],
  ]);
  await openssl([
    ...["ca", "-batch", "-notext", "-config", "ca.cnf", "-selfsign", "-keyfile", "test-ca.key"],
    ...["-in", "test-ca.csr", "-out", caCertFile, "-extfile", "ca.ext", ...validity],
  ]);
  const serverKeyFile = join(dir, "endpoints.key");
  const serverCertFile = join(dir, "endpoints.pem");
  await openssl([
    ...["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", serverKeyFile, "-out", "endpoints.csr"],
    ...["-subj", `/CN=${hostNames[0] ?? ""}`],
  ]);
  await openssl([
    ...["ca", "-batch", "-notext", "-config", "ca.cnf", "-cert", caCertFile, "-keyfile", "test-ca.key"],
    ...["-in", "endpoints.csr", "-out", serverCertFile, "-extfile", "endpoints.ext", ...validity],
  ]);
  const [serverCertPem, serverKeyPem] = await Promise.all([
    readFile(serverCertFile, "utf8"),
    readFile(serverKeyFile, "utf8"),
  ]);
  return { caCertFile, serverCertFile, serverKeyFile, serverCertPem, serverKeyPem };
}
