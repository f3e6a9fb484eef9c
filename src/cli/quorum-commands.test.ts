import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "./pcs-args.ts";
import {
  formatDeviceStatus,
  formatQuorumConfig,
  formatQuorumStatus,
  parseDeviceAdd,
  parseQuorumOptions,
  type QuorumStatusAnswer,
} from "./quorum-commands.ts";

void test("quorum update takes corosync's 0/1 and pcs's option names", () => {
  assert.deepEqual(parseQuorumOptions(["wait_for_all=0"]), { waitForAll: false });
  assert.deepEqual(parseQuorumOptions(["wait_for_all=1", "two_node=off"]), {
    waitForAll: true,
    twoNode: false,
  });
  assert.throws(() => parseQuorumOptions([]), UsageError);
  assert.throws(() => parseQuorumOptions(["wait_for_all=maybe"]), /give a value 0 or 1/);
  assert.throws(() => parseQuorumOptions(["auto_tie_breaker=1"]), /not supported by floatip/);
  assert.throws(() => parseQuorumOptions(["bogus=1"]), /unknown quorum option 'bogus'/);
});

void test("quorum device add parses pcs's model net grammar", () => {
  assert.deepEqual(parseDeviceAdd(["model", "net", "host=qnetd"]), {
    model: "net",
    host: "qnetd",
    algorithm: "ffsplit",
    port: 5403,
  });
  assert.deepEqual(parseDeviceAdd(["model", "net", "host=w", "algorithm=ffsplit", "port=6000"]).port, 6000);
  assert.throws(() => parseDeviceAdd(["host=w"]), /missing 'model net'/);
  assert.throws(() => parseDeviceAdd(["model", "disk", "host=w"]), /only 'net'/);
  assert.throws(() => parseDeviceAdd(["model", "net"]), /host= is required/);
  assert.throws(() => parseDeviceAdd(["model", "net", "host=w", "algorithm=lms"]), /implements ffsplit/);
  assert.throws(() => parseDeviceAdd(["model", "net", "host=w", "port=70000"]), /not a port number/);
  assert.throws(() => parseDeviceAdd(["model", "net", "host=w", "tls=on"]), /unknown model net option 'tls'/);
  assert.throws(
    () => parseDeviceAdd(["model", "net", "host=w", "heuristics"]),
    /heuristics are not supported/,
  );
});

const device = {
  vote: "granted" as const,
  viewId: "3",
  members: [1, 2],
  holder: [1, 2],
  grantLeftMs: 1800,
  lastAnswerAgoMs: 40,
  lastVerdict: "granted" as const,
  rejected: {},
  host: "witness",
  addr: "10.0.0.13",
  port: 5403,
  algorithm: "ffsplit",
  sent: 10,
  received: 9,
  rejectedPackets: { "bad-mac": 1 },
};

void test("quorum status reads like corosync-quorumtool, with the Qdevice row", () => {
  const answer: QuorumStatusAnswer = {
    cluster: "web",
    nodeId: 1,
    nodes: [
      { id: 1, name: "node1", online: true, local: true },
      { id: 2, name: "node2", online: false, local: false },
    ],
    options: { twoNode: false, waitForAll: false },
    quorum: {
      quorate: true,
      pending: false,
      expectedVotes: 3,
      totalVotes: 2,
      quorum: 2,
      flags: ["Quorate", "Qdevice"],
      waitingForAll: false,
      device,
    },
  };
  const text = formatQuorumStatus(answer, new Date(0));
  assert.match(text, /^Quorate:\s+Yes$/m);
  assert.match(text, /^Expected votes:\s+3$/m);
  assert.match(text, /^Total votes:\s+2$/m);
  assert.match(text, /^Quorum:\s+2$/m);
  assert.match(text, /^Flags:\s+Quorate Qdevice$/m);
  assert.match(text, /^\s+1\s+1\s+A,V,NMW node1 \(local\)$/m);
  assert.match(text, /^\s+0\s+1\s+Qdevice$/m);
  assert.doesNotMatch(text, /node2/);
  const blocked = formatQuorumStatus(
    {
      ...answer,
      quorum: {
        ...answer.quorum,
        quorate: false,
        flags: ["2Node", "WaitForAll"],
        waitingForAll: true,
        device: null,
      },
    },
    new Date(0),
  );
  assert.match(blocked, /^Quorum:\s+2 Activity blocked$/m);
  assert.match(blocked, /quorum unblock/);
});

void test("quorum config and device status", () => {
  const config = formatQuorumConfig({
    options: { twoNode: true },
    effective: { twoNode: true, waitForAll: true },
    device: null,
  });
  assert.equal(config, "Options:\n  two_node: 1\n  wait_for_all: 1 (from two_node)");
  const withDevice = formatQuorumConfig({
    options: { twoNode: true, waitForAll: false },
    effective: { twoNode: false, waitForAll: false },
    device: { model: "net", algorithm: "ffsplit", host: "witness", addr: "10.0.0.13", port: 5403 },
  });
  assert.match(
    withDevice,
    /wait_for_all: 0\nDevice:\n {2}Model: net\n {4}algorithm: ffsplit\n {4}host: witness/,
  );
  const status = formatDeviceStatus(device, true);
  assert.match(status, /^Vote:\s+ACK \(ACK\)$/m);
  assert.match(status, /^State:\s+Connected$/m);
  assert.match(status, /^Rejected:\s+bad-mac=1$/m);
  assert.match(
    formatDeviceStatus({ ...device, vote: "denied", lastAnswerAgoMs: null }, false),
    /NACK[\s\S]*Not connected/,
  );
});
