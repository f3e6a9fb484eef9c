import type { Clock } from "../../clock/clock.ts";
import { abortReason } from "../../clock/clock.ts";
import { OciCloudError } from "./errors.ts";

/**
 * Runs `operation` with a deadline. The operation gets a signal that aborts on timeout or when `signal`
 * aborts; whatever it resolves after that is dropped, so an abandoned call can never be mistaken for a
 * result (the caller has already seen the timeout error).
 */
export function withDeadline<T>(
  operation: (signal: AbortSignal) => Promise<T>,
  options: { timeoutMs: number; clock: Clock; signal?: AbortSignal; what: string },
): Promise<T> {
  const { clock, signal: parent } = options;
  return new Promise<T>((resolve, reject) => {
    if (parent?.aborted) {
      reject(abortReason(parent));
      return;
    }
    const controller = new AbortController();
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clock.clearTimeout(timer);
      parent?.removeEventListener("abort", onParentAbort);
      return true;
    };
    const onParentAbort = (): void => {
      if (!finish()) return;
      const reason = abortReason(parent as AbortSignal);
      controller.abort(reason);
      reject(reason);
    };
    const timer = clock.setTimeout(() => {
      if (!finish()) return;
      const error = new OciCloudError(
        "FLOATIP_E_OCI_TIMEOUT",
        `${options.what} got no answer within ${options.timeoutMs} ms; check the network path to the endpoint or raise requestTimeoutMs`,
      );
      controller.abort(error);
      reject(error);
    }, options.timeoutMs);
    parent?.addEventListener("abort", onParentAbort, { once: true });
    let started: Promise<T>;
    try {
      started = operation(controller.signal);
    } catch (error) {
      if (finish()) reject(error);
      return;
    }
    started.then(
      (value) => {
        if (finish()) resolve(value);
      },
      (error: unknown) => {
        if (finish()) reject(error);
      },
    );
  });
}
