/**
 * Pacemaker's per-device target parameters: pcmk_host_map ("node1:plug1;node2:plug2", separators ';', ','
 * or space, and '=' or ':' between node and plug) and pcmk_host_list ("node1 node2" or "node1,node2").
 */

export class HostMapError extends Error {
  override readonly name = "HostMapError";
  readonly code = "FLOATIP_E_STONITH_INVALID";
}

/** Node name -> plug (port, instance OCID). Rejects entries without a node or a plug. */
export function parseHostMap(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of text.split(/[;,\s]+/).filter((e) => e !== "")) {
    // OCIDs contain no ':' or '=', but a plug may contain ':' (e.g. a VM name); split at the first one.
    const at = entry.search(/[:=]/);
    const node = at > 0 ? entry.slice(0, at) : "";
    const plug = at > 0 ? entry.slice(at + 1) : "";
    if (node === "" || plug === "") {
      throw new HostMapError(
        `pcmk_host_map entry '${entry}' is not node:plug; write pcmk_host_map="node1:plug1;node2:plug2"`,
      );
    }
    map.set(node, plug);
  }
  return map;
}

export function parseHostList(text: string): string[] {
  return text.split(/[;,\s]+/).filter((e) => e !== "");
}

/**
 * Which nodes a device is restricted to by its parameters, or null when it is not restricted (it can then
 * fence any cluster node its own discovery can find).
 */
export function restrictedTargets(params: Readonly<Record<string, string>>): Set<string> | null {
  const map = params["pcmk_host_map"];
  const list = params["pcmk_host_list"];
  if (map === undefined && list === undefined) return null;
  return new Set([...(map ? parseHostMap(map).keys() : []), ...(list ? parseHostList(list) : [])]);
}
