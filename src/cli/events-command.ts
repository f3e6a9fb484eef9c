import type { Command } from "commander";
import { request } from "node:http";
import { callApi, type Endpoint } from "../api/client.ts";
import type { ClusterEvent } from "../observability/event-log.ts";

/** `floatip events [--follow] [--json] [--type T,...]`: what this node saw happen, newest last. */
export function registerEventsCommand(program: Command, endpointOf: (cmd: Command) => Endpoint): void {
  program
    .command("events")
    .description("show this node's recent events (membership, decisions, actions, cloud calls, failovers)")
    .option("--follow", "keep printing new events as they happen")
    .option(
      "--type <types>",
      "only these types, comma-separated (membership,decision,action,resource,cloud-call,failover,config)",
    )
    .option("--since <seq>", "only events after this sequence number", "0")
    .action(async (opts: { follow?: boolean; type?: string; since: string }, cmd: Command) => {
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      const types = opts.type?.split(",").filter((t) => t !== "");
      const print = (e: ClusterEvent): void => {
        process.stdout.write(
          json ? `${JSON.stringify(e)}\n` : `${e.at}  ${e.node}  ${e.type.padEnd(10)}  ${e.summary}\n`,
        );
      };
      const endpoint = endpointOf(cmd);
      if (!opts.follow) {
        const answer = await callApi<{ events: ClusterEvent[] }>(endpoint, "POST", "/v1/events", {
          since: Number(opts.since) || 0,
          ...(types ? { types } : {}),
        });
        for (const e of answer.events) print(e);
        return;
      }
      if (!("socketPath" in endpoint)) throw new Error("--follow works on the local node's socket");
      const query = new URLSearchParams({ since: opts.since, ...(types ? { types: types.join(",") } : {}) });
      await new Promise<void>((resolve, reject) => {
        const req = request(
          { socketPath: endpoint.socketPath, path: `/v1/events/stream?${query}` },
          (res) => {
            let buffer = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => {
              buffer += chunk;
              let end: number;
              while ((end = buffer.indexOf("\n\n")) !== -1) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                const data = block.split("\n").find((l) => l.startsWith("data: "));
                if (data) print(JSON.parse(data.slice(6)) as ClusterEvent);
              }
            });
            res.on("end", () => resolve());
          },
        );
        req.on("error", reject);
        req.end();
      });
    });
}
