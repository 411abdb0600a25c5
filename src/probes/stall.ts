import type { Clock, TimerHandle } from "../clock/clock.js";

/** A span of monotonic time during which the prober's event loop did not run. */
interface Stall {
  readonly from: number;
  readonly to: number;
}

/** What the harness asks of a stall watch: the longest stall inside a run's timing. */
export interface StallGuard {
  /** Stalls longer than this make a result `agent_error`. */
  readonly maxStallMs: number;
  /** The longest stall (ms) overlapping [from, to] of monotonic time, including one still going on. */
  longestWithin(from: number, to: number): number;
  /** How long (ms) before `at` the stall in progress at `at` had begun; 0 when none was. */
  stalledBefore(at: number): number;
}

export interface StallWatchOptions {
  readonly clock: Clock;
  readonly maxStallMs: number;
  /** How often the loop is looked at (default 10 ms). */
  readonly tickMs?: number;
  /** Every lag past one tick, in ms (for slo_agent_stall_seconds). */
  readonly onLag?: (lagMs: number) => void;
}

/** Stalls are kept this long: longer than any probe's timeout, so every run in flight is covered. */
const KEEP_MS = 10 * 60_000;
/** Lags shorter than this are the timer's own jitter, not a stall worth keeping. */
const NOTED_LAG_MS = 5;

/**
 * Watches the event loop the probes are timed on: a timer due every tickMs that runs late means
 * the loop was blocked (GC, a long synchronous task, the process not being scheduled), and any
 * duration measured across that gap holds the agent's delay, not the target's. The gaps are kept
 * so a finished run can ask whether its timing overlapped one (perf_hooks' monitorEventLoopDelay
 * only gives a histogram, not when the delays happened).
 */
export class StallWatch implements StallGuard {
  readonly maxStallMs: number;
  readonly #clock: Clock;
  readonly #tickMs: number;
  readonly #onLag: (lagMs: number) => void;
  readonly #stalls: Stall[] = [];
  #last: number;
  #timer: TimerHandle | null = null;
  #stopped = false;

  constructor(options: StallWatchOptions) {
    this.#clock = options.clock;
    this.maxStallMs = options.maxStallMs;
    this.#tickMs = options.tickMs ?? 10;
    this.#onLag = options.onLag ?? (() => {});
    this.#last = this.#clock.monotonic();
  }

  start(): this {
    this.#last = this.#clock.monotonic();
    this.#arm();
    return this;
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
  }

  longestWithin(from: number, to: number): number {
    let longest = overlap(this.#ongoing(), from, to);
    for (let i = this.#stalls.length - 1; i >= 0; i--) {
      const stall = this.#stalls[i]!;
      if (stall.to < from) break;
      longest = Math.max(longest, overlap(stall, from, to));
    }
    return longest;
  }

  stalledBefore(at: number): number {
    for (const stall of [this.#ongoing(), ...this.#stalls]) {
      if (stall.from < at && at <= stall.to) return at - stall.from;
    }
    return 0;
  }

  /** The gap since the last tick beyond one tick: a stall that has not been seen by a tick yet. */
  #ongoing(): Stall {
    const now = this.#clock.monotonic();
    return { from: this.#last + this.#tickMs, to: now };
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), this.#tickMs);
  }

  #tick(): void {
    const now = this.#clock.monotonic();
    const lag = now - this.#last - this.#tickMs;
    if (lag >= NOTED_LAG_MS) {
      this.#stalls.push({ from: this.#last + this.#tickMs, to: now });
      this.#onLag(lag);
    }
    this.#last = now;
    const cut = this.#stalls.findIndex((s) => s.to >= now - KEEP_MS);
    if (cut > 0) this.#stalls.splice(0, cut);
    else if (cut === -1) this.#stalls.length = 0;
    this.#arm();
  }
}

function overlap(stall: Stall, from: number, to: number): number {
  return Math.max(0, Math.min(stall.to, to) - Math.max(stall.from, from));
}
