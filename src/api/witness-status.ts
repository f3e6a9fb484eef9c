/** What the witness answers to `GET /v1/witness/status` (`floatip qdevice status`). */
export interface WitnessClusterStatus {
  cluster: string;
  nodes: {
    id: number;
    name: string;
    lastReportAgoMs: number | null;
    address: string | null;
    view: number[] | null;
  }[];
  holder: number[] | null;
  restartHold: boolean;
  answered: Record<"granted" | "denied" | "wait" | "resync", number>;
}

export interface WitnessStatus {
  version: string;
  incarnation: string;
  address: string;
  port: number;
  clusters: WitnessClusterStatus[];
  rejected: Record<string, number>;
}
