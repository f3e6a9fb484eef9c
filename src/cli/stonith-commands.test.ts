import { test } from "node:test";
import assert from "node:assert/strict";
import type { StatusSnapshot } from "../api/status-types.ts";
import { formatFenceHistory, formatStonithConfig, formatStonithStatus } from "./stonith-commands.ts";
import { formatStatus } from "./status-format.ts";

void test("stonith config prints each device as pcs prints a stonith primitive", () => {
  assert.equal(
    formatStonithConfig([
      {
        id: "OciFence",
        type: "fence_oci",
        params: { pcmk_host_map: "node1:ocid1.instance.a;node2:ocid1.instance.b" },
        meta: {},
        ops: [{ name: "monitor", intervalMs: 60_000, timeoutMs: 20_000 }],
      },
    ]),
    [
      "Resource: OciFence (class=stonith type=fence_oci)",
      "  Attributes: OciFence-instance_attributes",
      "    pcmk_host_map=node1:ocid1.instance.a;node2:ocid1.instance.b",
      "  Operations:",
      "    monitor: OciFence-monitor-interval-60s",
      "      interval=60s timeout=20s",
    ].join("\n"),
  );
});

void test("stonith status lists devices with crm_mon's tabs, or says there are none with the warning", () => {
  assert.equal(
    formatStonithStatus({ stonith: [{ id: "F", type: "fence_oci", startedOn: "node2" }], warnings: [] }),
    "  * F\t(stonith:fence_oci):\t Started node2",
  );
  assert.equal(
    formatStonithStatus({ stonith: [], warnings: ["No stonith devices and stonith-enabled is not false"] }),
    "Warning: No stonith devices and stonith-enabled is not false\nNO stonith devices configured",
  );
});

void test("stonith history shows each operation, newest first, with its attempts", () => {
  const text = formatFenceHistory([
    {
      target: "node1",
      action: "reboot",
      reason: "policy",
      origin: "node2",
      state: "done",
      device: "F",
      requestedAt: Date.parse("2026-01-01T00:00:00Z"),
      completedAt: Date.parse("2026-01-01T00:00:02Z"),
      attempts: [
        { device: "F", attempt: 1, startedAt: 0, durationMs: 2000, ok: true, message: "RESET done" },
      ],
      message: "RESET done",
    },
  ]);
  assert.equal(
    text,
    "reboot of node1 successful: delegate=F, origin=node2, reason=policy, requested='2026-01-01T00:00:00.000Z', completed='2026-01-01T00:00:02.000Z'\n" +
      "  attempt 1 with F: ok in 2000 ms: RESET done",
  );
  assert.equal(formatFenceHistory([]), "No fencing history");
});

void test("floatip status shows fence devices, UNCLEAN nodes and the stonith warning as pcs status does", () => {
  const snapshot = {
    clusterName: "c",
    nodeName: "node2",
    configured: true,
    running: true,
    dc: "node2",
    quorate: true,
    online: ["node2"],
    offline: ["node1"],
    leaving: [],
    nodesConfigured: 2,
    zones: {},
    resources: [
      {
        id: "App",
        type: "ocf:heartbeat:Dummy",
        runningOn: [],
        failedOn: [],
        unknownOn: [],
        disabled: false,
        failCounts: {},
        messages: {},
      },
    ],
    notes: [],
    configEpoch: 3,
    lastChange: null,
    configProblem: null,
    daemon: { pid: 1, startedAt: "", version: "1" },
    membership: null,
    config: null,
    stonith: [{ id: "F", type: "fence_oci", startedOn: "node2" }],
    fencing: { unclean: ["node1"], pending: ["node1"], fenced: [] },
    warnings: ["No stonith devices and stonith-enabled is not false"],
  } satisfies StatusSnapshot;
  const text = formatStatus(snapshot, { full: false, daemonStatus: [] });
  assert.match(text, /\nWARNINGS:\nNo stonith devices and stonith-enabled is not false\n/);
  assert.match(text, /\n {2}\* Node node1: UNCLEAN \(offline\)\n/);
  assert.doesNotMatch(text, /OFFLINE: \[ node1 \]/);
  assert.match(
    text,
    /\n {2}\* F\t\(stonith:fence_oci\):\t Started node2\n {2}\* App\t\(ocf::heartbeat:Dummy\):\t Stopped/,
  );
});
