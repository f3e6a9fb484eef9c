import { test } from "node:test";
import assert from "node:assert/strict";
import { Command } from "commander";
import { OciCloudError } from "../cloud/oci/errors.ts";
import type { InspectResult } from "../cloud/oci/private-ip-mover.ts";
import { startTestEmulator, TEST_VIP } from "../cloud/oci/testing/emulated-cloud.ts";
import { claimFromEnv } from "./oci-move-command.ts";
import {
  inspectFromEnv,
  registerOciStatusCommand,
  runOciStatus,
  type OciStatusDeps,
} from "./oci-status-command.ts";
import { UsageError } from "./pcs-args.ts";

/** `floatip oci status`: exit codes and output with a fake inspection; the real read against the emulator. */

interface Recorded {
  deps: OciStatusDeps;
  calls: string[];
  out: string[];
  err: string[];
}

function fake(answer: InspectResult | Error): Recorded {
  const recorded: Recorded = {
    calls: [],
    out: [],
    err: [],
    deps: {
      inspect: async (vip) => {
        recorded.calls.push(vip);
        if (answer instanceof Error) throw answer;
        return answer;
      },
      out: (text) => recorded.out.push(text),
      err: (text) => recorded.err.push(text),
    },
  };
  return recorded;
}

function held(ours: boolean): InspectResult {
  return {
    state: "held",
    privateIpId: "ocid1.privateip.x",
    etag: "e1",
    holderVnicId: ours ? "ocid1.vnic.me" : "ocid1.vnic.other",
    holderInstanceId: ours ? "ocid1.instance.me" : "ocid1.instance.other",
    epoch: 4,
    leaseUntil: Date.UTC(2030, 0, 1),
    ours,
    displaced: false,
    tags: {},
    subnetId: "ocid1.subnet.x",
  };
}

async function parse(args: string[], recorded: Recorded): Promise<number | undefined> {
  const program = new Command("floatip").option("--json").exitOverride();
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  const oci = program.command("oci");
  oci.exitOverride();
  registerOciStatusCommand(oci, recorded.deps).exitOverride();
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(args, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } finally {
    process.exitCode = saved;
  }
}

void test("oci status: here exits 0, elsewhere and absent exit 2, each with its line", async () => {
  const here = fake(held(true));
  assert.equal(await parse(["oci", "status", "10.0.0.200"], here), 0);
  assert.match(
    here.out.join(""),
    /^10\.0\.0\.200: on this instance \(VNIC ocid1\.vnic\.me, epoch 4, lease until 2030/,
  );
  const there = fake(held(false));
  assert.equal(await parse(["oci", "status", "10.0.0.200"], there), 2);
  assert.match(there.out.join(""), /held by ocid1\.instance\.other/);
  const absent = fake({ state: "absent" });
  assert.equal(await parse(["oci", "status", "10.0.0.200", "--json"], absent), 2);
  assert.deepEqual(JSON.parse(absent.out.join("")), { vip: "10.0.0.200", state: "absent", ours: false });
});

void test("oci status: a cloud error is unknown (exit 3), a set-up error is an error (exit 1)", async () => {
  const outage = new OciCloudError("FLOATIP_E_OCI_API", "listPrivateIps answered 503", {
    detail: { status: 503 },
  });
  const unknown = fake({ state: "unknown", reason: outage.message, error: outage });
  assert.equal(await parse(["--json", "oci", "status", "10.0.0.200"], unknown), 3);
  const report = JSON.parse(unknown.out.join("")) as {
    state: string;
    error: { code: string; message: string };
  };
  assert.equal(report.state, "unknown");
  assert.equal(report.error.code, "FLOATIP_E_OCI_API");
  assert.equal(report.error.message, outage.message, "the message is not prefixed twice");
  const subnet = new OciCloudError("FLOATIP_E_VIP_NOT_IN_SUBNET", "10.9.0.1 is not in subnet 10.0.0.0/24");
  const wrong = fake({ state: "unknown", reason: subnet.message, error: subnet });
  assert.equal(await parse(["oci", "status", "10.9.0.1"], wrong), 1);
  assert.match(wrong.err.join(""), /^Error: FLOATIP_E_VIP_NOT_IN_SUBNET: /);
  const settings = fake(
    Object.assign(new Error("FLOATIP_E_OCI_SETTINGS_INVALID: bad url"), {
      code: "FLOATIP_E_OCI_SETTINGS_INVALID",
    }),
  );
  assert.equal(await runOciStatus("10.0.0.200", {}, settings.deps), 1);
});

void test("oci status: a missing or non-IPv4 VIP is a usage error and nothing is read", async () => {
  const r = fake(held(true));
  await assert.rejects(parse(["oci", "status"], r), /missing required argument/);
  await assert.rejects(parse(["oci", "status", "10.0.0.256"], r), UsageError);
  assert.deepEqual(r.calls, []);
});

void test("oci status against the loopback emulator: absent, here, elsewhere, then unknown in an outage", async () => {
  const emulator = await startTestEmulator();
  try {
    const base = emulator.urls[0] ?? "";
    const envFor = (node: string): NodeJS.ProcessEnv => ({
      FLOATIP_OCI_METADATA_URL: emulator.metadataUrlFor(node),
      FLOATIP_OCI_ENDPOINT: base,
      FLOATIP_OCI_FEDERATION_ENDPOINT: base,
      FLOATIP_LOG_LEVEL: "silent",
    });
    const status = async (node: string): Promise<{ code: number; report: Record<string, unknown> }> => {
      const r = fake({ state: "absent" });
      const code = await runOciStatus(
        TEST_VIP,
        { json: true },
        { ...r.deps, inspect: inspectFromEnv(envFor(node)) },
      );
      return { code, report: JSON.parse(r.out.join("")) as Record<string, unknown> };
    };
    assert.equal((await status("node1")).report["state"], "absent");
    assert.equal((await claimFromEnv(envFor("node1"))(TEST_VIP, "normal")).outcome, "created");
    const here = await status("node1");
    assert.deepEqual([here.code, here.report["state"], here.report["epoch"]], [0, "here", 1]);
    const there = await status("node2");
    assert.deepEqual([there.code, there.report["state"]], [2, "elsewhere"]);
    assert.match(String(there.report["holderInstanceId"]), /^ocid1\.instance\./);
    emulator.faults.outage(60_000);
    const unknown = await status("node1");
    assert.deepEqual([unknown.code, unknown.report["state"]], [3, "unknown"]);
  } finally {
    await emulator.close();
  }
});
