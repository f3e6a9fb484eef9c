import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { ApiCallError, callApi, type Endpoint } from "../api/client.ts";
import type { StatusSnapshot } from "../api/status-types.ts";
import { cibNodeNames, importCib, formatImportReport, type CibImportResult } from "../config/cib-import.ts";
import { formatScore } from "../config/commands.ts";
import type { ClusterConfig } from "../config/schema.ts";
import { unsupportedTypeMessage } from "../agents/agent-types.ts";
import { detectCloud } from "../cloud/oci/detect.ts";
import { stonithDeviceProblems } from "../fencing/device-registry.ts";
import { parseNodeList, UsageError } from "./pcs-args.ts";

/**
 * `floatip import-cib FILE [node addr=IP ...]`: converts a Pacemaker CIB (config/cib-import.ts) and
 * applies it through the daemon's ordinary admin calls, the same ones pcs-style commands send, so every
 * part is validated and replicated as if typed by hand. Without a cluster it is set up first from the
 * CIB's nodes (after `cluster auth`, as pcs needs); an existing configuration with resources is only
 * replaced with --force. --dry-run prints the conversion and touches nothing.
 */

type ImportCibErrorCode =
  "FLOATIP_E_CIB_READ" | "FLOATIP_E_CONFIG_NOT_EMPTY" | "FLOATIP_E_CIB_NODES_MISMATCH";

