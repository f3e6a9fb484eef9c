import { createServer } from "node:http";
import { parseArgs } from "node:util";

/**
 * The "real service" behind a VIP in end-to-end tests: answers GET / with 200 and the node's name.
 *   node dist/tools/testbed/http-service.js --name node1 --port 8080
 * Prints {"listening":true} once ready; killing it is how a test makes the service fail.
 */
const { values } = parseArgs({
  options: { name: { type: "string" }, port: { type: "string", default: "8080" } },
});
const port = Number(values.port);
if (!values.name || !(port >= 1 && port <= 65535)) {
  process.stderr.write("FLOATIP_E_USAGE: http-service needs --name NAME [--port 1-65535]\n");
  process.exit(2);
}
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(`${values.name}\n`);
});
server.listen(port, "0.0.0.0", () => process.stdout.write(`${JSON.stringify({ listening: true })}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
