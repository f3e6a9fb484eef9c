import { execFile } from "node:child_process";
import { X509Certificate, type KeyObject } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * Instance-principal certificates, made with the openssl CLI on first use (RSA key generation costs ~50 ms
 * per instance, so an emulator with many instances still starts at once).
 * Each leaf carries the OU=opc-instance/opc-tenant/opc-compartment subject fields OCI puts in real ones;
 * the SDK reads the tenancy from the leaf and forwards leaf + intermediate to the federation endpoint.
 */

export interface InstanceIdentity {
  instanceId: string;
  certificatePem: string;
  privateKeyPem: string;
  intermediatePem: string;
  /** sha1, lowercase hex with colons: the form the SDK puts in the federation keyId */
  fingerprint: string;
  publicKey: KeyObject;
}

export interface IdentitySubject {
  instanceId: string;
  tenancyId: string;
  compartmentId: string;
}

const runFile = promisify(execFile);
const OPENSSL_TIMEOUT_MS = 20_000;
const SUBJECT_FIELD_MAX = 64;

export class IdentityCertificates {
  private directory: Promise<string> | undefined;
  private intermediate: Promise<{ certPath: string; keyPath: string; pem: string }> | undefined;
  private readonly leaves = new Map<string, Promise<InstanceIdentity>>();
  private readonly byFingerprint = new Map<string, InstanceIdentity>();

  constructor(private readonly opensslPath = "openssl") {}

  /** The identity of an instance; concurrent first requests share one generation. */
  forInstance(subject: IdentitySubject): Promise<InstanceIdentity> {
    let leaf = this.leaves.get(subject.instanceId);
    if (leaf === undefined) {
      leaf = this.generateLeaf(subject);
      this.leaves.set(subject.instanceId, leaf);
      // a failed generation must not poison the cache: the next request tries again
      leaf.catch(() => this.leaves.delete(subject.instanceId));
    }
    return leaf;
  }

  /** Identities already handed out, looked up by the fingerprint a federation request names. */
  byCertificateFingerprint(fingerprint: string): InstanceIdentity | undefined {
    return this.byFingerprint.get(fingerprint.toLowerCase());
  }

  async dispose(): Promise<void> {
    const directory = this.directory;
    this.directory = undefined;
    if (directory !== undefined) await rm(await directory, { recursive: true, force: true });
  }

  private workDirectory(): Promise<string> {
    this.directory ??= mkdtemp(join(tmpdir(), "oci-emulator-certs-"));
    return this.directory;
  }

  private openssl(args: string[]): Promise<unknown> {
    return runFile(this.opensslPath, args, { timeout: OPENSSL_TIMEOUT_MS });
  }

  private intermediateCa(): Promise<{ certPath: string; keyPath: string; pem: string }> {
    this.intermediate ??= (async () => {
      const dir = await this.workDirectory();
      const certPath = join(dir, "intermediate.pem");
      const keyPath = join(dir, "intermediate.key");
      await this.openssl([
        ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650"],
        ...["-keyout", keyPath, "-out", certPath, "-subj", "/CN=PKISVC Identity Intermediate oci-emulator"],
      ]);
      return { certPath, keyPath, pem: await readFile(certPath, "utf8") };
    })();
    return this.intermediate;
  }

  private async generateLeaf(subject: IdentitySubject): Promise<InstanceIdentity> {
    const fields = [
      ["CN", subject.instanceId],
      ["OU", "opc-certtype:instance"],
      ["OU", `opc-compartment:${subject.compartmentId}`],
      ["OU", `opc-instance:${subject.instanceId}`],
      ["OU", `opc-tenant:${subject.tenancyId}`],
    ];
    const tooLong = fields.find(([, value]) => (value ?? "").length > SUBJECT_FIELD_MAX);
    if (tooLong !== undefined) {
      throw new Error(
        `certificate subject field ${tooLong[0]}=${tooLong[1]} exceeds ${SUBJECT_FIELD_MAX} characters; use shorter OCIDs in the seed`,
      );
    }
    const ca = await this.intermediateCa();
    const dir = await this.workDirectory();
    const stem = join(dir, subject.instanceId.replace(/[^A-Za-z0-9.]/g, "_"));
    const subj = fields.map(([name, value]) => `/${name}=${value}`).join("");
    await this.openssl([
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365", "-subj", subj],
      ...["-CA", ca.certPath, "-CAkey", ca.keyPath, "-keyout", `${stem}.key`, "-out", `${stem}.pem`],
    ]);
    const [certificatePem, privateKeyPem] = await Promise.all([
      readFile(`${stem}.pem`, "utf8"),
      readFile(`${stem}.key`, "utf8"),
    ]);
    const x509 = new X509Certificate(certificatePem);
    const identity: InstanceIdentity = {
      instanceId: subject.instanceId,
      certificatePem,
      privateKeyPem,
      intermediatePem: ca.pem,
      fingerprint: x509.fingerprint.toLowerCase(),
      publicKey: x509.publicKey,
    };
    this.byFingerprint.set(identity.fingerprint, identity);
    return identity;
  }
}
