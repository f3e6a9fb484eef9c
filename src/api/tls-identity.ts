import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface TlsIdentity {
  key: Buffer;
  cert: Buffer;
  /** SHA-256 fingerprint as Node prints it (AA:BB:...), which peers pin at `cluster auth`. */
  fingerprint: string;
}

/**
 * The node's self-signed certificate for the admin API on 2224/tcp (as pcsd makes one), created with
 * openssl on first start and kept in the state dir (key 0600). Peers do not check it against a CA: they
 * pin its fingerprint when they authorise this node.
 */
export async function loadOrCreateTlsIdentity(stateDir: string, commonName: string): Promise<TlsIdentity> {
  const keyPath = join(stateDir, "tls.key");
  const certPath = join(stateDir, "tls.crt");
  if (!existsSync(keyPath) || !existsSync(certPath)) await createIdentity(keyPath, certPath, commonName);
  const cert = readFileSync(certPath);
  return { key: readFileSync(keyPath), cert, fingerprint: new X509Certificate(cert).fingerprint256 };
}

function createIdentity(keyPath: string, certPath: string, commonName: string): Promise<void> {
  const tmpKey = `${keyPath}.tmp-${process.pid}`;
  const tmpCert = `${certPath}.tmp-${process.pid}`;
  const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  args.push("-days", "3650", "-subj", `/CN=${commonName.replace(/[^A-Za-z0-9_.-]/g, "_")}`);
  args.push("-keyout", tmpKey, "-out", tmpCert);
  return new Promise((resolve, reject) => {
    const previous = process.umask(0o077);
    execFile("openssl", args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      process.umask(previous);
      if (error) {
        rmSync(tmpKey, { force: true });
        rmSync(tmpCert, { force: true });
        const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
        reject(
          Object.assign(
            new Error(
              missing
                ? "FLOATIP_E_TLS: openssl is not installed; install it (apt-get install openssl) so the daemon can make its certificate"
                : `FLOATIP_E_TLS: openssl could not make the admin certificate: ${stderr.trim()}`,
            ),
            { code: "FLOATIP_E_TLS" },
          ),
        );
        return;
      }
      renameSync(tmpKey, keyPath);
      renameSync(tmpCert, certPath);
      resolve();
    });
  });
}
