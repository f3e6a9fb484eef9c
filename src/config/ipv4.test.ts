import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  cidrContains,
  cidrSize,
  formatIpv4,
  isIpv4,
  netmaskPrefixLength,
  parseIpv4,
  parseIpv4Cidr,
  subnetContains,
  unmapIpv4,
} from "./ipv4.ts";

void test("dotted-quad IPv4 only: no leading zeros, no fifth part, nothing past 255", () => {
  assert.equal(parseIpv4("10.0.0.200"), 10 * 2 ** 24 + 200);
  assert.equal(parseIpv4("255.255.255.255"), 2 ** 32 - 1);
  assert.equal(parseIpv4("0.0.0.0"), 0);
  for (const bad of [
    "",
    "10.0.0",
    "10.0.0.0.1",
    "10.0.0.256",
    "010.0.0.1",
    "10.0.0.-1",
    "10.0.0.1 ",
    "a.b.c.d",
    "::1",
  ])
    assert.equal(isIpv4(bad), false, bad);
});

void test("every address survives format and parse", () => {
  fc.assert(
    fc.property(fc.ipV4(), (text) => formatIpv4(parseIpv4(text) ?? -1) === text),
    { numRuns: 500 },
  );
});

void test("a CIDR block knows its network, size and members", () => {
  const subnet = parseIpv4Cidr("10.0.0.77/24");
  assert.deepEqual(subnet, { network: parseIpv4("10.0.0.0"), prefixLength: 24, text: "10.0.0.77/24" });
  assert.ok(subnet);
  assert.equal(cidrSize(subnet), 256);
  assert.equal(cidrContains(subnet, "10.0.0.255"), true);
  assert.equal(cidrContains(subnet, "10.0.1.0"), false);
  assert.equal(cidrContains(subnet, "not an address"), false);
  for (const bad of ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/24/1", "10.0.0/24", "10.0.0.0/x"])
    assert.equal(parseIpv4Cidr(bad), undefined, bad);
  assert.equal(subnetContains("192.168.5.9", 0, "10.0.0.1"), true, "a /0 holds every address");
  assert.equal(subnetContains("10.0.0.11", 32, "10.0.0.11"), true);
  assert.equal(subnetContains("10.0.0.11", 32, "10.0.0.12"), false);
});

void test("containment agrees with comparing the leading prefix bits", () => {
  fc.assert(
    fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (a, b, prefix) => {
      const bits = (text: string) => (parseIpv4(text) ?? 0).toString(2).padStart(32, "0").slice(0, prefix);
      return subnetContains(a, prefix, b) === (bits(a) === bits(b));
    }),
    { numRuns: 1000 },
  );
});

void test("a dotted netmask is a prefix length only when its ones come first", () => {
  assert.equal(netmaskPrefixLength("255.255.255.0"), 24);
  assert.equal(netmaskPrefixLength("255.255.255.255"), 32);
  assert.equal(netmaskPrefixLength("255.255.254.0"), 23);
  assert.equal(netmaskPrefixLength("255.0.255.0"), undefined);
  assert.equal(netmaskPrefixLength("0.0.0.0"), undefined);
  assert.equal(netmaskPrefixLength("24"), undefined);
});

void test("an IPv4-mapped socket address reads as plain IPv4", () => {
  assert.equal(unmapIpv4("::ffff:10.0.0.11"), "10.0.0.11");
  assert.equal(unmapIpv4("10.0.0.11"), "10.0.0.11");
  assert.equal(unmapIpv4("::1"), "::1");
  assert.equal(unmapIpv4(undefined), undefined);
});
