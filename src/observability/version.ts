import { readFileSync } from "node:fs";

/**
 * floatip's version, from its package.json: what `floatip status`, the witness and fence_floatip_oci
 * report. "unknown" when the file cannot be read (a copy of dist/ without it).
 */
export function readVersion(): string {
  // From src/observability (tsx) or dist/src/observability (compiled): two or three levels up.
  for (const relative of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "floatip" && pkg.version) return pkg.version;
    } catch {
      // Not at this level; try the next.
    }
  }
  return "unknown";
}
