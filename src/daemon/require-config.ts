import { ApiError } from "../api/protocol.ts";
import type { ClusterConfig } from "../config/schema.ts";
import type { Daemon } from "./daemon.ts";

/** The running configuration, or the API error every cluster command gives before `cluster setup`. */
export function requireConfig(daemon: Daemon): ClusterConfig {
  const config = daemon.loadConfig();
  if (!config) {
    throw new ApiError(
      "FLOATIP_E_NO_CLUSTER",
      "this node is not in a cluster; run 'floatip cluster setup' first",
    );
  }
  return config;
}
