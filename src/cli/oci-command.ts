import type { Command } from "commander";
import { callApi, type Endpoint } from "../api/client.ts";
import type { StatusSnapshot } from "../api/status-types.ts";
import { registerOciStatusCommand } from "./oci-status-command.ts";

/** `floatip oci check`: the preflight, run on the node itself with the settings the daemon would use. */
export function registerOciCommands(program: Command, endpointOf: (cmd: Command) => Endpoint): void {
  const oci = program.command("oci").description("Oracle Cloud Infrastructure tools");
  oci
    .command("check")
    .description(
      "check metadata, auth, VNIC, subnet, VIP placement, IAM permissions and clock skew on this node",
    )
    .argument("[vips...]", "VIPs to check (default: the IPaddr2 resources of the local cluster)")
    .action(async (vips: string[], _opts: unknown, cmd: Command) => {
      // Loaded here: the OCI SDK is large and only this command needs it in the CLI process.
      const { runOciCheck, formatCheckText, checkReport } = await import("../cloud/oci/check.ts");
      const { settingsFromEnv } = await import("../cloud/oci/settings.ts");
      const targets = vips.length > 0 ? vips : await configuredVips(endpointOf(cmd));
      const fenceDevices = await configuredOciFenceDevices(endpointOf(cmd));
      const results = await runOciCheck({
        settings: settingsFromEnv(process.env),
        vips: targets,
        ...(fenceDevices.length > 0 ? { fenceDevices } : {}),
      });
      const report = checkReport(results);
      if (cmd.optsWithGlobals<{ json?: boolean }>().json)
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`${formatCheckText(results)}\n`);
      if (!report.ok) process.exitCode = 1;
    });
  registerOciStatusCommand(oci);
}

/** The fence_oci devices of the local cluster; none when no daemon answers. */
async function configuredOciFenceDevices(endpoint: Endpoint): Promise<string[]> {
  try {
    const status = await callApi<StatusSnapshot>(endpoint, "GET", "/v1/status", undefined, 5_000);
    return (status.config?.stonith ?? []).filter((d) => d.type === "fence_oci").map((d) => d.id);
  } catch {
    return [];
  }
}

async function configuredVips(endpoint: Endpoint): Promise<string[]> {
  try {
    const status = await callApi<StatusSnapshot>(endpoint, "GET", "/v1/status", undefined, 5_000);
    return (status.config?.resources ?? [])
      .filter((r) => r.type === "ocf:heartbeat:IPaddr2" && r.params["ip"])
      .map((r) => r.params["ip"] ?? "");
  } catch {
    // No daemon: check the node's cloud set-up without VIPs.
    return [];
  }
}
