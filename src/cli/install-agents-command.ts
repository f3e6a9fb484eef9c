import type { Command } from "commander";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `floatip install-agents [--prefix DIR] [--json]`: puts floatip's agents where Pacemaker looks for them,
 * with the absolute path of this floatip installation written in, so they work under Pacemaker's minimal
 * environment (no PATH to node or floatip needed):
 *   agents/ocf/oci-vip       -> <prefix>/usr/lib/ocf/resource.d/floatip/oci-vip   (ocf:floatip:oci-vip)
 *   bin/fence_floatip_oci    -> <prefix>/usr/sbin/fence_floatip_oci                (when the package has it)
 * Idempotent: a file that already has the right content and mode is left alone and reported unchanged.
 */

export interface InstalledFile {
  agent: string;
  source: string;
  target: string;
  action: "installed" | "updated" | "unchanged";
}

export interface InstallReport {
  prefix: string;
  packageRoot: string;
  files: InstalledFile[];
  /** Agents this package does not ship (yet), with why. */
  skipped: { agent: string; reason: string }[];
}

export class InstallAgentsError extends Error {
  readonly code = "FLOATIP_E_INSTALL_AGENTS";
  constructor(detail: string) {
    super(`FLOATIP_E_INSTALL_AGENTS: ${detail}`);
  }
}

/** The directory holding floatip's package.json, found from this module (src/cli or dist/src/cli). */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === "floatip") return dir;
      } catch {
        // not ours: keep looking upwards
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new InstallAgentsError(`no floatip package.json above ${from}; reinstall floatip`);
    dir = parent;
  }
}

/** The agent text with this installation's node binary and CLI entry in place of the placeholders. */
export function bakePaths(text: string, paths: { node: string; main: string }): string {
  return text.replaceAll("@FLOATIP_NODE@", paths.node).replaceAll("@FLOATIP_MAIN@", paths.main);
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * A node script cannot be copied (it imports its neighbours by relative path), so it gets a small wrapper
 * that runs it where it is; a shell script is copied with the paths written in.
 */
export function installedText(source: string, text: string, paths: { node: string; main: string }): string {
  const firstLine = text.split("\n", 1)[0] ?? "";
  if (/^#!.*\bnode\b/.test(firstLine)) {
    return `#!/bin/sh\n# Installed by 'floatip install-agents' from ${source}\nexec ${shellQuote(paths.node)} ${shellQuote(source)} "$@"\n`;
  }
  return bakePaths(text, paths);
}

function writeIfChanged(target: string, text: string): InstalledFile["action"] {
  let action: InstalledFile["action"] = "installed";
  if (existsSync(target)) {
    const sameText = readFileSync(target, "utf8") === text;
    const sameMode = (statSync(target).mode & 0o777) === 0o755;
    if (sameText && sameMode) return "unchanged";
    action = "updated";
  }
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  // Written beside the target and renamed, so Pacemaker never runs a half-written agent.
  const temporary = `${target}.floatip-new`;
  writeFileSync(temporary, text, { mode: 0o755 });
  chmodSync(temporary, 0o755);
  renameSync(temporary, target);
  return action;
}

export function installAgents(options: { prefix: string; root?: string; node?: string }): InstallReport {
  const root = options.root ?? packageRoot();
  const prefix = resolve(options.prefix);
  const paths = { node: options.node ?? process.execPath, main: join(root, "bin/floatip.mjs") };
  const agents = [
    {
      agent: "ocf:floatip:oci-vip",
      source: join(root, "agents/ocf/oci-vip"),
      target: join(prefix, "usr/lib/ocf/resource.d/floatip/oci-vip"),
      required: true,
    },
    {
      agent: "fence_floatip_oci",
      source: join(root, "bin/fence_floatip_oci"),
      target: join(prefix, "usr/sbin/fence_floatip_oci"),
      required: false,
    },
  ];
  const report: InstallReport = { prefix, packageRoot: root, files: [], skipped: [] };
  for (const { agent, source, target, required } of agents) {
    if (!existsSync(source)) {
      if (required)
        throw new InstallAgentsError(`${source} is missing from this floatip package; reinstall floatip`);
      report.skipped.push({ agent, reason: `${source} is not part of this package` });
      continue;
    }
    try {
      const text = installedText(source, readFileSync(source, "utf8"), paths);
      report.files.push({ agent, source, target, action: writeIfChanged(target, text) });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const hint = code === "EACCES" || code === "EPERM" || code === "EROFS" ? "; run it as root" : "";
      throw new InstallAgentsError(
        `cannot write ${target}: ${error instanceof Error ? error.message : String(error)}${hint}`,
      );
    }
  }
  return report;
}

export function formatInstallReport(report: InstallReport): string {
  const lines = report.files.map((f) => `${f.action} ${f.target} (${f.agent})`);
  for (const s of report.skipped) lines.push(`skipped ${s.agent}: ${s.reason}`);
  return `${lines.join("\n")}\n`;
}

export function registerInstallAgentsCommand(program: Command): Command {
  return program
    .command("install-agents")
    .description(
      "install the Pacemaker agents ocf:floatip:oci-vip and fence_floatip_oci, pointing at this floatip installation",
    )
    .option("--prefix <dir>", "install below this directory instead of / (packaging, tests)", "/")
    .action((opts: { prefix: string }, cmd: Command) => {
      const report = installAgents({ prefix: opts.prefix });
      if (cmd.optsWithGlobals<{ json?: boolean }>().json === true)
        process.stdout.write(`${JSON.stringify(report)}\n`);
      else process.stdout.write(formatInstallReport(report));
    });
}
