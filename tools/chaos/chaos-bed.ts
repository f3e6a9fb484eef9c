import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../src/agents/command-runner.ts";
import { callApi } from "../../src/api/client.ts";
import type { StatusSnapshot } from "../../src/api/status-types.ts";
import { createBed, type Bed } from "../testbed/bed.ts";
import { EmulatedCloud } from "../testbed/cloud-bed.ts";
import { faketimeEnv, libfaketimePath, setClockOffset } from "../testbed/faketime.ts";
import { FloatipCluster } from "../testbed/floatip-cluster.ts";
import { FloatipWitness } from "../testbed/floatip-witness.ts";
import { impairmentTool, type ImpairmentTool } from "../testbed/netem.ts";
import { startProbe, startResponders, type RunningProbe, type RunningResponders } from "../testbed/probe.ts";
import type { NodeView, Sample } from "./sample.ts";

export const VIP = "10.0.0.200";
export const VIP_RESOURCE = "Cluster_VIP";
export const PROBE_PORT = 7000;
export const NODES = ["node1", "node2"] as const;
/** A third namespace on the subnet for `floatip witness` (a third host, as corosync-qnetd would be). */
export const WITNESS = "witness";
const PASSWORD = "chaos-secret";
/** Every Core API call takes this long, as a realistic round trip to the regional endpoint. */
export const API_LATENCY_MS = 50;

/**
 * The chaos bed: two nodes in two ADs of an emulated OCI region (routed client subnet, router following
 * the cloud), a floatip cluster with one VIP, a UDP responder per node and the client probe. Daemons run
 * with --leave-resources-on-exit (so a planned restart re-attaches) and, where Debian's libfaketime is
 * installed, with a per-node wall-clock offset file.
 */
export class ChaosBed {
  private constructor(
    readonly bed: Bed,
    readonly cloud: EmulatedCloud,
    readonly cluster: FloatipCluster,
    readonly probe: RunningProbe,
    readonly probeStartedAt: number,
    private readonly responders: RunningResponders,
    private readonly dir: string,
    /** null: libfaketime is not installed, ClockJump cannot run. */
    readonly clockFiles: Record<string, string> | null,
    /** Authorised on the nodes but not a quorum device until a scenario adds it. */
    readonly witness: FloatipWitness,
    /** How PacketLoss impairs links here (null: neither netem nor nftables). */
    readonly impairment: ImpairmentTool | null,
  ) {}

