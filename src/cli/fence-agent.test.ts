import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { XMLParser } from "fast-xml-parser";
import { OciCloudError } from "../cloud/oci/errors.ts";
import type { InstancePower, PowerAction } from "../cloud/oci/instance-power.ts";
import {
  EXIT,
  FenceUsageError,
  fenceMetadata,
  parseCommandLine,
  parseInput,
  parseStdinOptions,
  runFenceAction,
  validateOptions,
  type FenceCloud,
} from "./fence-agent.ts";

void describe("options", () => {
  void test("stdin: name=value lines, comments, quotes, both spellings, port and option aliases", () => {
    const { options, warnings } = parseStdinOptions(
      [
        "# from stonith-ng",
        "",
        "option=off",
        'port="ocid1.instance.oc1..abc"',
        "power-timeout=30",
        "config_file=/etc/oci/config",
        "verbose=yes",
        "nodename=node2",
        "pcmk_host_map=node1:a",
      ].join("\n"),
    );
    assert.deepEqual(options, {
      action: "off",
      plug: "ocid1.instance.oc1..abc",
      power_timeout: "30",
      config_file: "/etc/oci/config",
      verbose: "1",
    });
    assert.deepEqual(warnings, ["Parse error: Ignoring unknown option 'pcmk_host_map=node1:a'"]);
  });

  void test("stdin: a boolean without a value is ignored with a warning", () => {
    const { options, warnings } = parseStdinOptions("quiet=maybe\n");
    assert.deepEqual(options, {});
    assert.match(warnings[0] ?? "", /Ignoring option 'quiet'/);
  });

  void test("command line: short, clustered, attached and long forms", () => {
    assert.deepEqual(
      parseCommandLine(["-o", "status", "-nnode2", "-vq", "--power-timeout=5", "--profile", "ops"]).options,
      {
        action: "status",
        plug: "node2",
        verbose: "1",
        quiet: "1",
        power_timeout: "5",
        profile: "ops",
      },
    );
    assert.deepEqual(parseCommandLine(["--action=list", "-C", ";", "extra"]), {
      options: { action: "list", separator: ";" },
      warnings: ["Unused arguments on command line: extra"],
    });
  });

  void test("command line: unknown options and missing values are usage errors", () => {
    assert.throws(() => parseCommandLine(["--bogus"]), FenceUsageError);
    assert.throws(() => parseCommandLine(["-x"]), FenceUsageError);
    assert.throws(() => parseCommandLine(["-o"]), /option -o requires argument/);
    assert.throws(() => parseCommandLine(["--plug"]), /option --plug requires argument/);
    assert.throws(() => parseCommandLine(["--verbose=1"]), /must not have an argument/);
    // The deprecated name is for stdin only, as in fencing.py.
    assert.throws(() => parseCommandLine(["--port=x"]), FenceUsageError);
  });

  void test("arguments win over stdin; stdin is read only without arguments", () => {
    let read = 0;
    const stdin = () => {
      read += 1;
      return "action=on\nplug=a\n";
    };
    assert.equal(parseInput(["-o", "status", "-n", "b"], stdin).options["action"], "status");
    assert.equal(read, 0);
    assert.equal(parseInput([], stdin).options["action"], "on");
    assert.equal(read, 1);
  });

  void test("validation: defaults, meta-data alias, plug required for power actions, bad values", () => {
    const v = validateOptions({ plug: "n1" });
    assert.equal(v.action, "reboot");
    assert.equal(v.method, "onoff");
    assert.equal(v.powerTimeoutMs, 60_000);
    assert.equal(v.statusSleepMs, 1000);
    assert.equal(v.separator, ",");
    assert.equal(validateOptions({ action: "meta-data" }).action, "metadata");
    assert.equal(validateOptions({ action: "LIST" }).action, "list");
    assert.throws(() => validateOptions({ action: "off" }), /plug/);
    assert.throws(() => validateOptions({ action: "fry", plug: "a" }), /not one of/);
    assert.throws(() => validateOptions({ method: "slow", plug: "a" }), /onoff or cycle/);
    assert.throws(() => validateOptions({ power_timeout: "soon", plug: "a" }), /not a number of seconds/);
  });
});

