import { sleepOn, type Clock, type TimerHandle } from "./clock.ts";

/** Real time: Date.now and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms) as unknown as TimerHandle,
  clearInterval: (handle) => clearInterval(handle as unknown as NodeJS.Timeout),
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};
