import { readFileSync } from "node:fs";
import { OCI_SETTINGS_ENV } from "./settings.ts";

/** OCI instances say so in their DMI chassis asset tag (what cloud-init checks too): no network needed. */
const OCI_ASSET_TAG_FILE = "/sys/class/dmi/id/chassis_asset_tag";

/**
 * Which cloud this node runs in, for the `cloud` cluster property set at setup: "oci" on an OCI
 * instance, or where the operator pointed floatip at an OCI metadata service explicitly.
 */
export function detectCloud(env: Readonly<Record<string, string | undefined>>): "oci" | null {
  if (env[OCI_SETTINGS_ENV.metadataBaseUrl]?.trim()) return "oci";
  try {
    if (readFileSync(OCI_ASSET_TAG_FILE, "utf8").trim() === "OracleCloud.com") return "oci";
  } catch {
    // No DMI data (a container, a VM without it): not detectably OCI.
  }
  return null;
}
