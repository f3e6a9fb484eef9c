import { readFileSync } from "node:fs";
import { OCI_SETTINGS_ENV } from "./settings.ts";

/** OCI instances say so in their DMI chassis asset tag (what cloud-init checks too): no network needed. */
const OCI_ASSET_TAG_FILE = "/sys/class/dmi/id/chassis_asset_tag";

/** Says which cloud this node is in where DMI data cannot (a container, a VM that hides it): oci or none. */
export const CLOUD_ENV = "FLOATIP_CLOUD";

/**
 * Which cloud this node runs in, for the `cloud` cluster property set at setup: "oci" on an OCI
 * instance, or where the operator said so (FLOATIP_CLOUD=oci) or pointed floatip at an OCI metadata
 * service explicitly.
 */
export function detectCloud(
  env: Readonly<Record<string, string | undefined>>,
  assetTagFile = OCI_ASSET_TAG_FILE,
): "oci" | null {
  const declared = env[CLOUD_ENV]?.trim().toLowerCase();
  if (declared === "oci") return "oci";
  if (declared === "none") return null;
  if (declared) {
    throw new Error(
      `FLOATIP_E_CLOUD_UNKNOWN: ${CLOUD_ENV}=${declared} is not a cloud floatip knows; use oci or none`,
    );
  }
  if (env[OCI_SETTINGS_ENV.metadataBaseUrl]?.trim()) return "oci";
  try {
    if (readFileSync(assetTagFile, "utf8").trim() === "OracleCloud.com") return "oci";
  } catch {
    // No DMI data (a container, a VM without it): not detectably OCI.
  }
  return null;
}
