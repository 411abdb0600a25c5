import type { Clock } from "../clock/clock.js";
import type { ProbeSpec } from "../model/config.js";
import { sameProbe, structurallyEqual } from "../model/equal.js";
import type { ResultSink } from "../model/sink.js";
import { ProbeRunner, type RunnerConfig, StallWatch } from "../probes/index.js";
import { type Coverage, type ProbeRunStats, type ReconcileOutcome, Scheduler } from "../schedule/index.js";

/** Runs of one target's probes in flight at once, unless its `max_in_flight` says otherwise. */
export const DEFAULT_MAX_IN_FLIGHT = 8;

/** What the daemon asks of its probing: the schedules, the runs and their accounting. */
export interface Probing {
  start(): void;
  /** The provider probes' run accounting (controls stay out of it). */
  stats(): ProbeRunStats[];
  coverage(): Coverage[];
  /** Moves whenever stats() or coverage() may have changed (Scheduler.changes). */
  changes(): number;
  /** A reload: targets and probes as configured now. */
  reconcile(config: RunnerConfig, probes: readonly ProbeSpec[]): ReconcileOutcome;
  /** Stops scheduling, waits for the runs in flight (aborted ones are recorded) and closes the connections. */
  stop(): Promise<void>;
}

export interface ProbingSetup {
  readonly clock: Clock;
  /** The provider's targets and the controls' own. */
  readonly config: RunnerConfig;
  readonly probes: readonly ProbeSpec[];
  readonly controls: readonly ProbeSpec[];
  readonly sink: ResultSink;
  readonly maxStallMs: number;
  /** The loop's busy time so far (ms), on the clock's scale: sizes stalls (StallWatchOptions). */
  readonly loopActiveMs?: () => number;
  readonly log: (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;
  /**
   * agent.nice_other_threads: how much lower than the prober's the other threads' CPU priority is
   * (thread-priority.ts); only where the probes have a thread of their own. 0 leaves them level.
   */
  readonly niceOtherThreads?: number;
  /** A stall of the loop the probes are timed on (slo_agent_stall_seconds). */
  readonly onLag: (lagMs: number) => void;
  /**
   * The calling thread's run-queue wait so far (ms, run-queue.ts): only where that thread is the
   * one the probes are timed on with the real clock (the prober's own thread). Without it the stall
   * guard has the loop's lateness alone.
   */
  readonly runQueueMs?: () => number;
  /** Each run's run-queue wait, in ms (slo_agent_run_queue_seconds). */
  readonly onRunQueue?: (waitedMs: number) => void;
  /** How late a provider probe's run started (slo_agent_schedule_lateness_seconds). */
  readonly onLateness: (probe: string, lateMs: number) => void;
  /** The provider probes' stats() or coverage() may read differently now (Scheduler's onChange). */
  readonly onAccountingChange?: () => void;
}

/**
 * The schedules, the runner and the stall watch on the calling thread: inside the prober's own
 * thread (prober-worker.ts), or on the main thread when the clock cannot cross to a thread (a
 * test's fake clock).
 */
export function probeHere(setup: ProbingSetup): Probing {
  const { clock } = setup;
  let config = setup.config;
  const stalls = new StallWatch({
    clock,
    maxStallMs: setup.maxStallMs,
    onLag: setup.onLag,
    betweenRunsAsleep: true,
    ...(setup.loopActiveMs ? { loopActiveMs: setup.loopActiveMs } : {}),
    ...(setup.runQueueMs ? { runQueueMs: setup.runQueueMs } : {}),
    ...(setup.onRunQueue ? { onRunQueue: setup.onRunQueue } : {}),
  });
  const runner = new ProbeRunner({
    clock,
    config,
    sink: setup.sink,
    logger: (line) => setup.log("warn", line),
    stalls,
  });
  // Controls' own targets have no max_in_flight: they get the default budget.
  const maxInFlightOf = (spec: ProbeSpec) =>
    (spec.target === null ? undefined : config.targets.get(spec.target)?.maxInFlight) ??
    DEFAULT_MAX_IN_FLIGHT;
  const onError = (what: string) => (spec: ProbeSpec, error: unknown) =>
    setup.log("error", `${what} could not run`, {
      probe: spec.id,
      error: error instanceof Error ? error.message : String(error),
    });
  // Controls run on a scheduler of their own: they are not the provider's probes, so they stay
  // out of its coverage and self-metrics.
  const controlScheduler = new Scheduler({
    clock,
    probes: setup.controls,
    execute: (spec, plannedAt) => runner.execute(spec, plannedAt),
    maxInFlightOf,
    onError: onError("control"),
  });
  const scheduler = new Scheduler({
    clock,
    probes: setup.probes,
    execute: (spec, plannedAt) => {
      setup.onLateness(spec.id, Math.max(0, clock.now() - plannedAt));
      return runner.execute(spec, plannedAt);
    },
    maxInFlightOf,
    onError: onError("probe"),
    ...(setup.onAccountingChange ? { onChange: setup.onAccountingChange } : {}),
  });
  return {
    start() {
      stalls.start();
      scheduler.start();
      controlScheduler.start();
    },
    stats: () => scheduler.stats(),
    coverage: () => scheduler.coverage(),
    changes: () => scheduler.changes(),
    reconcile(next, probes) {
      runner.reconfigure(next, structurallyEqual);
      config = next;
      return scheduler.reconcile(probes, sameProbe);
    },
    async stop() {
      await Promise.all([scheduler.stop(), controlScheduler.stop()]);
      await runner.close();
      stalls.stop();
    },
  };
}
