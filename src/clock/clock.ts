import type { EpochMs } from "../model/time.js";

export interface TimerHandle {
  cancel(): void;
}

/** Every "now" and every timer in the agent comes through one of these. */
export interface Clock {
  /** Wall-clock time, for timestamps. */
  now(): EpochMs;
  /** A monotonic reading in milliseconds (fractional), for durations only. */
  monotonic(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
}
