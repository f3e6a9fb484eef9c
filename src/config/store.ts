import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { ConfigError, describeZodIssue, formatIssuePath, formatZodIssues } from "./errors.ts";
import { clusterConfigSchema, type ClusterConfig } from "./schema.ts";

export interface AtomicWriteOptions {
  /** Permission bits of the new file, applied with fchmod so the umask cannot loosen or tighten them. */
  mode: number;
  /** When false, an existing file at the path is left alone and EEXIST is thrown. */
  overwrite: boolean;
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces a file so that a crash at any moment leaves either the old or the new content, never a mix:
 * write a temporary file beside it, fsync it, rename (or link, to refuse overwriting) over the target,
 * then fsync the directory so the rename itself survives power loss.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  try {
    const fd = openSync(tmp, "wx", options.mode);
    try {
      fchmodSync(fd, options.mode);
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.overwrite) {
      renameSync(tmp, path);
    } else {
      // link() fails with EEXIST atomically, so there is no window where two writers both "win".
      linkSync(tmp, path);
      rmSync(tmp, { force: true });
    }
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  fsyncDirectory(dir);
}

type DocumentRead =
  | { kind: "absent" }
  | { kind: "good"; config: ClusterConfig; bytes: Buffer }
  | { kind: "bad"; problem: string; field?: string; bytes: Buffer };

const utf8 = new TextDecoder("utf-8", { fatal: true });

function readDocument(path: string): DocumentRead {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { kind: "absent" };
    throw new ConfigError(
      "FLOATIP_E_CONFIG_IO",
      `cannot read ${path} (${(error as Error).message}); check that it is a file the daemon can read`,
      { cause: error },
    );
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { kind: "bad", problem: "is not UTF-8 text", bytes };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // V8 quotes a snippet of the input in its message: flatten it, so a damaged file can neither split
    // the one-line error nor smuggle terminal escape sequences into it.
    const reason = (error as Error).message.replace(/\p{Cc}+/gu, " ");
    return { kind: "bad", problem: `is not valid JSON (${reason})`, bytes };
  }
  const parsed = clusterConfigSchema.safeParse(json);
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues;
    if (first === undefined) return { kind: "bad", problem: "is invalid", bytes };
    const field = formatIssuePath(first.path);
    const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? "s" : ""})` : "";
    return {
      kind: "bad",
      problem: `is invalid at ${field}: ${describeZodIssue(first)}${more}`,
      field,
      bytes,
    };
  }
  return { kind: "good", config: parsed.data, bytes };
}

function serialize(config: ClusterConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** What is on disk now and what the next commit must build on. */
interface DiskState {
  main: DocumentRead;
  lastGood: DocumentRead;
}

/**
 * The cluster configuration document at one path, with its last good version kept beside it at
 * `<path>.last-good`. Every write is atomic; a damaged main file is never silently discarded.
 */
export class ConfigStore {
  readonly path: string;
  readonly lastGoodPath: string;
  /** Where a damaged main file is kept when a commit replaces it, so a hand edit is never lost. */
  readonly rejectedPath: string;
  #lastLoadProblem: string | null = null;

  private constructor(path: string) {
    this.path = resolve(path);
    this.lastGoodPath = `${this.path}.last-good`;
    this.rejectedPath = `${this.path}.rejected`;
  }

  static open(path: string): ConfigStore {
    return new ConfigStore(path);
  }

  /** Set by load() when it had to fall back to the last good version; null when the main file was fine. */
  get lastLoadProblem(): string | null {
    return this.#lastLoadProblem;
  }

  /** The current configuration, or null when none was ever committed. */
  load(): ClusterConfig | null {
    const state = this.#readState();
    const { main, lastGood } = state;
    this.#lastLoadProblem = null;
    if (main.kind === "good") return main.config;
    if (main.kind === "absent" && lastGood.kind === "absent") return null;
    if (lastGood.kind === "good") {
      const what = main.kind === "absent" ? "is missing" : main.problem;
      this.#lastLoadProblem = `${basename(this.path)} ${what}; using the last good version (epoch ${lastGood.config.epoch}) from ${basename(this.lastGoodPath)}`;
      return lastGood.config;
    }
    throw this.#corrupt(state);
  }

  /** Validates and atomically writes `next`, whose epoch must be above the stored one. Returns it with defaults applied. */
  commit(next: ClusterConfig): ClusterConfig {
    const config = this.#validate(next, "the new configuration");
    const state = this.#readState();
    const current = this.#current(state);
    if (config.epoch <= current.epoch) {
      throw new ConfigError(
        "FLOATIP_E_CONFIG_EPOCH",
        `epoch ${config.epoch} is not above the stored epoch ${current.epoch} of ${this.path}; ` +
          `someone else changed the configuration: load it again and reapply your change`,
        { field: "epoch" },
      );
    }
    if (state.main.kind === "good") {
      writeFileAtomic(this.lastGoodPath, state.main.bytes, { mode: 0o600, overwrite: true });
    } else if (state.main.kind === "bad") {
      writeFileAtomic(this.rejectedPath, state.main.bytes, { mode: 0o600, overwrite: true });
    }
    writeFileAtomic(this.path, serialize(config), { mode: 0o600, overwrite: true });
    this.#lastLoadProblem = null;
    return config;
  }

  /** Applies a change to a copy of the current configuration and commits it as the next epoch. */
  update(mutate: (draft: ClusterConfig) => void): ClusterConfig {
    const current = this.load();
    if (current === null) {
      throw new ConfigError(
        "FLOATIP_E_CONFIG_MISSING",
        `no cluster configuration at ${this.path}; create the cluster first (floatip cluster setup)`,
      );
    }
    const draft = structuredClone(current);
    mutate(draft);
    draft.epoch = current.epoch + 1;
    return this.commit(draft);
  }

  /**
   * Stores a document received from a peer if it is newer than ours. Equal epochs are not adopted;
   * compare configHash() to detect two different documents at the same epoch.
   */
  adopt(remote: unknown): boolean {
    const config = this.#validate(remote, "the configuration received from a peer");
    if (config.epoch <= this.#current(this.#readState()).epoch) return false;
    this.commit(config);
    return true;
  }

  #readState(): DiskState {
    return { main: readDocument(this.path), lastGood: readDocument(this.lastGoodPath) };
  }

  /** The epoch the next commit has to exceed; -1 when nothing was ever stored. */
  #current(state: DiskState): { epoch: number } {
    const { main, lastGood } = state;
    if (main.kind === "good") return { epoch: main.config.epoch };
    if (lastGood.kind === "good") return { epoch: lastGood.config.epoch };
    if (main.kind === "absent" && lastGood.kind === "absent") return { epoch: -1 };
    throw this.#corrupt(state);
  }

  #validate(candidate: unknown, what: string): ClusterConfig {
    const parsed = clusterConfigSchema.safeParse(candidate);
    if (parsed.success) return parsed.data;
    const first = parsed.error.issues[0];
    const options = first === undefined ? {} : { field: formatIssuePath(first.path) };
    throw new ConfigError(
      "FLOATIP_E_CONFIG_INVALID",
      `${what} is invalid; fix these fields:\n${formatZodIssues(parsed.error.issues)}`,
      options,
    );
  }

  #corrupt(state: DiskState): ConfigError {
    const describe = (read: DocumentRead, path: string) =>
      read.kind === "bad" ? `${path} ${read.problem}` : `${path} is missing`;
    const field =
      state.main.kind === "bad"
        ? state.main.field
        : state.lastGood.kind === "bad"
          ? state.lastGood.field
          : undefined;
    return new ConfigError(
      "FLOATIP_E_CONFIG_CORRUPT",
      `${describe(state.main, this.path)}, and ${describe(state.lastGood, this.lastGoodPath)}; ` +
        `fix the named field by hand or restore the file from a peer or a backup`,
      field === undefined ? {} : { field },
    );
  }
}
