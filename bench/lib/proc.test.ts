import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cpuPercentOverall,
  cpuPercents,
  childCpuTicksFromStat,
  cpuTicksFromStat,
  rssBytesFromStatus,
  txCounters,
  udpDatagrams,
} from "./proc.ts";

// Real lines from a Linux 6.x host (proc(5) layout).
const STAT =
  "20216 (node) S 20210 20216 20210 0 -1 4194560 8513 0 0 0 187 42 0 0 20 0 11 0 1412 1172410368 38951 " +
  "18446744073709551615 1 1 0 0 0 0 0 16781312 134235650 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0";

void test("cpuTicksFromStat adds utime and stime (fields 14 and 15)", () => {
  assert.equal(cpuTicksFromStat(STAT), 187 + 42);
});

void test("cpuTicksFromStat survives a command name with spaces and parentheses", () => {
  const odd = STAT.replace("(node)", "(my (odd) proc)");
  assert.equal(cpuTicksFromStat(odd), 229);
  assert.throws(() => cpuTicksFromStat("garbage"), /no '\)'/);
  assert.throws(() => cpuTicksFromStat("1 (x) S 1 2"), /not integers/);
});

void test("childCpuTicksFromStat adds the waited-for children's cutime and cstime (fields 16 and 17)", () => {
  const withChildren = STAT.replace(" 187 42 0 0 ", " 187 42 31 9 ");
  assert.equal(childCpuTicksFromStat(withChildren), 40);
  assert.equal(cpuTicksFromStat(withChildren), 229);
  assert.equal(childCpuTicksFromStat(STAT), 0);
  assert.throws(() => childCpuTicksFromStat("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12"), /not integers/);
});

void test("rssBytesFromStatus reads VmRSS in kB", () => {
  const status = "Name:\tnode\nVmPeak:\t 1200000 kB\nVmRSS:\t   92816 kB\nRssAnon:\t   49828 kB\n";
  assert.equal(rssBytesFromStatus(status), 92816 * 1024);
  assert.throws(() => rssBytesFromStatus("Name:\tkthreadd\n"), /no VmRSS/);
});

void test("cpuPercents turns cumulative ticks into % of one core per interval", () => {
  const samples = [
    { atMs: 0, ticks: 100 },
    { atMs: 1000, ticks: 101 },
    { atMs: 2000, ticks: 101 },
    { atMs: 4000, ticks: 105 },
  ];
  assert.deepEqual(cpuPercents(samples, 100), [1, 0, 2]);
  assert.equal(cpuPercentOverall(samples, 100), 1.25);
  assert.equal(cpuPercentOverall(samples.slice(0, 1), 100), undefined);
});

void test("udpDatagrams and txCounters read a namespace's /proc/net files", () => {
  const snmp = [
    "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors",
    "Udp: 1200 3 0 1510 0 0 0 0 0",
  ].join("\n");
  assert.deepEqual(udpDatagrams(snmp), { in: 1200, out: 1510 });
  assert.throws(() => udpDatagrams("Tcp: a\nTcp: 1"), /no Udp OutDatagrams/);
  const dev = [
    "Inter-|   Receive                                                |  Transmit",
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
    "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0",
    "  eth0: 5000000   4000    0    0    0     0          0         0  7000000    6000    0    0    0     0       0          0",
  ].join("\n");
  assert.deepEqual(txCounters(dev, "eth0"), { bytes: 7000000, packets: 6000 });
  assert.throws(() => txCounters(dev, "eth1"), /no interface eth1/);
});