void describe("metadata", () => {
  const xml = fenceMetadata();

  void test(
    "validates against fence-agents' metadata.rng",
    { skip: !existsSync("/usr/share/cluster/relaxng/metadata.rng") && "fence-agents is not installed" },
    () => {
      const dir = mkdtempSync(join(tmpdir(), "fence-meta-"));
      try {
        const file = join(dir, "metadata.xml");
        writeFileSync(file, xml);
        execFileSync("xmllint", ["--noout", "--relaxng", "/usr/share/cluster/relaxng/metadata.rng", file], {
          stdio: "pipe",
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  void test("has the parameters and actions Pacemaker looks for", () => {
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml) as {
      "resource-agent": {
        name: string;
        parameters: {
          parameter: { name: string; required: string; deprecated?: string; obsoletes?: string }[];
        };
        actions: { action: { name: string }[] };
      };
    };
    const agent = doc["resource-agent"];
    assert.equal(agent.name, "fence_floatip_oci");
    const params = Object.fromEntries(agent.parameters.parameter.map((p) => [p.name, p]));
    assert.equal(params["plug"]?.required, "1");
    assert.equal(params["plug"]?.obsoletes, "port");
    assert.equal(params["port"]?.deprecated, "1");
    for (const name of [
      "action",
      "config_file",
      "profile",
      "compartment",
      "method",
      "power_timeout",
      "delay",
    ])
      assert.ok(params[name], `parameter ${name}`);
    assert.deepEqual(
      agent.actions.action.map((a) => a.name),
      ["on", "off", "reboot", "status", "list", "list-status", "monitor", "metadata", "validate-all"],
    );
  });
});

/** An instance table behind InstancePower; STOP and START land at once unless `lag` holds them in transit. */
class FakePower implements InstancePower {
  readonly calls: string[] = [];
  lag = false;
  failNext: Error | null = null;
  constructor(readonly instances: { id: string; displayName: string; lifecycleState: string }[]) {}

  private find(id: string) {
    const i = this.instances.find((x) => x.id === id);
    if (!i) throw new OciCloudError("FLOATIP_E_OCI_NOT_AUTHORIZED", `instance ${id} not found`);
    return i;
  }
  async instanceAction(id: string, action: PowerAction): Promise<string> {
    this.calls.push(`${action} ${id}`);
    if (this.failNext) throw this.failNext;
    const i = this.find(id);
    const target = { STOP: "STOPPED", START: "RUNNING", RESET: "RUNNING" }[action];
    i.lifecycleState = this.lag ? { STOP: "STOPPING", START: "STARTING", RESET: "STARTING" }[action] : target;
    return i.lifecycleState;
  }
  async instanceState(id: string): Promise<string> {
    return this.find(id).lifecycleState;
  }
  async listInstances(compartmentId: string) {
    this.calls.push(`list ${compartmentId}`);
    return this.instances.map((i) => ({ ...i }));
  }
  async waitForState(id: string, wanted: string[], timeoutMs: number): Promise<string> {
    const state = this.find(id).lifecycleState;
    if (wanted.includes(state)) return state;
    throw new OciCloudError(
      "FLOATIP_E_OCI_TIMEOUT",
      `instance ${id} did not reach ${wanted.join(" or ")} within ${timeoutMs} ms`,
    );
  }
}

void describe("actions", () => {
  const ID1 = "ocid1.instance.oc1..node1";
  const ID2 = "ocid1.instance.oc1..node2";
  const setup = (
    extra: Record<string, string> = {},
    compartment: string | null = "ocid1.compartment.oc1..c",
  ) => {
    const power = new FakePower([
      { id: ID1, displayName: "node1", lifecycleState: "RUNNING" },
      { id: ID2, displayName: "node2", lifecycleState: "RUNNING" },
      { id: "ocid1.instance.oc1..old", displayName: "node2", lifecycleState: "TERMINATED" },
    ]);
    const cloud: FenceCloud = { power, defaultCompartment: async () => compartment ?? undefined };
    const out: string[] = [];
    const err: string[] = [];
    const slept: number[] = [];
    const io = {
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
      sleep: async (ms: number) => {
        slept.push(ms);
      },
    };
    const run = (options: Record<string, string>) =>
      runFenceAction(validateOptions({ ...extra, ...options }), cloud, io);
    return { power, out, err, slept, run };
  };

  void test("off by display name, status 2, on, status 0", async () => {
    const { power, out, run } = setup();
    assert.equal(await run({ action: "off", plug: "node2" }), EXIT.ok);
    assert.equal(await run({ action: "status", plug: "node2" }), EXIT.statusOff);
    assert.equal(await run({ action: "on", plug: ID2 }), EXIT.ok);
    assert.equal(await run({ action: "status", plug: ID2 }), EXIT.ok);
    assert.deepEqual(out, ["Success: Powered OFF", "Status: OFF", "Success: Powered ON", "Status: ON"]);
    assert.deepEqual(
      power.calls.filter((c) => !c.startsWith("list")),
      [`STOP ${ID2}`, `START ${ID2}`],
    );
  });

  void test("already in the asked state: nothing is sent", async () => {
    const { power, out, run } = setup();
    assert.equal(await run({ action: "on", plug: ID1 }), EXIT.ok);
    assert.deepEqual(out, ["Success: Already ON"]);
    assert.deepEqual(power.calls, []);
  });

  void test("reboot: onoff stops and starts after the delay; cycle resets", async () => {
    const { power, out, slept, run } = setup();
    assert.equal(await run({ action: "reboot", plug: ID1, delay: "2" }), EXIT.ok);
    assert.deepEqual(power.calls, [`STOP ${ID1}`, `START ${ID1}`]);
    assert.deepEqual(slept, [2000]);
    assert.equal(await run({ action: "reboot", plug: ID1, method: "cycle" }), EXIT.ok);
    assert.deepEqual(power.calls.at(-1), `RESET ${ID1}`);
    assert.deepEqual(out, ["Success: Rebooted", "Success: Rebooted"]);
  });

  void test("an instance that does not stop in time is exit 7, one that does not start is 6", async () => {
    const { power, err, run } = setup({ power_timeout: "1" });
    power.lag = true;
    assert.equal(await run({ action: "off", plug: ID1 }), EXIT.waitingOff);
    assert.match(err.at(-1) ?? "", /^Error: FLOATIP_E_FENCE_TIMEOUT: Timed out waiting to power OFF/);
    const i = power.instances[0];
    if (i) i.lifecycleState = "STOPPED";
    assert.equal(await run({ action: "on", plug: ID1 }), EXIT.waitingOn);
  });

  void test("status of an instance in transit is an error, not a guess", async () => {
    const { power, err, run } = setup();
    const i = power.instances[1];
    if (i) i.lifecycleState = "STOPPING";
    assert.equal(await run({ action: "status", plug: ID2 }), EXIT.error);
    assert.match(err[0] ?? "", /FLOATIP_E_FENCE_STATE: .* is STOPPING/);
  });

  void test("list and list-status skip terminated instances and use the separator", async () => {
    const { power, out, run } = setup();
    const i = power.instances[1];
    if (i) i.lifecycleState = "STOPPED";
    assert.equal(await run({ action: "list" }), EXIT.ok);
    assert.equal(await run({ action: "list-status", separator: ";" }), EXIT.ok);
    assert.deepEqual(out, [`${ID1},node1`, `${ID2},node2`, `${ID1};node1;ON`, `${ID2};node2;OFF`]);
    assert.ok(power.calls.includes("list ocid1.compartment.oc1..c"));
  });

  void test("names: unknown or ambiguous ones are errors; terminated namesakes do not count", async () => {
    const { power, err, run } = setup();
    assert.equal(await run({ action: "status", plug: "node9" }), EXIT.error);
    assert.match(err.at(-1) ?? "", /FLOATIP_E_FENCE_PLUG: no instance named 'node9'/);
    power.instances.push({ id: "ocid1.instance.oc1..twin", displayName: "node1", lifecycleState: "RUNNING" });
    assert.equal(await run({ action: "status", plug: "node1" }), EXIT.error);
    assert.match(err.at(-1) ?? "", /2 instances are named 'node1'/);
  });

  void test("without a compartment (config file auth) names and list need compartment=", async () => {
    const { err, run } = setup({}, null);
    assert.equal(await run({ action: "list" }), EXIT.error);
    assert.match(err[0] ?? "", /FLOATIP_E_FENCE_ARGS: list needs compartment=/);
    assert.equal(await run({ action: "list", compartment: "ocid1.compartment.oc1..x" }), EXIT.ok);
  });

  void test("cloud errors are one coded line and exit 1; monitor checks the API", async () => {
    const { power, err, run } = setup();
    assert.equal(await run({ action: "monitor" }), EXIT.ok);
    power.failNext = new OciCloudError("FLOATIP_E_OCI_API", "InternalError (500)");
    assert.equal(await run({ action: "off", plug: ID1 }), EXIT.error);
    assert.deepEqual(err, ["Error: FLOATIP_E_OCI_API: InternalError (500)"]);
  });
});
