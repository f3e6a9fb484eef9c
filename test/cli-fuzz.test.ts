import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { floatipMain } from "../tools/testbed/repo-paths.ts";

/*
 * The built CLI (what `npm install` puts behind bin/floatip.mjs) with random argument lists, in child
 * processes with no daemon behind the socket: whatever the words, the user gets exit status 0, or 1/2
 * with exactly one `Error:` line (commander's hints may follow), never a stack trace and never a raw
 * control character from the arguments. FLOATIP_FUZZ_SEED replays a run.
 *
 * Left out on purpose: `daemon` and `witness` (they would start servers), `oci` (cloud calls) and
 * `install-agents` (writes under /usr/lib).
 */

const seed =
  process.env["FLOATIP_FUZZ_SEED"] === undefined ? undefined : Number(process.env["FLOATIP_FUZZ_SEED"]);

const dir = mkdtempSync(join(tmpdir(), "floatip-cli-fuzz-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const cibFile = join(dir, "cib.xml");
writeFileSync(
  cibFile,
  '<cib><configuration><nodes><node id="1" uname="n1"/></nodes><resources>' +
    '<primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"/></resources></configuration></cib>',
);

const commands: readonly string[][] = [
  ["status"],
  ["status", "--full"],
  ["cluster", "setup"],
  ["cluster", "auth"],
  ["host", "auth"],
  ["cluster", "start"],
  ["cluster", "stop"],
  ["resource", "create"],
  ["resource", "update"],
  ["resource", "delete"],
  ["resource", "meta"],
  ["resource", "enable"],
  ["resource", "group", "add"],
  ["resource", "move"],
  ["resource", "ban"],
  ["resource", "clear"],
  ["resource", "cleanup"],
  ["resource", "failcount"],
  ["resource", "defaults"],
  ["constraint", "location"],
  ["constraint", "colocation", "add"],
  ["constraint", "order"],
  ["constraint", "remove"],
  ["property", "set"],
  ["property", "unset"],
  ["node", "standby"],
  ["alert", "create"],
  ["alert", "recipient", "add"],
  ["stonith", "create"],
  ["stonith", "fence"],
  ["quorum", "update"],
  ["quorum", "device", "add"],
  ["events"],
  ["passwd", "--stdin"],
  ["import-cib", cibFile, "--dry-run"],
  ["frobnicate"],
  [],
];

const vocabulary = [
  ...[
    "vip",
    "node1",
    "ocf:heartbeat:IPaddr2",
    "ip=10.0.0.5",
    "op",
    "monitor",
    "interval=soon",
    "meta",
    "with",
  ],
  ...[
    "then",
    "start",
    "prefers",
    "avoids",
    "INFINITY",
    "score=x",
    "--group",
    "--before",
    "--after",
    "--full",
  ],
  ...[
    "--json",
    "--force",
    "--all",
    "--wait",
    "-p",
    "--name",
    "--token",
    "abc",
    "addr=1.2.3.4",
    "model",
    "net",
  ],
  ...[
    "host=",
    "wait_for_all=7",
    "fence_oci",
    "type=script",
    "path=",
    "lifetime=PT",
    "--help",
    "-h",
    "--",
    "-",
  ],
];
const hostile = fc.constantFrom("a\nb", "x\r", "\u001b[31mred", "tab\there", "nul\u0000", "\u009b2J");
const token = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...vocabulary) },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !s.includes("\u0000")) },
  { weight: 1, arbitrary: hostile.filter((s) => !s.includes("\u0000")) },
);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function floatip(args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [floatipMain, "--socket", join(dir, "no-daemon.sock"), ...args],
      { timeout: 20_000, env: { ...process.env, FLOATIP_SOCKET: join(dir, "no-daemon.sock") } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

void test("fuzz: random argument lists to the built CLI give exit 0, or 1/2 with one Error: line and no stack", async () => {
  // Arguments can carry no NUL byte (execve would refuse them); every other control character can.
  const cases = fc.sample(
    fc
      .tuple(fc.constantFrom(...commands), fc.array(token, { maxLength: 6 }))
      .map(([cmd, rest]) => [...cmd, ...rest]),
    seed === undefined ? { numRuns: 20, seed: 20261125 } : { numRuns: 20, seed },
  );
  // Control characters where commander, a parser and the daemon client each quote them back.
  const fixed = [
    ["re\nsource"],
    ["resource", "--bad\u001b[2J"],
    ["resource", "create", "V", "ocf:heartbeat:IPaddr2", "a\nb"],
    ["constraint", "order", "x\ry"],
  ];
  const failures: string[] = [];
  const queue = [...fixed, ...cases];
  const worker = async () => {
    for (let args = queue.shift(); args !== undefined; args = queue.shift()) {
      const r = await floatip(args);
      const shown = JSON.stringify(args);
      const problems: string[] = [];
      if (![0, 1, 2].includes(r.code)) problems.push(`exit ${r.code}`);
      if (/^\s+at /m.test(r.stderr) || /^\s+at /m.test(r.stdout)) problems.push("stack trace");
      if (r.code !== 0) {
        const errorLines = r.stderr.split("\n").filter((l) => l.startsWith("Error:"));
        if (!r.stderr.startsWith("Error: ")) problems.push("stderr does not start with 'Error: '");
        if (errorLines.length !== 1) problems.push(`${errorLines.length} Error: lines`);
        if (/(?![\n\t])\p{Cc}/u.test(r.stderr)) problems.push("raw control character");
        // An argument with a newline quoted verbatim would split the error over two lines.
        if (args.some((a) => /\p{Cc}/u.test(a) && r.stderr.includes(a))) problems.push("argument echoed raw");
      }
      if (problems.length > 0)
        failures.push(
          `${shown}: ${problems.join(", ")}; exit ${r.code}; stderr ${JSON.stringify(r.stderr.slice(0, 400))}`,
        );
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  assert.deepEqual(failures, [], `reproduce with FLOATIP_FUZZ_SEED=${seed ?? 20261125}`);
});
