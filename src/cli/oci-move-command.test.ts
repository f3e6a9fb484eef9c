import { test } from "node:test";
import assert from "node:assert/strict";
import { Command } from "commander";
import type { ClaimMode, ClaimResult } from "../cloud/oci/private-ip-mover.ts";
import { startTestEmulator, TEST_VIP } from "../cloud/oci/testing/emulated-cloud.ts";
import { claimFromEnv, registerOciMoveCommand, runOciMove, type OciMoveDeps } from "./oci-move-command.ts";
import { UsageError } from "./pcs-args.ts";

/** `floatip oci move`: argument handling with a fake claim; the real claim against the loopback emulator. */

interface Recorded {
  deps: OciMoveDeps;
  calls: { vip: string; mode: ClaimMode }[];
  out: string[];
  err: string[];
}

function fake(answer: ClaimResult | Error): Recorded {
  const recorded: Recorded = {
    calls: [],
    out: [],
    err: [],
    deps: {
      claim: async (vip, mode) => {
        recorded.calls.push({ vip, mode });
        if (answer instanceof Error) throw answer;
        return answer;
      },
      out: (text) => recorded.out.push(text),
      err: (text) => recorded.err.push(text),
    },
  };
  return recorded;
}

const moved: ClaimResult = {
  outcome: "moved",
  privateIpId: "ocid1.privateip.x",
  vnicId: "ocid1.vnic.x",
  epoch: 3,
  leaseUntil: 0,
};

/** A program shaped like buildProgram's: global --json, an `oci` command, exitOverride. */
async function parse(args: string[], recorded: Recorded): Promise<number | undefined> {
  const program = new Command("floatip").option("--json").exitOverride();
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  const oci = program.command("oci");
  oci.exitOverride();
  registerOciMoveCommand(oci, recorded.deps).exitOverride();
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(args, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } finally {
    process.exitCode = saved;
  }
}

void test("oci move <vip> claims in normal mode and prints the outcome", async () => {
  const r = fake(moved);
  assert.equal(await parse(["oci", "move", "10.0.0.200"], r), 0);
  assert.deepEqual(r.calls, [{ vip: "10.0.0.200", mode: "normal" }]);
  assert.match(r.out.join(""), /^10\.0\.0\.200: moved to this instance \(epoch 3\)\n$/);
});

void test("--force claims in force mode; --json before or after the command prints one JSON line", async () => {
  for (const args of [
    ["oci", "move", "10.0.0.200", "--force", "--json"],
    ["--json", "oci", "move", "--force", "10.0.0.200"],
  ]) {
    const r = fake(moved);
    assert.equal(await parse(args, r), 0);
    assert.deepEqual(r.calls, [{ vip: "10.0.0.200", mode: "force" }]);
    const printed = JSON.parse(r.out.join("")) as Record<string, unknown>;
    assert.equal(printed["ok"], true);
    assert.equal(printed["outcome"], "moved");
    assert.equal(printed["mode"], "force");
  }
});

void test("a missing or non-IPv4 VIP is a usage error and nothing is claimed", async () => {
  const r = fake(moved);
  await assert.rejects(parse(["oci", "move"], r), /missing required argument/);
  await assert.rejects(parse(["oci", "move", "10.0.0.300"], r), UsageError);
  await assert.rejects(parse(["oci", "move", "vip.example"], r), UsageError);
  await assert.rejects(parse(["oci", "move", "10.0.0.2", "10.0.0.3"], r), /too many arguments/);
  assert.deepEqual(r.calls, []);
});

void test("held-elsewhere, lost-race and cloud errors exit 1 with a coded message", async () => {
  const held = fake({
    outcome: "held-elsewhere",
    holderVnicId: "v",
    holderInstanceId: "ocid1.instance.b",
    epoch: 4,
    leaseUntil: Date.UTC(2030, 0, 1),
  });
  assert.equal(await parse(["oci", "move", "10.0.0.200"], held), 1);
  assert.match(held.err.join(""), /^Error: FLOATIP_E_VIP_HELD_ELSEWHERE: .*ocid1\.instance\.b.*--force/);
  const race = fake({ outcome: "lost-race", holderVnicId: "v", holderInstanceId: "i", epoch: 5 });
  assert.equal(await runOciMove("10.0.0.200", {}, race.deps), 1);
  assert.match(race.err.join(""), /FLOATIP_E_OCI_CONFLICT/);
  const failing = fake(Object.assign(new Error("FLOATIP_E_OCI_AUTH: no"), { code: "FLOATIP_E_OCI_AUTH" }));
  assert.equal(await runOciMove("10.0.0.200", { json: true }, failing.deps), 1);
  const printed = JSON.parse(failing.out.join("")) as { ok: boolean; error: { code: string } };
  assert.deepEqual([printed.ok, printed.error.code], [false, "FLOATIP_E_OCI_AUTH"]);
});

void test("against the loopback emulator: creates, then moves, then finds the VIP already here", async () => {
  const emulator = await startTestEmulator();
  const moves: string[] = [];
  emulator.events.on("privateIpAssigned", (e: { instanceName?: string }) => moves.push(e.instanceName ?? ""));
  try {
    const base = emulator.urls[0] ?? "";
    const envFor = (node: string): NodeJS.ProcessEnv => ({
      FLOATIP_OCI_METADATA_URL: emulator.metadataUrlFor(node),
      FLOATIP_OCI_ENDPOINT: base,
      FLOATIP_OCI_FEDERATION_ENDPOINT: base,
      FLOATIP_LOG_LEVEL: "silent",
    });
    const run = async (node: string): Promise<{ code: number; out: string }> => {
      const r = fake(moved);
      const code = await runOciMove(
        TEST_VIP,
        { json: true },
        { ...r.deps, claim: claimFromEnv(envFor(node)) },
      );
      return { code, out: r.out.join("") };
    };
    const first = await run("node1");
    assert.equal(first.code, 0);
    assert.equal((JSON.parse(first.out) as { outcome: string }).outcome, "created");
    const second = await run("node2");
    assert.equal((JSON.parse(second.out) as { outcome: string }).outcome, "moved");
    const again = await run("node2");
    assert.equal((JSON.parse(again.out) as { outcome: string }).outcome, "already");
    assert.deepEqual(moves, ["node1", "node2"]);
  } finally {
    await emulator.close();
  }
});
