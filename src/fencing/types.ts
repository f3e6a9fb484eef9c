/**
 * Fencing: making sure a lost node runs nothing any more before what it ran starts elsewhere. A device
 * (pcs stonith create) knows which nodes it can fence and how; the Fencer tries devices in order with
 * timeouts and retries and keeps a record of every attempt.
 */

/** The fence-agents actions floatip uses; "status" reads the power state without changing it. */
export type FenceAction = "off" | "reboot" | "on" | "status";

export const FENCE_ACTIONS: readonly FenceAction[] = ["off", "reboot", "on", "status"];

/** What one device call found or did; `power` is the state after it (status, or after off/on/reboot). */
export interface DeviceOutcome {
  ok: boolean;
  power?: "on" | "off" | "unknown";
  /** One line: what happened, or what failed and what to do. */
  message: string;
}

export interface FenceDevice {
  readonly id: string;
  readonly type: string;
  /** True when this device is configured to fence `node` (pcmk_host_list, pcmk_host_map, or discovery). */
  canFence(node: string): boolean;
  /** Runs one action against `node`; resolves with the outcome, rejects only on cancellation. */
  run(
    node: string,
    action: FenceAction,
    options: { timeoutMs: number; signal: AbortSignal },
  ): Promise<DeviceOutcome>;
}

/** One try of one device, for `stonith history` and the event log. */
export interface FenceAttempt {
  device: string;
  attempt: number;
  /** ms since the epoch */
  startedAt: number;
  durationMs: number;
  ok: boolean;
  message: string;
}

export interface FenceResult {
  node: string;
  action: FenceAction;
  ok: boolean;
  /** The device that succeeded, or the last one tried. */
  device: string | null;
  power?: DeviceOutcome["power"];
  attempts: FenceAttempt[];
  message: string;
}
