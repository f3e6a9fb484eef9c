import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { ClusterKeyError } from "./errors.ts";
import { writeFileAtomic } from "./store.ts";

/** Heartbeats are authenticated with HMAC-SHA256; a 256-bit key matches its block strength. */
export const CLUSTER_KEY_BYTES = 32;

/**
 * Creates the shared heartbeat key as raw bytes (like corosync's authkey), mode 0600.
 * Refuses to replace an existing key unless asked: a new key cuts this node off from its peers.
 */
export function createClusterKey(path: string, options: { overwrite?: boolean } = {}): Buffer {
  const key = randomBytes(CLUSTER_KEY_BYTES);
  try {
    writeFileAtomic(path, key, { mode: 0o600, overwrite: options.overwrite === true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new ClusterKeyError(
        "FLOATIP_E_KEY_EXISTS",
        `a cluster key already exists at ${path}; keep it, or replace it on every node at once (--force)`,
        { cause: error },
      );
    }
    throw error;
  }
  return key;
}

/** Reads the heartbeat key, refusing one that other users could read. Errors never include key bytes. */
export function readClusterKey(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ClusterKeyError(
        "FLOATIP_E_KEY_MISSING",
        `no cluster key at ${path}; copy it from a cluster node or create one (floatip cluster setup)`,
        { cause: error },
      );
    }
    throw error;
  }
  try {
    // fstat on the open descriptor, so the file checked is the file read.
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new ClusterKeyError(
        "FLOATIP_E_KEY_CORRUPT",
        `${path} is not a regular file; replace it with the cluster key`,
      );
    }
    if ((stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(3, "0");
      throw new ClusterKeyError(
        "FLOATIP_E_KEY_PERMS",
        `${path} has mode ${mode}, readable by other users; run: chmod 600 ${path}`,
      );
    }
    if (stat.size !== CLUSTER_KEY_BYTES) {
      throw new ClusterKeyError(
        "FLOATIP_E_KEY_CORRUPT",
        `${path} holds ${stat.size} bytes instead of ${CLUSTER_KEY_BYTES}; copy the key again from a cluster node`,
      );
    }
    const key = Buffer.alloc(CLUSTER_KEY_BYTES);
    let read = 0;
    while (read < CLUSTER_KEY_BYTES) {
      const n = readSync(fd, key, read, CLUSTER_KEY_BYTES - read, read);
      if (n === 0) break;
      read += n;
    }
    if (read !== CLUSTER_KEY_BYTES) {
      throw new ClusterKeyError(
        "FLOATIP_E_KEY_CORRUPT",
        `${path} was cut short while reading; copy the key again`,
      );
    }
    return key;
  } finally {
    closeSync(fd);
  }
}
