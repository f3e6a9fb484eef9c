import { execFile } from "node:child_process";
import { existsSync } from "node:fs";

/** `floatip: active/enabled` from systemd when it manages floatip; otherwise what can be known. */
export async function daemonStatusLines(answering: boolean): Promise<string[]> {
  const active = answering ? "active" : "inactive";
  if (!existsSync("/run/systemd/system")) return [`floatip: ${active} (not under systemd)`];
  const enabled = await new Promise<string>((resolve) =>
    execFile("systemctl", ["is-enabled", "floatip"], { timeout: 2000 }, (_err, stdout) =>
      resolve(stdout.trim() === "enabled" ? "enabled" : "disabled"),
    ),
  );
  return [`floatip: ${active}/${enabled}`];
}
