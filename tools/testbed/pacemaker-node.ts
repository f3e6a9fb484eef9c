import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand, type CommandOutcome } from "../../src/agents/command-runner.ts";
import type { Bed } from "./bed.ts";

/**
 * Real corosync + Pacemaker (Debian's packages) per node of a bed. A network namespace is not enough:
 * both keep state and sockets in fixed places, so each node runs in its own mount and UTS namespace
 * (`unshare --mount --uts` inside `ip netns exec`) with per-node directories bind-mounted over
 * /etc/corosync, /var/lib/{corosync,pacemaker}, /var/log/{corosync,pacemaker} and /etc/default, fresh
 * tmpfs on /run and /dev/shm (libqb's shared-memory IPC; its sockets are abstract, so already per network
 * namespace), and a copy of /usr/lib/ocf/resource.d that adds the agents under test. Nothing on the host
 * changes; the mounts vanish with the node's processes, which the bed kills with its namespace.
 */

export const PACEMAKER_BINARIES = ["/usr/sbin/corosync", "/usr/sbin/pacemakerd", "/usr/sbin/cibadmin"];

/** The mount points a node covers; each must exist on the host (installed by the packages). */
const HOST_DIRS = [
  "/etc/corosync",
  "/var/lib/corosync",
  "/var/lib/pacemaker",
  "/var/log/corosync",
  "/var/log/pacemaker",
  "/etc/default",
  "/usr/lib/ocf/resource.d",
];

export function pacemakerMissing(): string | undefined {
  const missing = [...PACEMAKER_BINARIES, ...HOST_DIRS].filter((path) => !existsSync(path));
  return missing.length === 0 ? undefined : `not installed: ${missing.join(", ")}`;
}

export interface ClusterFiles {
  /** Scratch directory holding every node's state; removed by destroy(). */
  dir: string;
  resourceDir: string;
}

/**
 * Shared, read-only parts for all nodes: a copy of the host's OCF agents plus `extraAgents`
 * (provider -> { agent name -> file }).
 */
export async function prepareClusterFiles(
  extraAgents: Record<string, Record<string, string>>,
): Promise<ClusterFiles> {
  const dir = await mkdtemp(join(tmpdir(), "floatip-pcmk-"));
  await chmod(dir, 0o755);
  const resourceDir = join(dir, "resource.d");
  await cp("/usr/lib/ocf/resource.d", resourceDir, { recursive: true, verbatimSymlinks: true });
  for (const [provider, agents] of Object.entries(extraAgents)) {
    await mkdir(join(resourceDir, provider), { recursive: true, mode: 0o755 });
    for (const [name, file] of Object.entries(agents)) {
      const target = join(resourceDir, provider, name);
      await cp(file, target);
      await chmod(target, 0o755);
    }
  }
  return { dir, resourceDir };
}

export function corosyncConf(opts: {
  clusterName: string;
  nodes: { name: string; addr: string }[];
  tokenMs: number;
}): string {
  const nodes = opts.nodes
    .map((n, i) => `  node {\n    ring0_addr: ${n.addr}\n    name: ${n.name}\n    nodeid: ${i + 1}\n  }`)
    .join("\n");
  return `totem {
  version: 2
  cluster_name: ${opts.clusterName}
  transport: knet
  token: ${opts.tokenMs}
  crypto_cipher: none
  crypto_hash: none
}
nodelist {
${nodes}
}
quorum {
  provider: corosync_votequorum
  two_node: 1
}
logging {
  to_logfile: yes
  logfile: /var/log/corosync/corosync.log
  to_stderr: no
  to_syslog: no
  timestamp: on
}
`;
}

export interface PacemakerNodeOptions {
  bed: Bed;
  files: ClusterFiles;
  node: string;
  corosyncConf: string;
  /** Lines of /etc/default/floatip on this node (what the floatip agent reads). */
  floatipEnv: Record<string, string>;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** One node: corosync and pacemakerd in the node's namespaces; CLI tools run beside them with nsenter. */
export class PacemakerNode {
  private constructor(
    readonly node: string,
    private readonly bed: Bed,
    private readonly root: string,
    private readonly child: ChildProcess,
    private output: string,
  ) {}

