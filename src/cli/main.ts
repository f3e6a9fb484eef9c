// First: tunes V8 for `floatip daemon` and gives it node-fetch, before the rest of the CLI (and the OCI
// SDK) loads.
import "./daemon-heap.ts";
import "./daemon-fetch.ts";
import { Command, CommanderError } from "commander";
import { callApi, ApiCallError, type Endpoint } from "../api/client.ts";
import type { StatusSnapshot } from "../api/status-types.ts";
import { parseNodeList, parseResourceArgs, printable, UsageError } from "./pcs-args.ts";
import { formatStatus } from "./status-format.ts";
import { daemonStatusLines } from "./daemon-status.ts";
import { readPassword } from "./password-prompt.ts";
import { registerOciCommands } from "./oci-command.ts";
import { registerOciMoveCommand } from "./oci-move-command.ts";
import { registerAgentCommands } from "./agent-commands.ts";
import { registerEventsCommand } from "./events-command.ts";
import { registerResourceManagerCommands } from "./resource-manager-commands.ts";
import { registerAlertCommands } from "./alert-commands.ts";
import { registerStonithCommands } from "./stonith-commands.ts";
import { parseQuorumOptions, registerQuorumCommands, registerWitnessCommands } from "./quorum-commands.ts";
import { registerImportCibCommand } from "./import-cib-command.ts";
import { registerInstallAgentsCommand } from "./install-agents-command.ts";

const DEFAULT_SOCKET = "/run/floatip/floatip.sock";
/** A 'quoted' word in an error message: user input, shown with control characters escaped. */
const QUOTED = /'[^']*'/g;

interface Globals {
  socket?: string;
  json?: boolean;
}

function socketOf(cmd: Command): Endpoint {
  const globals = cmd.optsWithGlobals<Globals>();
  return { socketPath: globals.socket ?? process.env["FLOATIP_SOCKET"] ?? DEFAULT_SOCKET };
}

function wantsJson(cmd: Command): boolean {
  return cmd.optsWithGlobals<Globals>().json === true;
}

function printResults(results: { node: string; ok: boolean; message: string }[]): boolean {
  for (const r of results) {
    if (r.ok) process.stdout.write(`${r.node}: ${r.message}\n`);
    else process.stderr.write(`Error: ${r.node}: ${r.message}\n`);
  }
  return results.every((r) => r.ok);
}

