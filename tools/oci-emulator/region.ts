/** What the emulator says about its region: metadata shows short codes for the oldest regions, full ids elsewhere. */
export interface RegionDescription {
  regionIdentifier: string;
  /** "iad" for us-ashburn-1; the instance metadata `region` key and OCIDs use it. */
  shortCode: string;
  regionKey: string;
  realmKey: string;
  realmDomainComponent: string;
  /** IMDS `region`: short code for Ashburn and Phoenix, the region id for every other region. */
  metadataRegion: string;
}

const KNOWN_REGIONS: Record<string, { shortCode: string; regionKey: string }> = {
  "us-ashburn-1": { shortCode: "iad", regionKey: "IAD" },
  "us-phoenix-1": { shortCode: "phx", regionKey: "PHX" },
  "us-sanjose-1": { shortCode: "sjc", regionKey: "SJC" },
  "us-chicago-1": { shortCode: "ord", regionKey: "ORD" },
  "eu-frankfurt-1": { shortCode: "fra", regionKey: "FRA" },
  "eu-amsterdam-1": { shortCode: "ams", regionKey: "AMS" },
  "uk-london-1": { shortCode: "lhr", regionKey: "LHR" },
  "ap-tokyo-1": { shortCode: "nrt", regionKey: "NRT" },
  "ap-sydney-1": { shortCode: "syd", regionKey: "SYD" },
  "ca-toronto-1": { shortCode: "yyz", regionKey: "YYZ" },
};

export function describeRegion(regionIdentifier: string): RegionDescription {
  const known = KNOWN_REGIONS[regionIdentifier];
  const shortCode = known?.shortCode ?? regionIdentifier.split("-")[1]?.slice(0, 3) ?? regionIdentifier;
  return {
    regionIdentifier,
    shortCode,
    regionKey: known?.regionKey ?? shortCode.toUpperCase(),
    realmKey: "oc1",
    realmDomainComponent: "oraclecloud.com",
    metadataRegion: shortCode === "iad" || shortCode === "phx" ? shortCode : regionIdentifier,
  };
}
