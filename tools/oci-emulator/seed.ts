import { readFile } from "node:fs/promises";
import { z } from "zod";

/** The starting world of an emulator run: region, subnets, instances with their VNICs, secondary private IPs. */
export const DEFAULT_PERMISSIONS: readonly string[] = [
  "use private-ips",
  "use vnics",
  "use subnets",
  "inspect vnic-attachments",
  "use instances",
];

const seedSubnetSchema = z.object({
  id: z.string().optional(),
  cidr: z.string(),
  displayName: z.string().optional(),
  virtualRouterIp: z.string().optional(),
  /** null or absent: a regional subnet that spans every availability domain. */
  availabilityDomain: z.string().nullable().optional(),
});

const seedVnicSchema = z.object({
  id: z.string().optional(),
  /** subnet id or its CIDR block */
  subnet: z.string(),
  privateIp: z.string(),
  macAddress: z.string().optional(),
});

const seedInstanceSchema = z.object({
  id: z.string().optional(),
  displayName: z.string().min(1),
  availabilityDomain: z.string(),
  faultDomain: z.string().optional(),
  state: z.enum(["RUNNING", "STOPPED"]).optional(),
  vnics: z.array(seedVnicSchema).min(1),
});

const seedPrivateIpSchema = z.object({
  ipAddress: z.string(),
  /** VNIC id, or an instance displayName meaning that instance's primary VNIC */
  vnic: z.string(),
  freeformTags: z.record(z.string(), z.string()).optional(),
});

const seedApiUserSchema = z.object({
  userId: z.string(),
  fingerprint: z.string(),
  publicKeyPem: z.string(),
});

export const emulatorSeedSchema = z.object({
  region: z.string().optional(),
  tenancyId: z.string().optional(),
  compartmentId: z.string().optional(),
  subnets: z.array(seedSubnetSchema),
  instances: z.array(seedInstanceSchema),
  privateIps: z.array(seedPrivateIpSchema).optional(),
  /** IAM statements ("<verb> <resource-type>") granted to the instances' dynamic group. */
  permissions: z.array(z.string()).optional(),
  apiUsers: z.array(seedApiUserSchema).optional(),
});

export type EmulatorSeed = z.infer<typeof emulatorSeedSchema>;

export async function loadSeedFile(path: string): Promise<EmulatorSeed> {
  const text = await readFile(path, "utf8");
  const parsed = emulatorSeedSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`seed file ${path} is not a valid emulator seed: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