async function showStatus(cmd: Command, full: boolean): Promise<void> {
  const status = await callApi<StatusSnapshot>(socketOf(cmd), "GET", "/v1/status");
  if (wantsJson(cmd)) {
    const { config: _config, ...rest } = status;
    process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${formatStatus(status, { full, daemonStatus: await daemonStatusLines(true) })}\n`);
}

export function buildProgram(): Command {
  const program = new Command("floatip")
    .description("High-availability virtual IPs for the cloud, driven with pcs commands")
    .option("--socket <path>", "admin socket of the local daemon (env FLOATIP_SOCKET)")
    .option("--json", "print machine-readable JSON")
    .showHelpAfterError("(run 'floatip --help' for the list of commands)")
    // Commander quotes the words it refuses; control characters in them must not split or colour the line.
    .configureOutput({
      outputError: (str, write) => write(`Error: ${str.replace(/^error: /, "").replace(QUOTED, printable)}`),
    })
    .exitOverride();

  program
    .command("daemon")
    .description("run the floatip daemon on this node (usually from systemd)")
    .option(
      "--state-dir <dir>",
      "state directory (env FLOATIP_STATE_DIR)",
      process.env["FLOATIP_STATE_DIR"] ?? "/var/lib/floatip",
    )
    .option(
      "--config <path>",
      "cluster configuration file (env FLOATIP_CONFIG; default <state-dir>/cluster.json)",
    )
    .option(
      "--admin-port <port>",
      "admin API TCP port (env FLOATIP_ADMIN_PORT)",
      process.env["FLOATIP_ADMIN_PORT"] ?? "2224",
    )
    .option(
      "--admin-address <addr>",
      "admin API listen address",
      process.env["FLOATIP_ADMIN_ADDRESS"] ?? "0.0.0.0",
    )
    .option("--node-name <name>", "this node's name when addresses cannot tell (env FLOATIP_NODE_NAME)")
    .option(
      "--leave-resources-on-exit",
      "keep resources running when the daemon exits, for a restart to re-attach",
    )
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      // Loaded only here so that one-shot CLI commands start fast.
      const { runDaemon } = await import("./daemon-command.ts");
      await runDaemon({
        stateDir: String(opts["stateDir"]),
        socketPath: (socketOf(cmd) as { socketPath: string }).socketPath,
        configPath: (opts["config"] as string | undefined) ?? process.env["FLOATIP_CONFIG"],
        adminPort: Number(opts["adminPort"]),
        adminHost: String(opts["adminAddress"]),
        nodeName: (opts["nodeName"] as string | undefined) ?? process.env["FLOATIP_NODE_NAME"],
        leaveResourcesOnExit:
          opts["leaveResourcesOnExit"] === true || process.env["FLOATIP_LEAVE_RESOURCES"] === "1",
      });
    });

  program
    .command("passwd")
    .description("set the password of the cluster admin user on this node (pcs: passwd hacluster)")
    .option("--user <name>", "user name", "hacluster")
    .option("--stdin", "read the password from standard input")
    .action(async (opts: { user: string; stdin?: boolean }, cmd: Command) => {
      const password = await readPassword({
        prompt: "New password: ",
        confirm: true,
        stdin: opts.stdin === true,
      });
      await callApi(socketOf(cmd), "POST", "/v1/passwd", { user: opts.user, password });
      process.stdout.write(`password for ${opts.user} updated\n`);
    });

  const status = program
    .command("status")
    .description("show the cluster status (pcs status)")
    .option("--full", "show more detail")
    .action(async (opts: { full?: boolean }, cmd: Command) => showStatus(cmd, opts.full === true));
  status.command("--full", { hidden: true });

  const cluster = program.command("cluster").description("cluster set-up and control");
  for (const [parent, name] of [
    [cluster, "auth"],
    [program.command("host").description("host authorisation"), "auth"],
  ] as const) {
    parent
      .command(name)
      .description("authorise this node to administer the given nodes (asks for hacluster's password)")
      .argument("<nodes...>", "node names, each optionally followed by addr=IP")
      .option("-u, --username <user>", "user name", "hacluster")
      .option("-p, --password <password>", "password (asked for when omitted)")
      .action(async (words: string[], opts: { username: string; password?: string }, cmd: Command) => {
        const nodes = parseNodeList(words);
        const password =
          opts.password ??
          (await readPassword({ prompt: `Password for ${opts.username}: `, confirm: false, stdin: false }));
        const answer = await callApi<{ results: { node: string; ok: boolean; message: string }[] }>(
          socketOf(cmd),
          "POST",
          "/v1/cluster/auth",
          { nodes, username: opts.username, password },
        );
        if (!printResults(answer.results)) process.exitCode = 1;
      });
  }

  cluster
    .command("setup")
    .description(
      "create a cluster: setup [--start] --name NAME node... | setup NAME node [addr=IP]... [quorum wait_for_all=0]",
    )
    .argument("[args...]", "[NAME] node [addr=IP] ...")
    .option("--name <name>", "cluster name (pcs 0.9 form)")
    .option("--start", "start the cluster on all nodes afterwards")
    .option("--force", "overwrite an existing cluster configuration")
    .option("--token <ms>", "failure-detection timeout in ms (corosync's token; default 1000)")
    .action(
      async (
        words: string[],
        opts: { name?: string; start?: boolean; force?: boolean; token?: string },
        cmd: Command,
      ) => {
        // pcs 0.10+: `setup NAME node... [quorum <option>=<value>...]`.
        const quorumAt = words.indexOf("quorum");
        const rest = quorumAt === -1 ? [...words] : words.slice(0, quorumAt);
        const quorum = quorumAt === -1 ? undefined : parseQuorumOptions(words.slice(quorumAt + 1));
        const name = opts.name ?? rest.shift();
        if (!name) throw new UsageError("a cluster name is required: setup --name NAME node1 node2");
        const nodes = parseNodeList(rest);
        if (nodes.length === 0)
          throw new UsageError("at least one node is required: setup --name NAME node1 node2");
        const token = opts.token === undefined ? undefined : Number(opts.token);
        if (token !== undefined && !Number.isInteger(token))
          throw new UsageError(`--token ${opts.token} is not a number of ms`);
        const answer = await callApi<{ results: { node: string; ok: boolean; message: string }[] }>(
          socketOf(cmd),
          "POST",
          "/v1/cluster/setup",
          {
            name,
            nodes,
            start: opts.start === true,
            force: opts.force === true,
            ...(token ? { tokenMs: token } : {}),
            ...(quorum ? { quorum } : {}),
          },
          120_000,
        );
        if (!printResults(answer.results)) process.exitCode = 1;
      },
    );

  for (const op of ["start", "stop"] as const) {
    const c = cluster
      .command(op)
      .description(`${op} cluster services: ${op} [--all | node...]`)
      .argument("[nodes...]")
      .option("--all", "on all nodes");
    c.action(async (nodes: string[], opts: { all?: boolean }, cmd: Command) => {
      const answer = await callApi<{ results: { node: string; ok: boolean; message: string }[] }>(
        socketOf(cmd),
        "POST",
        `/v1/cluster/${op}`,
        { all: opts.all === true, nodes },
        120_000,
      );
      if (!printResults(answer.results)) process.exitCode = 1;
    });
  }

  cluster
    .command("status")
    .description("show the cluster status")
    .action(async (_opts: unknown, cmd: Command) => showStatus(cmd, true));

  const resource = program.command("resource").description("manage resources");
  resource
    .command("create")
    .description(
      "create a resource: create NAME ocf:heartbeat:IPaddr2 ip=... cidr_netmask=... [op monitor interval=10s] [meta k=v]",
    )
    .argument("<id>")
    .argument("<type>")
    .argument("[args...]")
    .option("--group <group>", "put the resource into this group (created when new)")
    .option("--before <resource>", "with --group: place it before this member")
    .option("--after <resource>", "with --group: place it after this member")
    .option("--disabled", "create it stopped (target-role=Stopped)")
    .allowUnknownOption()
    .action(
      async (
        id: string,
        type: string,
        words: string[],
        opts: { group?: string; before?: string; after?: string; disabled?: boolean },
        cmd: Command,
      ) => {
        if ((opts.before ?? opts.after) !== undefined && opts.group === undefined) {
          throw new UsageError("--before and --after can only be used together with --group");
        }
        const args = parseResourceArgs(words);
        await callApi(socketOf(cmd), "POST", "/v1/resource/create", {
          id,
          type,
          ...args,
          ...(opts.group !== undefined ? { group: opts.group } : {}),
          ...(opts.before !== undefined ? { before: opts.before } : {}),
          ...(opts.after !== undefined ? { after: opts.after } : {}),
          disabled: opts.disabled === true,
        });
      },
    );
  for (const alias of ["delete", "remove"]) {
    resource
      .command(alias)
      .description("delete a resource")
      .argument("<id>")
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const answer = await callApi<{ removedConstraints: string[] }>(
          socketOf(cmd),
          "POST",
          "/v1/resource/delete",
          {
            id,
          },
        );
        for (const c of answer.removedConstraints) process.stdout.write(`Removing Constraint - ${c}\n`);
        process.stdout.write(`Deleting Resource - ${id}\n`);
      });
  }
  resource
    .command("cleanup")
    .description("forget failures of a resource on this node and re-detect its state")
    .argument("[id]")
    .action(async (id: string | undefined, _opts: unknown, cmd: Command) => {
      const answer = await callApi<{ results: { node: string; ok: boolean; message: string }[] }>(
        socketOf(cmd),
        "POST",
        "/v1/resource/cleanup",
        id ? { id } : {},
      );
      if (!printResults(answer.results)) process.exitCode = 1;
    });
  resource
    .command("failcount")
    .description("show fail counts: failcount [show [RESOURCE] [node=NODE]]")
    .argument("[words...]")
    .action(async (words: string[], _opts: unknown, cmd: Command) => {
      const rest = words[0] === "show" ? words.slice(1) : words;
      const nodeArg = rest.find((w) => w.startsWith("node="))?.slice(5);
      const id = rest.find((w) => !w.includes("="));
      const status = await callApi<StatusSnapshot>(socketOf(cmd), "GET", "/v1/status");
      const rows = status.resources
        .filter((r) => id === undefined || r.id === id)
        .flatMap((r) =>
          Object.entries(r.failCounts)
            .filter(([n]) => nodeArg === undefined || n === nodeArg)
            .map(([n, count]) => ({ resource: r.id, node: n, count })),
        );
      if (id !== undefined && !status.resources.some((r) => r.id === id)) {
        throw new UsageError(`Unable to find resource: ${id}`);
      }
      if (wantsJson(cmd)) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write(`No failcounts${id ? ` for resource '${id}'` : ""}\n`);
        return;
      }
      for (const resourceId of [...new Set(rows.map((r) => r.resource))]) {
        process.stdout.write(`Failcounts for resource '${resourceId}'\n`);
        for (const r of rows.filter((x) => x.resource === resourceId)) {
          process.stdout.write(`  ${r.node}: ${r.count >= 1_000_000 ? "INFINITY" : r.count}\n`);
        }
      }
    });
  resource
    .command("status", { isDefault: true })
    .description("show resources")
    .action(async (_opts: unknown, cmd: Command) => showStatus(cmd, false));

  registerOciCommands(program, socketOf);
  registerAgentCommands(resource, wantsJson);
  registerEventsCommand(program, socketOf);
  registerResourceManagerCommands(program, socketOf);
  registerOciMoveCommand(program.commands.find((c) => c.name() === "oci")!);
  registerAlertCommands(program, socketOf);
  registerStonithCommands(program, socketOf);
  registerQuorumCommands(program, socketOf);
  registerWitnessCommands(program, socketOf);
  registerImportCibCommand(program, socketOf, wantsJson);
  registerInstallAgentsCommand(program);

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  // pcs accepts `status --full` and `status full`; commander treats both as the status command.
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 1;
    }
    if (error instanceof ApiCallError) {
      process.stderr.write(`Error: ${error.code}: ${error.message.replace(QUOTED, printable)}\n`);
      return 1;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`Error: FLOATIP_E_USAGE: ${error.message}\n`);
      return 1;
    }
    const coded = error as { code?: string; message?: string };
    process.stderr.write(`Error: ${(coded.message ?? String(error)).replace(QUOTED, printable)}\n`);
    return 1;
  }
}

const exitCode = await main(process.argv.slice(2));
// Long-running commands keep the process alive; everything else exits with its code at once.
if (process.argv[2] !== "daemon" && process.argv[2] !== "witness") process.exit(exitCode);
