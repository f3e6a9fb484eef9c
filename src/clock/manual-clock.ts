import { sleepOn, type Clock, type TimerHandle } from "./clock.ts";

interface ManualTimer {
  readonly id: number;
  due: number;
  /** Orders timers due at the same ms: the one scheduled (or rescheduled) first fires first. */
  seq: number;
  /** Set for intervals: the timer is rescheduled this many ms after each firing. */
  readonly every: number | undefined;
  readonly fn: () => void;
}

/**
 * A clock that only moves when a test calls advance(). Timers fire in due-time order (ties in the order
 * they were scheduled), and now() reads each timer's due time while it runs, as if real time had passed.
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #nextSeq = 1;
  readonly #timers = new Map<number, ManualTimer>();

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#schedule(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    // A zero interval would make advance() loop forever; real Node clamps it to 1 ms as well.
    return this.#schedule(fn, ms, Math.max(1, ms));
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(idOf(handle));
  }

  clearInterval(handle: TimerHandle): void {
    this.#timers.delete(idOf(handle));
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Number of timers still scheduled; lets tests check that components clean up after stop(). */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, synchronously. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance needs ms >= 0, got ${ms}`);
    const target = this.#now + ms;
    for (let timer = this.#nextDue(target); timer; timer = this.#nextDue(target)) {
      this.#fire(timer);
    }
    this.#now = target;
  }

  /**
   * Like advance(), but lets promise continuations run after each timer, so code that awaits
   * clock.sleep() progresses through several steps within one call.
   */
  async advanceAsync(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advanceAsync needs ms >= 0, got ${ms}`);
    const target = this.#now + ms;
    await flushMicrotasks();
    for (let timer = this.#nextDue(target); timer; timer = this.#nextDue(target)) {
      this.#fire(timer);
      await flushMicrotasks();
    }
    this.#now = target;
  }

  #schedule(fn: () => void, ms: number, every: number | undefined): TimerHandle {
    const id = this.#nextId++;
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#timers.set(id, { id, due: this.#now + delay, seq: this.#nextSeq++, every, fn });
    return { id } as unknown as TimerHandle;
  }

  #nextDue(target: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const timer of this.#timers.values()) {
      if (timer.due > target) continue;
      if (!best || timer.due < best.due || (timer.due === best.due && timer.seq < best.seq)) best = timer;
    }
    return best;
  }

  #fire(timer: ManualTimer): void {
    this.#now = Math.max(this.#now, timer.due);
    if (timer.every === undefined) this.#timers.delete(timer.id);
    else {
      timer.due += timer.every;
      timer.seq = this.#nextSeq++;
    }
    timer.fn();
  }
}

function idOf(handle: TimerHandle): number {
  return (handle as unknown as { id: number }).id;
}

async function flushMicrotasks(): Promise<void> {
  // setImmediate runs after all currently queued promise jobs, including ones they queue in turn.
  await new Promise<void>((resolve) => setImmediate(resolve));
}
