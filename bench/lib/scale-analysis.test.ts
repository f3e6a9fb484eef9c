import assert from "node:assert/strict";
import { test } from "node:test";
import { analyseMove, operationOf, ratePerSecond } from "./scale-analysis.ts";

void test("analyseMove times the first move of each VIP away from the victim and compares to VIPs/R", () => {
  const r = analyseMove({
    lossAt: 1000,
    victim: "node2",
    victimVips: ["a", "b"],
    assignments: [
      { ip: "a", node: "node2", at: 500 },
      { ip: "a", node: "node1", at: 1500 },
      { ip: "b", node: "node2", at: 1600 },
      { ip: "b", node: "node3", at: 2200 },
      { ip: "b", node: "node1", at: 2600 },
    ],
    requests: [
      { time: 900, status: 200, op: "GET /privateIps" },
      { time: 1200, status: 429, op: "PUT /privateIps" },
      { time: 1400, status: 412, op: "PUT /privateIps" },
      { time: 2100, status: 200, op: "GET /privateIps" },
      { time: 2150, status: 200, op: "PUT /privateIps" },
      { time: 3000, status: 200, op: "GET /privateIps" },
    ],
    ratePerSecond: 2,
    detectMs: 200,
  });
  assert.equal(r.moved, 2);
  assert.equal(r.firstMoveMs, 500);
  assert.equal(r.allMovedMs, 1200);
  assert.equal(r.boundMs, 1000);
  assert.equal(r.ratio, 1.2);
  assert.equal(r.ratioAfterDetect, 1);
  assert.equal(r.coreCalls, 4);
  assert.equal(r.throttled, 1);
  assert.equal(r.preconditionFailed, 1, "a stale ETag's 412 is counted");
  assert.equal(r.callsPerVip, 2);
  assert.equal(r.ratioToCallBound, 0.8, "3 answered calls at 2/s: 1500 ms");
  assert.deepEqual(r.byOp, { "PUT /privateIps": 3, "GET /privateIps": 1 });
  assert.deepEqual(r.byCaller, { "?": 4 });
});

void test("analyseMove leaves the total out when a VIP never moved", () => {
  const r = analyseMove({
    lossAt: 0,
    victim: "node2",
    victimVips: ["a", "b"],
    assignments: [{ ip: "a", node: "node1", at: 10 }],
    requests: [],
    ratePerSecond: 1,
  });
  assert.equal(r.moved, 1);
  assert.equal(r.allMovedMs, undefined);
  assert.equal(r.ratio, undefined);
});

void test("operationOf drops the API version and the query and stands {id} for OCIDs", () => {
  assert.equal(operationOf("PUT", "/20160918/privateIps/ocid1.privateip.oc1.iad.x"), "PUT /privateIps/{id}");
  assert.equal(operationOf("GET", "/20160918/privateIps?subnetId=ocid1.subnet.x"), "GET /privateIps");
  assert.equal(ratePerSecond(10, 30, 2000), 10);
  assert.throws(() => ratePerSecond(0, 1, 0), RangeError);
});
