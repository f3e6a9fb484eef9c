import assert from "node:assert/strict";
import { test } from "node:test";
import { missingGrants } from "./iam-permissions.ts";
import { DEFAULT_PERMISSIONS } from "./seed.ts";

void test("the default policy allows every operation floatip performs", () => {
  for (const op of [
    "GetPrivateIp",
    "ListPrivateIps",
    "CreatePrivateIp",
    "UpdatePrivateIp",
    "DeletePrivateIp",
  ] as const) {
    assert.deepEqual(missingGrants(op, DEFAULT_PERMISSIONS), [], op);
  }
  for (const op of [
    "GetVnic",
    "GetSubnet",
    "ListVnicAttachments",
    "GetInstance",
    "InstanceAction",
  ] as const) {
    assert.deepEqual(missingGrants(op, DEFAULT_PERMISSIONS), [], op);
  }
});

void test("moving a private IP also needs use vnics; reading it does not", () => {
  assert.deepEqual(missingGrants("UpdatePrivateIp", ["use private-ips"]), ["use vnics"]);
  assert.deepEqual(missingGrants("GetPrivateIp", ["use private-ips"]), []);
  assert.deepEqual(missingGrants("CreatePrivateIp", ["use private-ips", "use vnics"]), ["use subnets"]);
});

void test("a weaker verb does not cover a stronger one; a stronger verb and a family do", () => {
  assert.deepEqual(missingGrants("InstanceAction", ["read instances"]), ["use instances"]);
  assert.deepEqual(missingGrants("InstanceAction", ["manage instances"]), []);
  assert.deepEqual(missingGrants("UpdatePrivateIp", ["use virtual-network-family"]), []);
  assert.deepEqual(missingGrants("GetInstance", ["inspect instances"]), ["read instances"]);
});

void test("accepts full policy statements", () => {
  const policy = [
    "Allow dynamic-group ha-vip-nodes to use private-ips in compartment ha",
    "Allow dynamic-group ha-vip-nodes to use vnics in compartment ha",
  ];
  assert.deepEqual(missingGrants("UpdatePrivateIp", policy), []);
});