  static async start(log: (line: string) => void): Promise<ChaosBed> {
    const dir = mkdtempSync(join(tmpdir(), "floatip-chaos-"));
    const library = libfaketimePath();
    const clockFiles = library ? Object.fromEntries(NODES.map((n) => [n, join(dir, `${n}.faketime`)])) : null;
    for (const file of Object.values(clockFiles ?? {})) setClockOffset(file, 0);
    const bed = await createBed({ nodes: [...NODES, WITNESS], clientSubnet: "routed" });
    const parts: {
      cloud?: EmulatedCloud;
      cluster?: FloatipCluster;
      responders?: RunningResponders;
      witness?: FloatipWitness;
    } = {};
    try {
      const cloud = (parts.cloud = await EmulatedCloud.start(bed, { latencyMs: API_LATENCY_MS }));
      const cluster = (parts.cluster = new FloatipCluster(
        bed,
        NODES,
        { ...cloud.nodeEnv, FLOATIP_OCI_CLOUD_CHECK_INTERVAL_MS: "2000", FLOATIP_OCI_LEASE_MS: "6000" },
        ["--leave-resources-on-exit"],
        (node) => (library && clockFiles?.[node] ? faketimeEnv(library, clockFiles[node]) : {}),
      ));
      const responders = (parts.responders = await startResponders(bed, PROBE_PORT, NODES));
      const witness = (parts.witness = new FloatipWitness(bed, bed.nodeNs(WITNESS), bed.nodeAddr(WITNESS)));
      await witness.start(PASSWORD);
      await cluster.startAll();
      await cluster.setup({ name: "chaos", password: PASSWORD });
      const witnessAuth = [
        "host",
        "auth",
        WITNESS,
        `addr=${witness.addr}`,
        "-u",
        "hacluster",
        "-p",
        PASSWORD,
      ];
      await cluster.must("node1", witnessAuth);
      await cluster.must("node1", ["property", "set", "no-quorum-policy=stop"]);
      await cluster.must("node1", ["resource", "defaults", "update", "resource-stickiness=100"]);
      await cluster.createVip({ vip: VIP, monitorInterval: "1s" });
      log(`bed ${bed.prefix}: ${VIP} on ${cloud.holderOf(VIP)}; daemon logs in ${cluster.dir}`);
      const probeStartedAt = Date.now();
      const probe = await startProbe(bed, VIP, PROBE_PORT);
      const impairment = await impairmentTool(bed, NODES[0]);
      return new ChaosBed(
        bed,
        cloud,
        cluster,
        probe,
        probeStartedAt,
        responders,
        dir,
        clockFiles,
        witness,
        impairment,
      );
    } catch (error) {
      await parts.responders?.stop().catch(() => undefined);
      await parts.witness?.destroy().catch(() => undefined);
      await parts.cluster?.destroy().catch(() => undefined);
      await parts.cloud?.stop().catch(() => undefined);
      await bed.destroy().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async sample(): Promise<Sample> {
    const at = Date.now();
    const [cloudHolders, ...nodes] = await Promise.all([
      this.cloudHolders(),
      ...NODES.map(async (node) => ({
        node,
        view: await this.view(node),
        localVips: await this.localVips(node),
      })),
    ]);
    return { at, cloudHolders, nodes };
  }

  async view(node: string): Promise<NodeView | null> {
    let s: StatusSnapshot;
    try {
      s = await callApi<StatusSnapshot>(
        { socketPath: this.cluster.socket(node) },
        "GET",
        "/v1/status",
        undefined,
        1500,
      );
    } catch {
      return null;
    }
    const properties = s.config?.properties ?? {};
    return {
      running: s.running,
      quorate: s.quorate,
      online: s.online,
      configEpoch: s.configEpoch,
      noQuorumPolicy: properties["no-quorum-policy"] ?? "stop",
      runningOn: Object.fromEntries(s.resources.map((r) => [r.id, r.runningOn])),
      failedOn: Object.fromEntries(s.resources.map((r) => [r.id, r.failedOn])),
      properties,
      deviceVote: s.quorum?.device?.vote ?? null,
    };
  }

  async localVips(node: string): Promise<string[]> {
    const out = await runCommand(
      "ip",
      ["-n", this.bed.nodeNs(node), "-o", "-4", "addr", "show", "dev", "eth0"],
      {
        timeoutMs: 2000,
      },
    );
    return [...out.stdout.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)]
      .map((m) => m[1] ?? "")
      .filter((a) => a !== this.bed.nodeAddr(node));
  }

  private async cloudHolders(): Promise<Record<string, string[]>> {
    const state = (await this.cloud.state()) as {
      privateIps: { ipAddress: string; vnicId: string; isPrimary: boolean }[];
      vnics: { id: string; instanceId: string }[];
      instances: { id: string; displayName: string }[];
    };
    const holders: Record<string, string[]> = { [VIP]: [] };
    for (const p of state.privateIps) {
      if (p.isPrimary || !(p.ipAddress in holders)) continue;
      const instanceId = state.vnics.find((v) => v.id === p.vnicId)?.instanceId;
      const name = state.instances.find((i) => i.id === instanceId)?.displayName ?? "?";
      holders[p.ipAddress]?.push(name);
    }
    return holders;
  }

  /** Copies the daemon and witness logs to a directory of their own (null: nothing to keep) and tears down. */
  async destroy(keepLogsAs: string | null = null): Promise<string | null> {
    let kept: string | null = null;
    if (keepLogsAs !== null) {
      kept = mkdtempSync(join(tmpdir(), `floatip-chaos-logs-${keepLogsAs}-`));
      for (const n of NODES) cpSync(this.cluster.logFile(n), join(kept, `${n}.log`), { force: true });
      cpSync(this.witness.logFile, join(kept, "witness.log"), { force: true });
    }
    await this.probe.stop().catch(() => undefined);
    await this.responders.stop().catch(() => undefined);
    await this.witness.destroy().catch(() => undefined);
    await this.cluster.destroy().catch(() => undefined);
    await this.cloud.stop().catch(() => undefined);
    await this.bed.destroy();
    rmSync(this.dir, { recursive: true, force: true });
    return kept;
  }
}
