/** IPv4 addresses and CIDR blocks as 32-bit numbers: enough arithmetic for subnet membership and allocation. */
export interface Ipv4Cidr {
  network: number;
  prefixLength: number;
}

export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export function parseCidr(text: string): Ipv4Cidr | undefined {
  const [address, prefix] = text.split("/");
  if (address === undefined || prefix === undefined || !/^\d{1,2}$/.test(prefix)) return undefined;
  const prefixLength = Number(prefix);
  const value = parseIpv4(address);
  if (value === undefined || prefixLength > 32) return undefined;
  const size = 2 ** (32 - prefixLength);
  return { network: value - (value % size), prefixLength };
}

export function cidrSize(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefixLength);
}

export function cidrContains(cidr: Ipv4Cidr, address: string): boolean {
  const value = parseIpv4(address);
  return value !== undefined && value >= cidr.network && value < cidr.network + cidrSize(cidr);
}

/** Node reports IPv4 peers on dual-stack sockets as "::ffff:a.b.c.d". */
export function unmapIpv4(address: string | undefined): string | undefined {
  return address?.startsWith("::ffff:") ? address.slice(7) : address;
}
