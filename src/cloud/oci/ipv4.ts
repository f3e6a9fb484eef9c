/** IPv4 addresses as unsigned 32-bit numbers, and CIDR blocks, for matching VIPs to subnets. */

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

export function cidrContains(cidr: Ipv4Cidr, address: string): boolean {
  const value = parseIpv4(address);
  if (value === undefined) return false;
  return value - (value % blockSize(cidr.prefixLength)) === cidr.network;
}
