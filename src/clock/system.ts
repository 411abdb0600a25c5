import { performance } from "node:perf_hooks";
import type { Clock, TimerHandle } from "./clock.js";

/**
 * Node fires a timer longer than 2^31 - 1 ms (24.8 days) after 1 ms instead: a cron schedule a
 * month away then ran at once, and again, in a loop. Longer delays wait in steps of at most this.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(callback, delayMs): TimerHandle {
    // Every probe run arms two of these and the stall watch a hundred a second: the usual delay
    // takes one timer and one handle, nothing more.
    if (!(delayMs > MAX_TIMER_MS)) {
      const timer = setTimeout(callback, Math.max(0, delayMs));
      return { cancel: () => clearTimeout(timer) };
    }
    const due = Date.now() + Math.max(0, delayMs);
    let timer: NodeJS.Timeout;
    const arm = (left: number) => {
      timer = setTimeout(
        () => {
          const rest = due - Date.now();
          if (rest > 0 && left > MAX_TIMER_MS) arm(rest);
          else callback();
        },
        Math.min(left, MAX_TIMER_MS),
      );
    };
    arm(Math.max(0, delayMs));
    return { cancel: () => clearTimeout(timer) };
  },
};
