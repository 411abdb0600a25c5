import type { Clock, TimerHandle } from "../clock/clock.js";

/** A span of monotonic time during which the prober's event loop did not run. */
interface Stall {
  readonly from: number;
  readonly to: number;
}

/** What the harness asks of a stall watch: how late the agent's own loop was inside a run's timing. */
export interface StallGuard {
  /** More lateness than this (ms) inside a run makes its result `agent_error`. */
  readonly maxStallMs: number;
  /**
   * All the loop's lateness (ms) overlapping [from, to] of monotonic time, summed, including a
   * stall still going on: several short stalls delay a run as much as one long one.
   */
  lateWithin(from: number, to: number): number;
  /** How long (ms) before `at` the stall in progress at `at` had begun; 0 when none was. */
  stalledBefore(at: number): number;
  /**
   * A run's timing begins / has been judged (each runStarted is followed by one runEnded): a watch
   * that sleeps between runs (StallWatchOptions.betweenRunsAsleep) looks at the loop meanwhile.
   */
  runStarted?(): void;
  runEnded?(): void;
  /**
   * The prober thread's run-queue wait so far (ms): time it was runnable but not given a CPU,
   * which the loop's lateness misses when it falls where no tick was due (a thread woken for a
   * response waits in the kernel's run queue while, to its loop, it still sleeps in its poll).
   * Null, or no method, where the kernel does not say: the loop's lateness is then all there is.
   */
  queuedMs?(): number | null;
  /** The run-queue wait (ms) a run's measured timing held, once per run measured. */
  runQueued?(waitedMs: number): void;
}

export interface StallWatchOptions {
  readonly clock: Clock;
  readonly maxStallMs: number;
  /** How often the loop is looked at (default 10 ms). */
  readonly tickMs?: number;
  /**
   * The loop's busy time so far in ms (perf_hooks' eventLoopUtilization().active), to size a
   * stall a late tick saw: a block that began just after a tick is up to one tick longer than the
   * tick's lateness. Without it a stall is the tick's lateness alone.
   */
  readonly loopActiveMs?: () => number;
  /** Every stall from 5 ms up, in ms (for slo_agent_stall_seconds). */
  readonly onLag?: (lagMs: number) => void;
  /**
   * Tick only while a run is being timed (between runStarted and runEnded): a stall nothing was
   * timed across measures nothing, and a timer every 10 ms costs ~3-10 ms of CPU a second on its
   * own (a wake-up each time), more than a prober idle between a few probes costs in all.
   * Stalls while no run is in flight are then not seen (nor in slo_agent_stall_seconds).
   */
  readonly betweenRunsAsleep?: boolean;
  /**
   * The watched thread's run-queue wait so far in ms (run-queue.ts). Must read the thread the
   * probes are timed on; without it the guard has the loop's lateness alone.
   */
  readonly runQueueMs?: () => number;
  /** Each run's run-queue wait in ms (for slo_agent_run_queue_seconds). */
  readonly onRunQueue?: (waitedMs: number) => void;
}

/** Stalls are kept this long: longer than any probe's timeout, so every run in flight is covered. */
const KEEP_MS = 10 * 60_000;
/** A tick later than this was held up: timers fire up to about a millisecond late on their own. */
const LATE_MS = 2;
/** Stalls from this long up go to slo_agent_stall_seconds (shorter ones still count in lateWithin). */
const REPORTED_MS = 5;

/**
 * Watches the event loop the probes are timed on: a timer due every tickMs that runs late means
 * the loop was blocked (GC, a long synchronous task, the process not being scheduled), and any
 * duration measured across that gap holds the agent's delay, not the target's. Every gap from
 * 2 ms up is kept, so a finished run can ask how late the loop was in all during its timing:
 * the sum, because a load of short blocks delays a run as much as one long one (perf_hooks'
 * monitorEventLoopDelay only gives a histogram, not when the delays happened).
 */
