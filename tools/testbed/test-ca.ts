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

/** Makes the CA and a server certificate for `hostNames` (subjectAltName DNS entries) in `dir`. */
export async function makeTestCa(dir: string, hostNames: readonly string[]): Promise<TestCa> {
  if (hostNames.length === 0) throw new Error("FLOATIP_E_TESTBED: a server certificate needs a host name");
  for (const name of hostNames) {
    if (!hostNamePattern.test(name)) throw new Error(`FLOATIP_E_TESTBED: ${name} is not a DNS host name`);
  }
  const openssl = (args: string[]): Promise<unknown> =>
    runFile("openssl", args, { timeout: OPENSSL_TIMEOUT_MS });
  const caKey = join(dir, "test-ca.key");
  const caCertFile = join(dir, "test-ca.pem");
  await openssl([
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-sha256"],
    ...["-keyout", caKey, "-out", caCertFile, "-subj", "/CN=floatip test bed CA (not trusted anywhere else)"],
    ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  ]);
  const serverKeyFile = join(dir, "endpoints.key");
  const csr = join(dir, "endpoints.csr");
  const serverCertFile = join(dir, "endpoints.pem");
  const extensions = join(dir, "endpoints.ext");
  await writeFile(
    extensions,
    [
      `subjectAltName=${hostNames.map((name) => `DNS:${name}`).join(",")}`,
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  await openssl([
    ...["req", "-newkey", "rsa:2048", "-nodes", "-keyout", serverKeyFile, "-out", csr],
    ...["-subj", `/CN=${hostNames[0] ?? ""}`],
  ]);
  await openssl([
    ...["x509", "-req", "-in", csr, "-CA", caCertFile, "-CAkey", caKey, "-CAcreateserial"],
    ...["-days", "2", "-sha256", "-extfile", extensions, "-out", serverCertFile],
  ]);
  const [serverCertPem, serverKeyPem] = await Promise.all([
    readFile(serverCertFile, "utf8"),
    readFile(serverKeyFile, "utf8"),
  ]);
  return { caCertFile, serverCertFile, serverKeyFile, serverCertPem, serverKeyPem };
}
