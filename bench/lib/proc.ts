/**
 * Parsing of Linux /proc files for the footprint bench (pure; unit-tested in proc.test.ts).
 * proc(5): /proc/PID/stat fields 14 and 15 are utime and stime in clock ticks; /proc/PID/status has
 * "VmRSS:   12345 kB".
 */

/** utime + stime of /proc/PID/stat, in clock ticks. The command name (field 2) may hold spaces or ")". */
export function cpuTicksFromStat(stat: string): number {
  const [utime, stime] = statTicks(stat, 11);
  return utime + stime;
}

/**
 * cutime + cstime (fields 16 and 17): CPU of the process's children that it has waited for, e.g. the
 * commands a daemon's monitors spawn, in clock ticks.
 */
export function childCpuTicksFromStat(stat: string): number {
  const [cutime, cstime] = statTicks(stat, 13);
  return cutime + cstime;
}

function statTicks(stat: string, offset: number): [number, number] {
  const close = stat.lastIndexOf(")");
  if (close < 0) throw new Error("not a /proc/PID/stat line: no ')' after the command name");
  // Fields after the command: state is field 3, so field N is at offset N - 3.
  const rest = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const a = Number(rest[offset]);
  const b = Number(rest[offset + 1]);
  if (!Number.isInteger(a) || !Number.isInteger(b)) {
    throw new Error(`not a /proc/PID/stat line: fields ${offset + 3} and ${offset + 4} are not integers`);
  }
  return [a, b];
}

/** VmRSS of /proc/PID/status in bytes. */
export function rssBytesFromStatus(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error("no VmRSS line in /proc/PID/status (a kernel thread or an exited process?)");
  return Number(m[1]) * 1024;
}

/** Per-interval CPU use in % of one core, from cumulative tick samples taken at wall-clock times (ms). */
export function cpuPercents(
  samples: readonly { atMs: number; ticks: number }[],
  ticksPerSecond: number,
): number[] {
  const out: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (!a || !b || b.atMs <= a.atMs) continue;
    out.push(((b.ticks - a.ticks) / ticksPerSecond / ((b.atMs - a.atMs) / 1000)) * 100);
  }
  return out;
}

/** Average CPU over the whole window in % of one core. */
export function cpuPercentOverall(
  samples: readonly { atMs: number; ticks: number }[],
  ticksPerSecond: number,
): number | undefined {
  const a = samples[0];
  const b = samples.at(-1);
  if (!a || !b || b.atMs <= a.atMs) return undefined;
  return ((b.ticks - a.ticks) / ticksPerSecond / ((b.atMs - a.atMs) / 1000)) * 100;
}

/** Udp OutDatagrams / InDatagrams of a network namespace's /proc/net/snmp. */
export function udpDatagrams(snmp: string): { out: number; in: number } {
  const lines = snmp.split("\n").filter((l) => l.startsWith("Udp:"));
  const names = (lines[0] ?? "").split(/\s+/).slice(1);
  const values = (lines[1] ?? "").split(/\s+/).slice(1).map(Number);
  const get = (name: string): number => {
    const i = names.indexOf(name);
    const v = values[i];
    if (i < 0 || v === undefined || !Number.isFinite(v)) throw new Error(`no Udp ${name} in /proc/net/snmp`);
    return v;
  };
  return { out: get("OutDatagrams"), in: get("InDatagrams") };
}

/** Transmitted bytes and packets of one interface from /proc/net/dev. */
export function txCounters(netDev: string, iface: string): { bytes: number; packets: number } {
  for (const line of netDev.split("\n")) {
    const [name, rest] = line.split(":");
    if (name?.trim() !== iface || rest === undefined) continue;
    const f = rest.trim().split(/\s+/).map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes packets ...
    const bytes = f[8];
    const packets = f[9];
    if (bytes === undefined || packets === undefined) break;
    return { bytes, packets };
  }
  throw new Error(`no interface ${iface} in /proc/net/dev`);
}
