import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * IPv4 address changes as the kernel announces them (netlink, through `ip -o monitor address`), so the
 * daemon can restore a removed VIP at once instead of noticing it at the next monitor interval.
 */

export interface AddressChange {
  ip: string;
  prefix: number;
  nic: string;
}

export interface AddressEventMap {
  added: [AddressChange];
  deleted: [AddressChange];
  /** `ip monitor` could not start or exited while not stopped; no more events will come. */
  error: [Error];
}

export interface AddressEventsOptions {
  /** Watch inside this named network namespace (`ip -n NS`); default: the daemon's own. */
  netns?: string;
  /** How long start() waits for the netlink subscription (default 3000 ms). */
  startTimeoutMs?: number;
}

const linePattern =
  /^(Deleted\s+)?(?:\[[A-Z]+\]\s*)?\d+:\s+(\S+?)(?:@\S+)?\s+inet\s+(\d{1,3}(?:\.\d{1,3}){3})(?:\s+peer\s+\S+?)?(?:\/(\d{1,2}))?\s/;

/** Parses one line of `ip -o monitor address`; null for IPv6 and anything else. */
export function parseMonitorLine(line: string): { kind: "added" | "deleted"; change: AddressChange } | null {
  const match = linePattern.exec(line);
  if (match === null) return null;
  const [, deleted, nic = "", ip = "", prefix] = match;
  return { kind: deleted ? "deleted" : "added", change: { ip, nic, prefix: prefix ? Number(prefix) : 32 } };
}

export class AddressEvents extends EventEmitter<AddressEventMap> {
  private child: ChildProcess | undefined;
  private stopping = false;
  private readonly options: AddressEventsOptions;

  constructor(options: AddressEventsOptions = {}) {
    super();
    this.options = options;
  }

  /**
   * Spawns the monitor and resolves once its netlink socket is subscribed, so no change made after start()
   * resolves is missed. Rejects with FLOATIP_E_ADDRESS_EVENTS if it cannot start in time.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.child !== undefined) return;
    this.stopping = false;
    const args = [...(this.options.netns ? ["-n", this.options.netns] : []), "-o", "monitor", "address"];
    const child = spawn("ip", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const parsed = parseMonitorLine(line);
      if (parsed !== null) this.emit(parsed.kind, parsed.change);
    });
    let exited: Error | undefined;
    child.once("error", (error) => {
      exited = new Error(
        `FLOATIP_E_ADDRESS_EVENTS: cannot run ip monitor (${error.message}); install iproute2`,
      );
    });
    child.once("exit", (code, sig) => {
      this.child = undefined;
      exited ??= new Error(
        `FLOATIP_E_ADDRESS_EVENTS: ip monitor address exited (${sig ?? code}): ${stderr.trim()}; address changes are no longer seen, restart the daemon`,
      );
      if (!this.stopping && this.listenerCount("error") > 0) this.emit("error", exited);
    });
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 3000);
    while (!(child.pid !== undefined && subscribedToNetlink(child.pid))) {
      if (exited !== undefined || signal?.aborted || Date.now() > deadline) {
        await this.stop();
        throw (
          exited ??
          new Error(
            `FLOATIP_E_ADDRESS_EVENTS: ip monitor address did not subscribe within ${this.options.startTimeoutMs ?? 3000} ms; check that the host is not overloaded`,
          )
        );
      }
      await sleep(5);
    }
  }

  /** Kills the monitor and waits for it to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }
}

/**
 * True once the process owns a netlink socket bound to multicast groups, which `ip monitor` does right
 * before it starts reading: from then on every change is queued for it.
 */
function subscribedToNetlink(pid: number): boolean {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined) inodes.add(inode);
    }
    if (inodes.size === 0) return false;
    // Columns: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    for (const row of readFileSync(`/proc/${pid}/net/netlink`, "utf8").split("\n").slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols[1] === "0" && cols[3] !== undefined && !/^0+$/.test(cols[3]) && inodes.has(cols[9] ?? "")) {
        return true;
      }
    }
    return false;
  } catch {
    return false;
  }
}