export class StallWatch implements StallGuard {
  readonly maxStallMs: number;
  readonly #clock: Clock;
  readonly #tickMs: number;
  readonly #loopActiveMs: (() => number) | null;
  readonly #onLag: (lagMs: number) => void;
  readonly #runQueueMs: (() => number) | null;
  readonly #onRunQueue: (waitedMs: number) => void;
  readonly #stalls: Stall[] = [];
  #last: number;
  #activeAtLast = 0;
  #timer: TimerHandle | null = null;
  #started = false;
  #stopped = false;
  readonly #betweenRunsAsleep: boolean;
  /** Runs being timed (runStarted without runEnded yet). */
  #runs = 0;

  constructor(options: StallWatchOptions) {
    this.#clock = options.clock;
    this.maxStallMs = options.maxStallMs;
    this.#tickMs = options.tickMs ?? 10;
    this.#loopActiveMs = options.loopActiveMs ?? null;
    this.#onLag = options.onLag ?? (() => {});
    this.#betweenRunsAsleep = options.betweenRunsAsleep ?? false;
    this.#runQueueMs = options.runQueueMs ?? null;
    this.#onRunQueue = options.onRunQueue ?? (() => {});
    this.#last = this.#clock.monotonic();
  }

  start(): this {
    this.#started = true;
    if (!this.#betweenRunsAsleep || this.#runs > 0) this.#wake();
    return this;
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
  }

  runStarted(): void {
    this.#runs++;
    if (this.#betweenRunsAsleep && this.#runs === 1 && this.#started) this.#wake();
  }

  runEnded(): void {
    this.#runs = Math.max(0, this.#runs - 1);
    if (this.#betweenRunsAsleep && this.#runs === 0) {
      this.#timer?.cancel();
      this.#timer = null;
    }
  }

  queuedMs(): number | null {
    return this.#runQueueMs?.() ?? null;
  }

  runQueued(waitedMs: number): void {
    this.#onRunQueue(waitedMs);
  }

  /** Starts ticking from now: the time asleep before is no stall of any run. */
  #wake(): void {
    if (this.#stopped) return;
    this.#last = this.#clock.monotonic();
    this.#activeAtLast = this.#loopActiveMs?.() ?? 0;
    this.#arm();
  }

  lateWithin(from: number, to: number): number {
    let late = overlap(this.#ongoing(), from, to);
    for (let i = this.#stalls.length - 1; i >= 0; i--) {
      const stall = this.#stalls[i]!;
      if (stall.to < from) break;
      late += overlap(stall, from, to);
    }
    return late;
  }

  stalledBefore(at: number): number {
    const ongoing = this.#ongoing();
    if (ongoing.from < at && at <= ongoing.to) return at - ongoing.from;
    for (let i = this.#stalls.length - 1; i >= 0; i--) {
      const stall = this.#stalls[i]!;
      if (stall.to < at) break;
      if (stall.from < at) return at - stall.from;
    }
    return 0;
  }

  /** The gap since the last tick beyond one tick: a stall that has not been seen by a tick yet. */
  #ongoing(): Stall {
    const now = this.#clock.monotonic();
    // Asleep (no run in flight, or not started): no tick is due, so no gap is a stall.
    if (this.#timer === null) return { from: now, to: now };
    return { from: this.#last + this.#tickMs, to: now };
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), this.#tickMs);
  }

  #tick(): void {
    const now = this.#clock.monotonic();
    const lag = now - this.#last - this.#tickMs;
    const active = this.#loopActiveMs?.() ?? 0;
    if (lag >= LATE_MS) {
      // The loop was busy for the whole lag, and for at most one tick more (the block may have
      // begun right after the last tick): its busy time since then sizes the stall within that.
      const busy = this.#loopActiveMs ? active - this.#activeAtLast : lag;
      const stallMs = Math.min(Math.max(busy, lag), lag + this.#tickMs);
      this.#stalls.push({ from: now - stallMs, to: now });
      if (stallMs >= REPORTED_MS) this.#onLag(stallMs);
    }
    this.#last = now;
    this.#activeAtLast = active;
    const cut = this.#stalls.findIndex((s) => s.to >= now - KEEP_MS);
    if (cut > 0) this.#stalls.splice(0, cut);
    else if (cut === -1) this.#stalls.length = 0;
    this.#arm();
  }
}

function overlap(stall: Stall, from: number, to: number): number {
  return Math.max(0, Math.min(stall.to, to) - Math.max(stall.from, from));
}
