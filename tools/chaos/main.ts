import { writeFileSync } from "node:fs";
import { parseChaosOptions } from "./chaos-options.ts";
import { runChaos } from "./chaos-runner.ts";
import { formatReport } from "./report-table.ts";
import { SCENARIOS } from "./scenarios.ts";

/** npm run test:chaos -- --seed S --minutes M [--scenarios A,B] [--json] [--json-file PATH] */
async function main(): Promise<number> {
  const options = parseChaosOptions(
    process.argv.slice(2),
    SCENARIOS.map((s) => s.name),
  );
  if (process.getuid?.() !== 0) {
    throw new Error("FLOATIP_E_CHAOS: the chaos suite builds network namespaces and must run as root");
  }
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  say(
    `chaos seed ${options.seed} (reproduce: npm run test:chaos -- --seed ${options.seed} --minutes ${options.minutes}${options.scenarios ? ` --scenarios ${options.scenarios.join(",")}` : ""})`,
  );
  const report = await runChaos({ ...options, log: say });
  say(formatReport(report));
  const json = JSON.stringify(report, null, 2);
  if (options.json) say(json);
  if (options.jsonFile) writeFileSync(options.jsonFile, `${json}\n`);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message.split("\n")[0] : String(error)}\n`);
    process.exit(2);
  },
);