  static async start(opts: PacemakerNodeOptions): Promise<PacemakerNode> {
    const { bed, files, node } = opts;
    const root = join(files.dir, node);
    const dirs = {
      etcCorosync: join(root, "etc-corosync"),
      libCorosync: join(root, "lib-corosync"),
      libPacemaker: join(root, "lib-pacemaker"),
      logCorosync: join(root, "log-corosync"),
      logPacemaker: join(root, "log-pacemaker"),
      etcDefault: join(root, "etc-default"),
    };
    for (const d of Object.values(dirs)) await mkdir(d, { recursive: true, mode: 0o755 });
    const hacluster = await ids();
    for (const sub of ["cib", "pengine", "blackbox", "cores"]) {
      const d = join(dirs.libPacemaker, sub);
      await mkdir(d, { recursive: true, mode: 0o750 });
      await chown(d, hacluster.uid, hacluster.gid);
    }
    await chmod(dirs.logPacemaker, 0o770);
    await chown(dirs.logPacemaker, hacluster.uid, hacluster.gid);
    await writeFile(join(dirs.etcCorosync, "corosync.conf"), opts.corosyncConf);
    // The host's /etc/default stays as it is for everything else in the node; floatip's file is added.
    await cp("/etc/default", dirs.etcDefault, { recursive: true, verbatimSymlinks: true });
    await writeFile(
      join(dirs.etcDefault, "floatip"),
      Object.entries(opts.floatipEnv)
        .map(([k, v]) => `${k}=${shellQuote(v)}\n`)
        .join(""),
    );
    const q = shellQuote;
    const script = [
      "set -e",
      `hostname ${q(node)}`,
      `mount --bind ${q(dirs.etcCorosync)} /etc/corosync`,
      `mount --bind ${q(dirs.libCorosync)} /var/lib/corosync`,
      `mount --bind ${q(dirs.libPacemaker)} /var/lib/pacemaker`,
      `mount --bind ${q(dirs.logCorosync)} /var/log/corosync`,
      `mount --bind ${q(dirs.logPacemaker)} /var/log/pacemaker`,
      `mount --bind ${q(dirs.etcDefault)} /etc/default`,
      `mount --bind -o ro ${q(files.resourceDir)} /usr/lib/ocf/resource.d`,
      "mount -t tmpfs -o mode=755 tmpfs /run",
      "mount -t tmpfs -o mode=1777 tmpfs /dev/shm",
      "mkdir -p /run/corosync /run/crm /run/pacemaker /run/resource-agents /run/lock",
      "chown hacluster:haclient /run/crm /run/pacemaker",
      "corosync -f &",
      "i=0; until corosync-cfgtool -s >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 150 ] && { echo 'corosync did not start' >&2; exit 1; }; sleep 0.1; done",
      'echo "{\\"corosync\\":\\"up\\"}"',
      "exec pacemakerd",
    ].join("\n");
    const child = bed.spawnIn(
      bed.nodeNs(node),
      "unshare",
      ["--mount", "--uts", "--propagation", "private", "sh", "-c", script],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
          PCMK_logfile: "/var/log/pacemaker/pacemaker.log",
          PCMK_logfacility: "none",
        },
      },
    );
    const started = new PacemakerNode(node, bed, root, child, "");
    child.stdout?.on("data", (c: Buffer) => (started.output += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (started.output += c.toString()));
    await started.waitFor("corosync up", 20_000, async () => started.output.includes('"corosync":"up"'));
    return started;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`FLOATIP_E_TESTBED: ${this.node} has no process`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Runs a cluster CLI tool inside this node's namespaces (its IPC lives there). */
  run(cmd: string, args: string[], timeoutMs = 20_000): Promise<CommandOutcome> {
    return runCommand("nsenter", ["-t", String(this.pid), "-m", "-n", "-u", "--", cmd, ...args], {
      timeoutMs,
    });
  }

  async must(cmd: string, args: string[], timeoutMs = 20_000): Promise<string> {
    const out = await this.run(cmd, args, timeoutMs);
    if (out.code !== 0) {
      throw new Error(
        `FLOATIP_E_TESTBED: ${this.node}: ${cmd} ${args.join(" ")} exited ${out.code}: ${out.stderr.trim()}`,
      );
    }
    return out.stdout;
  }

  /** Tails of this node's logs and its process output, for a failure message. */
  async logs(lines = 40): Promise<string> {
    const tail = async (file: string): Promise<string> => {
      try {
        return (await readFile(file, "utf8")).split("\n").slice(-lines).join("\n");
      } catch {
        return "(none)";
      }
    };
    return [
      `--- ${this.node} output\n${this.output.split("\n").slice(-lines).join("\n")}`,
      `--- ${this.node} corosync.log\n${await tail(join(this.root, "log-corosync/corosync.log"))}`,
      `--- ${this.node} pacemaker.log\n${await tail(join(this.root, "log-pacemaker/pacemaker.log"))}`,
    ].join("\n");
  }

  async waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running)
        throw new Error(`FLOATIP_E_TESTBED: ${this.node} exited while waiting for ${what}:\n${this.output}`);
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`FLOATIP_E_TESTBED: ${this.node}: timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  /** Kills this node's processes (all of them live in its network namespace). */
  async kill(): Promise<void> {
    const pids = await runCommand("ip", ["netns", "pids", this.bed.nodeNs(this.node)], { timeoutMs: 5_000 });
    for (const pid of pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

async function ids(): Promise<{ uid: number; gid: number }> {
  const uid = await runCommand("id", ["-u", "hacluster"], { timeoutMs: 5_000 });
  const gid = await runCommand("id", ["-g", "hacluster"], { timeoutMs: 5_000 });
  if (uid.code !== 0 || gid.code !== 0)
    throw new Error("FLOATIP_E_TESTBED: no hacluster user (install pacemaker)");
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function removeClusterFiles(files: ClusterFiles | undefined): Promise<void> {
  if (files) await rm(files.dir, { recursive: true, force: true });
}
