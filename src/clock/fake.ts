import type { EpochMs } from "../model/time.js";
import type { Clock, TimerHandle } from "./clock.js";

interface PendingTimer {
  readonly due: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to; timers fire in due order during advance(). */
export class FakeClock implements Clock {
  #now: EpochMs;
  #mono = 0;
  #seq = 0;
  #timers: PendingTimer[] = [];

  constructor(start: EpochMs) {
    this.#now = start;
  }

  now(): EpochMs {
    return this.#now;
  }

  monotonic(): number {
    return this.#mono;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: PendingTimer = {
      due: this.#mono + Math.max(0, delayMs),
      seq: this.#seq++,
      callback,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward by ms, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const target = this.#mono + ms;
    for (;;) {
      const next = this.#nextDue(target);
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now += next.due - this.#mono;
      this.#mono = next.due;
      next.callback();
    }
    this.#now += target - this.#mono;
    this.#mono = target;
  }

  /**
   * Steps the wall clock (now()) by ms, back or ahead, as NTP or an operator does; the monotonic
   * clock, and so every timer, is not moved.
   */
  stepWallClock(ms: number): void {
    this.#now += ms;
  }

  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  #nextDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.#timers) {
      if (t.cancelled || t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
