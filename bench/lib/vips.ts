import { callApi } from "../../src/api/client.ts";

/**
 * VIP addresses for benches with many VIPs: 10.0.0.51 upwards, above the node addresses of the bed
 * (10.0.0.11 + i for at most 38 nodes) and below the broadcast address.
 */
export function vipAddresses(count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 200) {
    throw new RangeError(`a bench holds 1 to 200 VIPs on 10.0.0.0/24, not ${count}`);
  }
  return Array.from({ length: count }, (_, i) => `10.0.0.${51 + i}`);
}

export const IPADDR2 = "ocf:heartbeat:IPaddr2";

/**
 * Creates IPaddr2 VIPs through the admin API of a node's unix socket, as `floatip resource create` does,
 * without one CLI process per VIP (200 process starts would dominate a bench's set-up time).
 * ops: [] leaves the monitor interval at the daemon's defaults.
 */
export async function createVips(socketPath: string, vips: readonly string[], prefix = "VIP"): Promise<void> {
  for (const [i, ip] of vips.entries()) {
    await callApi({ socketPath }, "POST", "/v1/resource/create", {
      id: `${prefix}_${i + 1}`,
      type: IPADDR2,
      params: { ip, cidr_netmask: "24" },
      meta: {},
      ops: [],
      disabled: false,
    });
  }
}
