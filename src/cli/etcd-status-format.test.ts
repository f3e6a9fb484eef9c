import assert from "node:assert/strict";
import { test } from "node:test";
import type { StatusSnapshot } from "../api/status-types.ts";
import { formatStatus } from "./status-format.ts";

const base: StatusSnapshot = {
  clusterName: "c",
  nodeName: "n1",
  configured: true,
  running: true,
  dc: "n2",
  quorate: false,
  online: ["n1", "n2"],
  offline: [],
  leaving: [],
  nodesConfigured: 2,
  zones: {},
  resources: [],
  notes: [],
  configEpoch: 3,
  lastChange: null,
  configProblem: null,
  daemon: { pid: 1, startedAt: "2026-01-01T00:00:00Z", version: "0.1.0" },
  membership: null,
  config: null,
};

const coordination = {
  kind: "etcd" as const,
  endpoints: ["http://10.0.0.5:2379", "http://10.0.0.6:2379"],
  leaseId: "42",
  leader: "n2",
  owners: {},
};

void test("coordination=etcd: a Coordination line, and a FROZEN line while etcd is unreachable", () => {
  const frozen = formatStatus(
    {
      ...base,
      frozen: true,
      coordination: {
        ...coordination,
        frozen: { since: "2026-01-01T00:00:05Z", reason: "etcd unreachable for 2010 ms" },
      },
    },
    { full: false, daemonStatus: [] },
  );
  assert.match(
    frozen,
    /^ {2}\* Coordination: etcd \(http:\/\/10\.0\.0\.5:2379, http:\/\/10\.0\.0\.6:2379\), lease 42$/m,
  );
  assert.match(
    frozen,
    /^ {2}\* FROZEN since Thu, 01 Jan 2026 00:00:05 GMT: etcd unreachable for 2010 ms; VIPs stay where they are, nothing starts, stops or moves$/m,
  );
  const thawed = formatStatus(
    { ...base, quorate: true, frozen: false, coordination: { ...coordination, frozen: null } },
    { full: false, daemonStatus: [] },
  );
  assert.match(thawed, /Coordination: etcd/);
  assert.doesNotMatch(thawed, /FROZEN/);
});

void test("built-in membership: no coordination lines", () => {
  const text = formatStatus(base, { full: false, daemonStatus: [] });
  assert.doesNotMatch(text, /Coordination|FROZEN/);
});
