/**
 * The memory settings a systemd unit gives the daemon (Environment=GLIBC_TUNABLES=... or MALLOC_*=...), so
 * a bench can run the daemon as production does. Other Environment= lines (paths) are the bench's own.
 */
export function unitMemoryEnv(unitText: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of unitText.matchAll(/^Environment=((?:GLIBC_TUNABLES|MALLOC_[A-Z_]+)=\S*)\s*$/gm)) {
    const [name, ...rest] = (m[1] ?? "").split("=");
    if (name) env[name] = rest.join("=");
  }
  return env;
}
