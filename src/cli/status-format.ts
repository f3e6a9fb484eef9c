import type { StatusSnapshot } from "../api/status-types.ts";

/** `floatip status` in the layout of `pcs status` (crm_mon inside), so operators read it as they always did. */
export function formatStatus(s: StatusSnapshot, options: { full: boolean; daemonStatus: string[] }): string {
  const lines: string[] = [];
  lines.push(`Cluster name: ${s.clusterName ?? "(none)"}`);
  const warnings = [...(s.configProblem ? [s.configProblem] : []), ...(s.warnings ?? [])];
  if (warnings.length > 0) lines.push("", "WARNINGS:", ...warnings);
  if (!s.running) {
    lines.push("", "Error: cluster is not currently running on this node");
  } else {
    lines.push("Cluster Summary:");
    lines.push("  * Stack: floatip");
    lines.push(
      s.dc
        ? `  * Current DC: ${s.dc} (version ${s.daemon.version}) - partition ${s.quorate ? "with" : "WITHOUT"} quorum`
        : "  * Current DC: NONE",
    );
    lines.push(...coordinationLines(s));
    lines.push(...quorumLines(s));
    lines.push(`  * Last updated: ${new Date().toUTCString()} on ${s.nodeName ?? "?"}`);
    if (s.lastChange)
      lines.push(
        `  * Last change:  ${new Date(s.lastChange.at).toUTCString()} (epoch ${s.lastChange.epoch})`,
      );
    lines.push(`  * ${s.nodesConfigured} node${s.nodesConfigured === 1 ? "" : "s"} configured`);
    const disabled = s.resources.filter((r) => r.disabled).length;
    lines.push(
      `  * ${s.resources.length} resource instance${s.resources.length === 1 ? "" : "s"} configured${disabled ? ` (${disabled} DISABLED)` : ""}`,
    );
    lines.push("", "Node List:");
    const online = s.online.filter((n) => !s.leaving.includes(n));
    if (online.length > 0) lines.push(`  * Online: [ ${online.join(" ")} ]`);
    for (const n of s.leaving) lines.push(`  * Node ${n}: pending (shutting down)`);
    const unclean = s.fencing?.unclean ?? [];
    for (const n of unclean) lines.push(`  * Node ${n}: UNCLEAN (offline)`);
    const offline = s.offline.filter((n) => !unclean.includes(n));
    if (offline.length > 0) lines.push(`  * OFFLINE: [ ${offline.join(" ")} ]`);
    lines.push("", "Full List of Resources:");
    const devices = s.stonith ?? [];
    if (s.resources.length === 0 && devices.length === 0) lines.push("  * No resources");
    for (const d of devices)
      lines.push(`  * ${d.id}\t(stonith:${d.type}):\t ${d.startedOn ? `Started ${d.startedOn}` : "Stopped"}`);
    for (const r of s.resources) lines.push(`  * ${r.id}\t(${agentLabel(r.type)}):\t ${resourceState(r)}`);
    const failures = s.resources.filter((r) => Object.keys(r.failCounts).length > 0);
    if (failures.length > 0) {
      lines.push("", "Migration Summary:");
      for (const r of failures) {
        for (const [node, count] of Object.entries(r.failCounts)) {
          lines.push(
            `  * Node: ${node}:`,
            `    * ${r.id}: migration-threshold=1000000 fail-count=${count === 1_000_000 ? "INFINITY" : count}`,
          );
        }
      }
    }
    if (options.full && s.notes.length > 0) {
      lines.push("", "Coordinator Notes:");
      for (const n of s.notes) lines.push(`  * ${n}`);
    }
  }
  lines.push("", "Daemon Status:");
  for (const d of options.daemonStatus) lines.push(`  ${d}`);
  return lines.join("\n");
}

/** The witness and wait_for_all, which crm_mon has no line for: shown only when they matter. */
function quorumLines(s: StatusSnapshot): string[] {
  const q = s.quorum;
  if (!q) return [];
  const lines: string[] = [];
  if (q.device) {
    const vote = q.device.vote === "granted" ? "vote granted" : `no vote (${q.device.vote})`;
    lines.push(
      `  * Quorum device: ${q.device.host} (net, ${q.device.algorithm}): ${vote}; ${q.totalVotes} of ${q.expectedVotes} votes`,
    );
  }
  if (q.waitingForAll)
    lines.push(
      "  * Quorum: waiting for all nodes (wait_for_all); 'floatip quorum unblock' proceeds without them",
    );
  return lines;
}

/** coordination=etcd: where the cluster coordinates, and the freeze when etcd cannot be reached. */
function coordinationLines(s: StatusSnapshot): string[] {
  const c = s.coordination;
  if (!c) return [];
  const lines = [`  * Coordination: etcd (${c.endpoints.join(", ")}), lease ${c.leaseId ?? "none"}`];
  if (c.frozen) {
    lines.push(
      `  * FROZEN since ${new Date(c.frozen.since).toUTCString()}: ${c.frozen.reason}; VIPs stay where they are, nothing starts, stops or moves`,
    );
  }
  return lines;
}

/** Pacemaker prints ocf agents as `ocf::heartbeat:IPaddr2` (standard::provider:type). */
function agentLabel(type: string): string {
  const parts = type.split(":");
  return parts.length === 3 ? `${parts[0]}::${parts[1]}:${parts[2]}` : type;
}

function resourceState(r: StatusSnapshot["resources"][number]): string {
  if (r.failedOn.length > 0) return `FAILED ${r.failedOn.join(" ")}`;
  if (r.runningOn.length === 1) return `Started ${r.runningOn[0]}`;
  if (r.runningOn.length > 1) return `Started [ ${r.runningOn.join(" ")} ]`;
  if (r.unknownOn.length > 0) return `Unknown ${r.unknownOn.join(" ")}`;
  return r.disabled ? "Stopped (disabled)" : "Stopped";
}
