/**
 * IPv4 addresses as unsigned 32-bit numbers, and CIDR blocks: the arithmetic behind a VIP's subnet (which
 * VNIC or interface it belongs to), IPaddr2's netmask, and the emulator's address allocation.
 */

const octet = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** The address as an unsigned 32-bit number, or undefined when the text is not dotted-quad IPv4. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!octet.test(part)) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export interface Ipv4Cidr {
  readonly network: number;
  readonly prefixLength: number;
  readonly text: string;
}

export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const [address, prefix, extra] = text.split("/");
  if (address === undefined || prefix === undefined || extra !== undefined || !/^\d{1,2}$/.test(prefix)) {
    return undefined;
  }
  const base = parseIpv4(address);
  const prefixLength = Number(prefix);
  if (base === undefined || prefixLength > 32) return undefined;
  return { network: base - (base % blockSize(prefixLength)), prefixLength, text };
}

function blockSize(prefixLength: number): number {
  return 2 ** (32 - prefixLength);
}

/** How many addresses the block spans, network and broadcast included. */
export function cidrSize(cidr: Ipv4Cidr): number {
  return blockSize(cidr.prefixLength);
}

export function cidrContains(cidr: Ipv4Cidr, address: string): boolean {
  const value = parseIpv4(address);
  if (value === undefined) return false;
  return value - (value % blockSize(cidr.prefixLength)) === cidr.network;
}

/** Whether `address` is in the subnet of `network`/`prefix` (an interface's address and its prefix length). */
export function subnetContains(network: string, prefix: number, address: string): boolean {
  const cidr = parseIpv4Cidr(`${network}/${prefix}`);
  return cidr !== undefined && cidrContains(cidr, address);
}

/** The prefix length of a dotted netmask ("255.255.255.0" is 24), or undefined for anything else. */
export function netmaskPrefixLength(text: string): number | undefined {
  const value = parseIpv4(text);
  if (value === undefined) return undefined;
  const bits = value.toString(2).padStart(32, "0");
  if (!/^1+0*$/.test(bits)) return undefined;
  return bits.indexOf("0") === -1 ? 32 : bits.indexOf("0");
}

/** Node reports IPv4 peers on dual-stack sockets as "::ffff:a.b.c.d". */
export function unmapIpv4(address: string | undefined): string | undefined {
  return address?.startsWith("::ffff:") ? address.slice(7) : address;
}