export class ImportCibError extends Error {
  override readonly name = "ImportCibError";
  constructor(
    readonly code: ImportCibErrorCode,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

export interface ImportCibOptions {
  dryRun?: boolean;
  force?: boolean;
  corosyncConf?: string;
  cloud?: string;
  name?: string;
}

function readInput(path: string, what: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ImportCibError("FLOATIP_E_CIB_READ", `cannot read ${what} '${path}' (${reason})`);
  }
}

/** True when the configuration holds something an import would replace. */
export function hasContent(config: ClusterConfig): boolean {
  const { location, colocation, order } = config.constraints;
  return (
    config.resources.length + config.groups.length + location.length + colocation.length + order.length > 0 ||
    config.alerts.length + config.stonith.length > 0
  );
}

/** The current cluster configuration, or null when the daemon has none (or, for a dry run, is not running). */
async function currentConfig(endpoint: Endpoint, dryRun: boolean): Promise<ClusterConfig | null> {
  try {
    return (await callApi<StatusSnapshot>(endpoint, "GET", "/v1/status")).config;
  } catch (error) {
    if (dryRun && error instanceof ApiCallError && error.code === "FLOATIP_E_DAEMON_DOWN") return null;
    throw error;
  }
}

/** Converts with what the running cluster knows: its node addresses, cloud and installed agents. */
export function convert(
  xml: string,
  words: readonly string[],
  options: ImportCibOptions,
  existing: ClusterConfig | null,
): CibImportResult {
  const knownAddrs: Record<string, string> = {};
  for (const node of existing?.nodes ?? [])
    if (node.addrs[0] !== undefined) knownAddrs[node.name] = node.addrs[0];
  const addrs: Record<string, string> = {};
  for (const node of parseNodeList(words)) {
    if (node.addr === undefined) throw new UsageError(`node '${node.name}' needs addr=<IPv4 address>`);
    addrs[node.name] = node.addr;
  }
  if (options.cloud !== undefined && options.cloud !== "oci" && options.cloud !== "none") {
    throw new UsageError(`--cloud ${options.cloud}: use oci or none`);
  }
  const cloud =
    (options.cloud as "oci" | "none" | undefined) ??
    (existing
      ? existing.properties["cloud"] === "oci"
        ? "oci"
        : undefined
      : (detectCloud(process.env) ?? undefined));
  return importCib(xml, {
    addrs,
    knownAddrs,
    ...(options.corosyncConf !== undefined
      ? { corosyncConf: readInput(options.corosyncConf, "corosync.conf") }
      : {}),
    ...(cloud !== undefined ? { cloud } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    agentProblem: (type) => unsupportedTypeMessage(type),
    fenceProblems: (type, params) => stonithDeviceProblems(type, params),
  });
}

/** The CIB must name the cluster's nodes (an empty node list is a CIB written before they joined). */
export function checkNodes(xml: string, existing: ClusterConfig): void {
  const want = cibNodeNames(xml).sort();
  const have = existing.nodes.map((n) => n.name).sort();
  if (want.length > 0 && have.join(" ") !== want.join(" ")) {
    throw new ImportCibError(
      "FLOATIP_E_CIB_NODES_MISMATCH",
      `the CIB's nodes (${want.join(", ")}) are not this cluster's (${have.join(", ")}); import into a cluster set up with the same node names`,
    );
  }
}

interface Results {
  results: { node: string; ok: boolean; message: string }[];
}

/** `cluster setup --start` with the CIB's name and nodes (pcs needs `cluster auth` first, so does this). */
async function setupCluster(
  endpoint: Endpoint,
  config: ClusterConfig,
  log: (line: string) => void,
): Promise<void> {
  const setup = await callApi<Results>(
    endpoint,
    "POST",
    "/v1/cluster/setup",
    {
      name: config.name,
      nodes: config.nodes.map((n) => ({ name: n.name, addr: n.addrs[0] })),
      start: true,
      force: false,
      ...(config.totem.tokenMs !== 1000 ? { tokenMs: config.totem.tokenMs } : {}),
    },
    120_000,
  );
  for (const r of setup.results) log(`${r.node}: ${r.ok ? r.message : `Error: ${r.message}`}`);
  if (!setup.results.every((r) => r.ok)) {
    throw new ApiCallError("FLOATIP_E_NOT_AUTHORIZED", "cluster setup failed on some nodes; see above");
  }
}

/** Sends the converted configuration as the admin calls pcs-style commands make; returns the last epoch. */
async function apply(
  endpoint: Endpoint,
  result: CibImportResult,
  existing: ClusterConfig,
  force: boolean,
  log: (line: string) => void,
): Promise<number> {
  const { config } = result;
  let epoch = 0;
  const post = async (path: string, body: unknown): Promise<void> => {
    const answer = await callApi<{ epoch?: number }>(endpoint, "POST", path, body);
    if (typeof answer.epoch === "number") epoch = answer.epoch;
  };
  if (hasContent(existing)) {
    if (!force) {
      throw new ImportCibError(
        "FLOATIP_E_CONFIG_NOT_EMPTY",
        `cluster '${existing.name}' already has resources, fence devices, constraints or alerts; add --force to replace them with the CIB's`,
      );
    }
    // Deleting a resource drops its constraints and an emptied group, so nothing else is left to remove.
    for (const r of existing.resources) await post("/v1/resource/delete", { id: r.id });
    for (const a of existing.alerts) await post("/v1/alert/remove", { ids: [a.id] });
    for (const d of existing.stonith) await post("/v1/stonith/delete", { id: d.id });
    log(
      `Removed ${existing.resources.length} resources, ${existing.stonith.length} fence devices and ${existing.alerts.length} alerts`,
    );
  }
  if (config.totem.tokenMs !== existing.totem.tokenMs) {
    log(`Note: the CIB's token (${config.totem.tokenMs} ms) is not applied to a running cluster`);
  }
  if (Object.keys(config.properties).length > 0)
    await post("/v1/property/set", { values: config.properties });
  if (Object.keys(config.resourceDefaults).length > 0)
    await post("/v1/resource/defaults", { values: config.resourceDefaults });
  for (const r of config.resources) {
    const group = config.groups.find((g) => g.resources.includes(r.id));
    await post("/v1/resource/create", {
      id: r.id,
      type: r.type,
      params: r.params,
      meta: r.meta,
      ops: r.ops,
      ...(group ? { group: group.id } : {}),
    });
  }
  for (const d of config.stonith) {
    await post("/v1/stonith/create", { id: d.id, type: d.type, params: d.params, meta: d.meta, ops: d.ops });
  }
  for (const g of config.groups) {
    if (Object.keys(g.meta).length > 0) await post("/v1/resource/meta", { id: g.id, meta: g.meta });
  }
  for (const c of config.constraints.location) {
    // crm_resource's move/ban constraints keep their ids, so `resource clear` still finds them.
    if (c.id === `cli-prefer-${c.resource}` && c.score >= 1_000_000) {
      await post("/v1/resource/move", { id: c.resource, node: c.node });
    } else if (c.id === `cli-ban-${c.resource}-on-${c.node}` && c.score <= -1_000_000) {
      await post("/v1/resource/ban", { id: c.resource, node: c.node });
    } else {
      const mode = c.score < 0 ? "avoids" : "prefers";
      await post("/v1/constraint/location", {
        resource: c.resource,
        mode,
        nodes: [{ node: c.node, score: formatScore(Math.abs(c.score)) }],
        force: true,
      });
    }
  }
  for (const c of config.constraints.colocation) {
    await post("/v1/constraint/colocation", {
      resource: c.resource,
      withResource: c.withResource,
      score: formatScore(c.score),
      id: c.id,
      force: true,
    });
  }
  for (const c of config.constraints.order) {
    await post("/v1/constraint/order", {
      first: c.first,
      then: c.then,
      kind: c.kind,
      symmetrical: c.symmetrical,
      id: c.id,
      force: true,
    });
  }
  for (const a of config.alerts) {
    await post("/v1/alert/create", {
      id: a.id,
      path: a.path,
      ...(a.description !== undefined ? { description: a.description } : {}),
      options: a.options,
      meta: a.meta,
    });
    for (const r of a.recipients) {
      await post("/v1/alert/recipient/add", {
        alert: a.id,
        id: r.id,
        value: r.value,
        ...(r.description !== undefined ? { description: r.description } : {}),
        options: r.options,
        meta: r.meta,
        force: true,
      });
    }
  }
  const standby = config.nodes.filter((n) => n.standby).map((n) => n.name);
  if (standby.length > 0) await post("/v1/node/standby", { nodes: standby, on: true });
  return epoch;
}

export function registerImportCibCommand(
  program: Command,
  socketOf: (cmd: Command) => Endpoint,
  wantsJson: (cmd: Command) => boolean,
): void {
  program
    .command("import-cib")
    .description(
      "convert a Pacemaker CIB (pcs cluster cib, cibadmin --query) into this cluster: import-cib FILE|- [node addr=IP ...]",
    )
    .argument("<file>", "the CIB XML file, or - for standard input")
    .argument("[nodes...]", "node addresses the CIB lacks: node1 addr=10.0.0.2 node2 addr=10.0.0.3")
    .option("--dry-run", "print the conversion and what it cannot convert; change nothing")
    .option(
      "--force",
      "replace the resources, fence devices, constraints and alerts of an existing configuration",
    )
    .option("--corosync-conf <file>", "read node addresses, ids and the token from corosync.conf")
    .option(
      "--cloud <cloud>",
      "oci: IPaddr2 resources become OCI VIPs; none: local addresses (default: detected)",
    )
    .option("--name <name>", "cluster name when the CIB has no cluster-name")
    .action(async (file: string, words: string[], opts: ImportCibOptions, cmd: Command) => {
      const xml = readInput(file, "CIB");
      const endpoint = socketOf(cmd);
      const existing = await currentConfig(endpoint, opts.dryRun === true);
      if (existing !== null && !opts.dryRun) checkNodes(xml, existing);
      let result = convert(xml, words, opts, existing);
      const json = wantsJson(cmd);
      const reportOf = (r: CibImportResult) => ({
        config: r.config,
        notes: r.notes,
        unconverted: r.unconverted,
      });
      if (opts.dryRun) {
        if (json)
          process.stdout.write(`${JSON.stringify({ ...reportOf(result), applied: false }, null, 2)}\n`);
        else process.stdout.write(`${formatImportReport(result)}\n(dry run: nothing was changed)\n`);
        return;
      }
      const lines: string[] = [];
      const log = (l: string) => (json ? lines.push(l) : process.stdout.write(`${l}\n`));
      let target = existing;
      if (target === null) {
        await setupCluster(endpoint, result.config, log);
        target = await currentConfig(endpoint, false);
        if (target === null)
          throw new ApiCallError("FLOATIP_E_NO_CLUSTER", "cluster setup left no configuration");
        // Converted again with what the new cluster detected (cloud=oci makes IPaddr2 a cloud VIP).
        result = convert(xml, words, opts, target);
      }
      const epoch = await apply(endpoint, result, target, opts.force === true, log);
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ ...reportOf(result), applied: true, epoch, log: lines }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(
          `${formatImportReport(result)}\nImported into cluster '${result.config.name}'\n`,
        );
      }
    });
}
