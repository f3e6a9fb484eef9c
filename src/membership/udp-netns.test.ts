import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const fixture = fileURLToPath(new URL("./netns-member.fixture.ts", import.meta.url));
const isRoot = process.getuid?.() === 0;

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: "pipe", timeout: 10_000 });
}

/** Collects the JSON lines a member prints and lets the test wait for one that matches. */
function watch(child: ChildProcess) {
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const rl = createInterface({ input: child.stdout! });
  rl.on("line", (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  return async (match: (line: Record<string, unknown>) => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching line within ${timeoutMs} ms; got ${JSON.stringify(lines)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
}

function spawnMember(t: TestContext, ns: string, config: object): ChildProcess {
  const child = spawn(
    "ip",
    ["netns", "exec", ns, process.execPath, "--import", "tsx", fixture, JSON.stringify(config)],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return child;
}

void test(
  "two daemons in separate network namespaces both bind 5405 on their own address and see each other",
  { skip: isRoot ? false : "needs root for network namespaces", timeout: 30_000 },
  async (t) => {
    const prefix = `fi${randomBytes(2).toString("hex")}`;
    const [nsA, nsB] = [`${prefix}a`, `${prefix}b`];
    t.after(() => {
      for (const ns of [nsA, nsB]) {
        try {
          ip("netns", "del", ns);
        } catch {
          // Not created, or already gone.
        }
      }
    });
    ip("netns", "add", nsA);
    ip("netns", "add", nsB);
    ip(
      "link",
      "add",
      `${prefix}a0`,
      "netns",
      nsA,
      "type",
      "veth",
      "peer",
      "name",
      `${prefix}b0`,
      "netns",
      nsB,
    );
    ip("-n", nsA, "addr", "add", "10.254.7.1/24", "dev", `${prefix}a0`);
    ip("-n", nsB, "addr", "add", "10.254.7.2/24", "dev", `${prefix}b0`);
    for (const [ns, dev] of [
      [nsA, `${prefix}a0`],
      [nsB, `${prefix}b0`],
    ] as const) {
      ip("-n", ns, "link", "set", dev, "up");
      ip("-n", ns, "link", "set", "lo", "up");
    }

    const peers = [
      { id: 1, name: "a", addrs: ["10.254.7.1"] },
      { id: 2, name: "b", addrs: ["10.254.7.2"] },
    ];
    const common = { port: 5405, peers, keyHex: "ab".repeat(32), tokenMs: 600, heartbeatIntervalMs: 100 };
    const memberA = spawnMember(t, nsA, { ...common, self: { id: 1, name: "a" }, address: "10.254.7.1" });
    const memberB = spawnMember(t, nsB, { ...common, self: { id: 2, name: "b" }, address: "10.254.7.2" });
    const linesA = watch(memberA);
    const linesB = watch(memberB);

    const both = (line: Record<string, unknown>) => JSON.stringify(line["alive"]) === "[1,2]";
    await linesA(both, 15_000);
    await linesB(both, 15_000);

    memberB.kill("SIGKILL");
    const lost = await linesA((line) => JSON.stringify(line["lost"]) === "[2]", 5_000);
    assert.deepEqual(lost["alive"], [1]);
  },
);
