import type { ChildProcess } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "./repo-paths.ts";

/**
 * A small forward proxy for the test bed, as an instance without a service gateway reaches OCI: HTTPS
 * through `CONNECT host:443` tunnels. It tunnels only to the names it is given, at the addresses it is
 * given (it never resolves a name itself, so nothing it does can leave the bed), and it records every
 * request, tunnelled or refused. Plain-HTTP proxy requests (GET http://...) are refused with 403 and
 * recorded: a client that sends instance metadata through the proxy shows up here.
 *
 * As a process (in the router namespace of a bed), one JSON line per request on stdout:
 *   node connect-proxy.js --listen 10.0.0.1:3128 --host iaas.x.oraclecloud.com=192.0.2.10 ...
 */

export interface ProxyRecord {
  /** "connect": tunnelled; "refused": a CONNECT to a name or port it does not serve; "forward": a plain-HTTP request, refused. */
  ev: "connect" | "refused" | "forward";
  /** host:port for CONNECT, the absolute URL for plain-HTTP requests. */
  target: string;
  /** The client's address. */
  from: string;
  ms: number;
}

export interface ConnectProxyOptions {
  host: string;
  port: number;
  /** Names it tunnels to (port 443 only), with the address for each ("ADDR", or "ADDR:PORT" to go elsewhere). */
  hosts: Readonly<Record<string, string>>;
  onRecord?: (record: ProxyRecord) => void;
}

export interface RunningConnectProxy {
  port: number;
  records: ProxyRecord[];
  close(): Promise<void>;
}

function clientOf(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
}

export async function startConnectProxy(options: ConnectProxyOptions): Promise<RunningConnectProxy> {
  const records: ProxyRecord[] = [];
  const sockets = new Set<Socket>();
  const record = (ev: ProxyRecord["ev"], target: string, req: IncomingMessage): void => {
    const entry = { ev, target, from: clientOf(req), ms: Date.now() };
    records.push(entry);
    options.onRecord?.(entry);
  };
  const server: Server = createServer((req, res) => {
    record("forward", req.url ?? "", req);
    res.writeHead(403, { "content-type": "text/plain" });
    res.end("this proxy only tunnels HTTPS (CONNECT)\n");
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? "";
    const match = /^([a-z0-9.-]+):(\d{1,5})$/i.exec(target);
    const address = match?.[1] === undefined ? undefined : options.hosts[match[1].toLowerCase()];
    if (match === null || match[2] !== "443" || address === undefined) {
      record("refused", target, req);
      client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    record("connect", target, req);
    const [upstreamHost, upstreamPort] = address.split(":");
    const upstream = connect({ host: upstreamHost ?? address, port: Number(upstreamPort ?? 443) }, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.once("close", () => sockets.delete(upstream));
    const drop = (): void => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on("error", drop);
    client.on("error", drop);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    records,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function parseArgs(argv: readonly string[]): ConnectProxyOptions {
  const hosts: Record<string, string> = {};
  let listen: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1] ?? "";
    if (argv[i] === "--listen") listen = value;
    else if (argv[i] === "--host") {
      const [name, address] = value.split("=");
      if (!name || !address) throw new Error(`--host expects NAME=ADDRESS, got ${value}`);
      hosts[name.toLowerCase()] = address;
    } else throw new Error(`unknown argument ${argv[i] ?? ""}`);
    i++;
  }
  const [host, port] = (listen ?? "").split(":");
  if (!host || !/^\d{1,5}$/.test(port ?? "")) throw new Error("--listen HOST:PORT is required");
  return { host, port: Number(port), hosts };
}

if (process.argv[1]?.endsWith("connect-proxy.js") || process.argv[1]?.endsWith("connect-proxy.ts")) {
  try {
    const options = parseArgs(process.argv.slice(2));
    const proxy = await startConnectProxy({
      ...options,
      onRecord: (entry) => process.stdout.write(`${JSON.stringify(entry)}\n`),
    });
    process.stdout.write(`${JSON.stringify({ ready: true, port: proxy.port })}\n`);
    const stop = (): void => void proxy.close().then(() => process.exit(0));
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  } catch (error) {
    process.stderr.write(`connect-proxy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}

/** The proxy running in a bed's router namespace, followed from the test. */
export interface BedProxy {
  /** What node environments put in https_proxy. */
  url: string;
  records: ProxyRecord[];
  stop(): Promise<void>;
}

/**
 * Starts the proxy in the router namespace on the router's address in the nodes' subnet, tunnelling to
 * `hosts` (the region's endpoint names at the bed's API address).
 */
export async function startProxyInBed(
  bed: {
    routerNs: string;
    routerAddr: string;
    spawnIn: (ns: string, cmd: string, args: string[]) => ChildProcess;
  },
  hosts: Readonly<Record<string, string>>,
  port = 3128,
): Promise<BedProxy> {
  const child = bed.spawnIn(bed.routerNs, process.execPath, [
    join(repoRoot, "dist/tools/testbed/connect-proxy.js"),
    ...["--listen", `${bed.routerAddr}:${port}`],
    ...Object.entries(hosts).flatMap(([name, address]) => ["--host", `${name}=${address}`]),
  ]);
  const records: ProxyRecord[] = [];
  await new Promise<void>((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`connect proxy exited (${code}): ${stderr.trim()}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let parsed: ProxyRecord | { ready: true };
      try {
        parsed = JSON.parse(line) as ProxyRecord | { ready: true };
      } catch {
        return;
      }
      if ("ready" in parsed) resolve();
      else records.push(parsed);
    });
  });
  return {
    url: `http://${bed.routerAddr}:${port}`,
    records,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}
