import { sleepOn, type Clock, type TimerHandle } from "./clock.ts";

/**
 * Real time: the wall clock at process start advanced by the monotonic clock, and Node's timers. Durations
 * (failure detection, timeouts, leases) must not see a wall-clock step (NTP, `date -s`, a VM resume): read
 * from Date.now, a +10 min step makes every peer look silent for 10 min and a step back hides a dead one.
 */
const origin = performance.timeOrigin;
export const systemClock: Clock = {
  now: () => Math.floor(origin + performance.now()),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms) as unknown as TimerHandle,
  clearInterval: (handle) => clearInterval(handle as unknown as NodeJS.Timeout),
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};
