import type { Clock, TimerHandle } from "../clock/clock.js";
import type { ProbeId, ProbeSpec } from "../model/config.js";
import type { EpochMs } from "../model/time.js";
import { type FirePlan, firePlansFor } from "./plan.js";

/**
 * What became of a run the scheduler handed over: sent ("performed", also when execute returns
 * nothing), or held back by the runner for politeness or safety. Only performed runs count as
 * coverage.
 */
export type RunDisposition = "performed" | "paused" | "throttled" | "refused";

/** Resolves to a RunDisposition; anything else (nothing at all, typically) means performed. */
export type Execute = (spec: ProbeSpec, plannedAt: EpochMs) => Promise<unknown>;

export interface SchedulerOptions {
  readonly clock: Clock;
  readonly probes: readonly ProbeSpec[];
  readonly execute: Execute;
  /**
   * Runs in flight at most across all probes. Default: 256 (a bound on the agent's sockets)
   * without maxInFlightOf; with it, none but the budgets themselves (their sum bounds the sockets),
   * as a cap below that sum would let slow targets' runs hold the slots of the others.
   */
  readonly maxConcurrent?: number;
  /**
   * Runs in flight at most per target (default: no budget but maxConcurrent): a target whose
   * probes are slow fills its own budget, not the slots of the others; each target can always
   * have its whole budget in flight, whatever the others do (unless maxConcurrent is given).
   */
  readonly maxInFlightOf?: (spec: ProbeSpec) => number;
  /** A run starting this long after its planned instant counts as late (default 1000 ms). */
  readonly lateAfterMs?: number;
  /** Told when execute rejects; the run counts as `failedToRun`. */
  readonly onError?: (spec: ProbeSpec, error: unknown) => void;
  /** Told each time changes() moves: stats() or coverage() may read differently now. */
  readonly onChange?: () => void;
}

/** Per-probe accounting over the scheduler's lifetime. */
export interface ProbeRunStats {
  readonly probe: ProbeId;
  /** Planned instants that came due. */
  readonly expected: number;
  readonly performed: number;
  readonly paused: number;
  readonly throttled: number;
  readonly refused: number;
  readonly failedToRun: number;
  /** Due while the previous run of the same probe was still going. */
  readonly skippedOverlap: number;
  /** Waited for a concurrency slot until its next planned run (or until stop). */
  readonly skippedNoSlot: number;
  /** Started more than lateAfterMs after the planned instant. */
  readonly late: number;
  readonly started: number;
  readonly latenessTotalMs: number;
  readonly latenessMaxMs: number;
}

export interface Coverage {
  readonly probe: ProbeId;
  readonly expected: number;
  readonly performed: number;
  /** performed / expected over settled runs; null before anything came due. */
  readonly ratio: number | null;
}

type Counters = { -readonly [K in keyof Omit<ProbeRunStats, "probe">]: number };

interface ProbeSlot {
  readonly spec: ProbeSpec;
  readonly plan: FirePlan;
  readonly counts: Counters;
  timer: TimerHandle | null;
  running: Promise<void> | null;
  /** A due run waiting for a concurrency slot. */
  queuedAt: EpochMs | null;
  /** Runs handed over whose disposition is not known yet. */
  inFlight: number;
  /** Removed or replaced by a reload: never armed again. */
  retired: boolean;
}

/** Probe ids by what a reload did to them. */
export interface ReconcileOutcome {
  readonly kept: ProbeId[];
  readonly added: ProbeId[];
  readonly changed: ProbeId[];
  readonly removed: ProbeId[];
}

const HELD: ReadonlySet<RunDisposition> = new Set(["paused", "throttled", "refused"]);
const DEFAULT_MAX_CONCURRENT = 256;
const DEFAULT_LATE_AFTER_MS = 1000;
/** A run whose instant is this far after the wall clock when its timer fires: the clock stepped back. */
const CLOCK_STEP_MS = 1000;

export class Scheduler {
  readonly #clock: Clock;
  readonly #execute: Execute;
  readonly #maxConcurrent: number;
  readonly #lateAfterMs: number;
  readonly #onError: ((spec: ProbeSpec, error: unknown) => void) | undefined;
  readonly #onChange: (() => void) | undefined;
  #slots: ProbeSlot[];
  /** Moves whenever stats() or coverage() may have: a run came due, ended, or a reload. */
  #changes = 0;
  /** Due runs waiting for a slot, oldest planned instant first. */
  #queue: ProbeSlot[] = [];
  #running = 0;
  readonly #maxInFlightOf: (spec: ProbeSpec) => number;
  /** Runs in flight by target. */
  /** Runs in flight by target; diagnostic probes (no target) share the null entry. */
  readonly #runningByTarget = new Map<string | null, number>();
  /** Runs still going of probes a reload removed or changed; stop() waits for them too. */
  readonly #retiring = new Set<Promise<void>>();
  #started = false;
  #stopped = false;

  constructor(options: SchedulerOptions) {
    this.#clock = options.clock;
    this.#execute = options.execute;
    this.#maxConcurrent = Math.max(
      1,
      options.maxConcurrent ?? (options.maxInFlightOf ? Number.POSITIVE_INFINITY : DEFAULT_MAX_CONCURRENT),
    );
    this.#lateAfterMs = options.lateAfterMs ?? DEFAULT_LATE_AFTER_MS;
    this.#onError = options.onError;
    this.#onChange = options.onChange;
    this.#maxInFlightOf = options.maxInFlightOf ?? (() => Number.POSITIVE_INFINITY);
    const plans = firePlansFor(options.probes);
    this.#slots = options.probes.map((spec) => newSlot(spec, plans.get(spec.id)!));
  }

  /**
   * A configuration reload: probes `unchanged` judges equal keep their slot (timer, offset,
   * counters, and its offset even where spreading the new set would place it elsewhere); the
   * others are stopped (a run in flight finishes) and the new ones armed.
   */
  reconcile(
    probes: readonly ProbeSpec[],
    unchanged: (a: ProbeSpec, b: ProbeSpec) => boolean,
  ): ReconcileOutcome {
    this.#changed();
    const plans = firePlansFor(probes);
    const old = new Map(this.#slots.map((slot) => [slot.spec.id, slot]));
    const outcome: ReconcileOutcome = { kept: [], added: [], changed: [], removed: [] };
    const slots = probes.map((spec) => {
      const before = old.get(spec.id);
      old.delete(spec.id);
      if (before && unchanged(before.spec, spec)) {
        outcome.kept.push(spec.id);
        return before;
      }
      (before ? outcome.changed : outcome.added).push(spec.id);
      if (before) this.#retire(before);
      const slot = newSlot(spec, plans.get(spec.id)!);
      if (this.#started && !this.#stopped) this.#arm(slot, slot.plan.next(this.#clock.now() - 1));
      return slot;
    });
    for (const slot of old.values()) {
      outcome.removed.push(slot.spec.id);
      this.#retire(slot);
    }
    this.#slots = slots;
    return outcome;
  }

  start(): void {
    if (this.#started) throw new Error("scheduler already started");
    this.#started = true;
    const now = this.#clock.now();
    for (const slot of this.#slots) this.#arm(slot, slot.plan.next(now - 1));
  }

  /** Cancels future runs, drops queued ones and resolves once the running ones have finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const slot of this.#slots) {
      slot.timer?.cancel();
      slot.timer = null;
      if (slot.queuedAt !== null) this.#dropQueued(slot);
    }
    this.#queue = [];
    await Promise.all([...this.#slots.map((s) => s.running), ...this.#retiring]);
  }

  /** The stable offset of a probe within its interval (0 for cron probes). */
  offsetOf(probe: ProbeId): number | undefined {
    return this.#slots.find((s) => s.spec.id === probe)?.plan.offsetMs;
  }

  stats(): ProbeRunStats[] {
    return this.#slots.map((s) => ({ probe: s.spec.id, ...s.counts }));
  }

  /**
   * A number that moves whenever stats() or coverage() may have changed, and only then: between a
   * run coming due, a run ending and a reload, both are what they were. The prober thread sends its
   * accounting only after this moved (onChange): an idle agent's two threads woke every second for
   * an unchanged one.
   */
  changes(): number {
    return this.#changes;
  }

  coverage(): Coverage[] {
    return this.#slots.map((s) => {
      const settled = s.counts.expected - s.inFlight - (s.queuedAt === null ? 0 : 1);
      return {
        probe: s.spec.id,
        expected: settled,
        performed: s.counts.performed,
        ratio: settled > 0 ? s.counts.performed / settled : null,
      };
    });
  }

  #changed(): void {
    this.#changes++;
    this.#onChange?.();
  }

  #retire(slot: ProbeSlot): void {
    slot.retired = true;
    slot.timer?.cancel();
    slot.timer = null;
    if (slot.queuedAt !== null) this.#dropQueued(slot);
    if (slot.running) this.#retiring.add(slot.running);
    void slot.running?.finally(() => this.#retiring.delete(slot.running!));
  }

  #arm(slot: ProbeSlot, plannedAt: EpochMs): void {
    if (this.#stopped || slot.retired) return;
    slot.timer = this.#clock.setTimeout(() => this.#due(slot, plannedAt), plannedAt - this.#clock.now());
  }

  #due(slot: ProbeSlot, plannedAt: EpochMs): void {
    slot.timer = null;
    if (this.#stopped || slot.retired) return;
    this.#changed();
    slot.counts.expected++;
    // Timers run on the monotonic clock, instants on the wall clock: a wall clock stepped back
    // (NTP, by hand) put the next instant after plannedAt that far ahead, and no run came until the
    // clock caught up again. The plan is then taken up from what the clock says now.
    const now = this.#clock.now();
    this.#arm(
      slot,
      plannedAt - now > CLOCK_STEP_MS ? slot.plan.next(now) : this.#nextAfterMissed(slot, plannedAt),
    );
    if (slot.running) {
      slot.counts.skippedOverlap++;
      return;
    }
    // The queued run could not start before this newer one was due: it is skipped.
    if (slot.queuedAt !== null) this.#dropQueued(slot);
    if (this.#hasRoom(slot.spec)) {
      this.#launch(slot, plannedAt);
      return;
    }
    slot.queuedAt = plannedAt;
    this.#queue.push(slot);
  }

  // After a stall (a blocked event loop, a suspended host) planned instants already in the past
  // are counted as expected and skipped, instead of firing them all at once.
  #nextAfterMissed(slot: ProbeSlot, plannedAt: EpochMs): EpochMs {
    const now = this.#clock.now();
    let next = slot.plan.next(plannedAt);
    while (next < now) {
      slot.counts.expected++;
      slot.counts.skippedNoSlot++;
      next = slot.plan.next(next);
    }
    return next;
  }

  #dropQueued(slot: ProbeSlot): void {
    slot.queuedAt = null;
    slot.counts.skippedNoSlot++;
    this.#queue = this.#queue.filter((s) => s !== slot);
  }

  #launch(slot: ProbeSlot, plannedAt: EpochMs): void {
    const lateness = Math.max(0, this.#clock.now() - plannedAt);
    const c = slot.counts;
    c.started++;
    c.latenessTotalMs += lateness;
    c.latenessMaxMs = Math.max(c.latenessMaxMs, lateness);
    if (lateness > this.#lateAfterMs) c.late++;
    const target = slot.spec.target;
    this.#running++;
    this.#runningByTarget.set(target, (this.#runningByTarget.get(target) ?? 0) + 1);
    slot.inFlight++;
    slot.running = this.#run(slot, plannedAt).finally(() => {
      this.#changed();
      this.#running--;
      const left = (this.#runningByTarget.get(target) ?? 1) - 1;
      if (left > 0) this.#runningByTarget.set(target, left);
      else this.#runningByTarget.delete(target);
      slot.inFlight--;
      slot.running = null;
      this.#launchQueued();
    });
  }

  async #run(slot: ProbeSlot, plannedAt: EpochMs): Promise<void> {
    try {
      const disposition = await this.#execute(slot.spec, plannedAt);
      slot.counts[isHeld(disposition) ? disposition : "performed"]++;
    } catch (error) {
      slot.counts.failedToRun++;
      this.#onError?.(slot.spec, error);
    }
  }

  #hasRoom(spec: ProbeSpec): boolean {
    return (
      this.#running < this.#maxConcurrent &&
      (this.#runningByTarget.get(spec.target) ?? 0) < Math.max(1, this.#maxInFlightOf(spec))
    );
  }

  /** Oldest first, each run whose target has room in its budget (the others keep waiting). */
  #launchQueued(): void {
    let i = 0;
    while (!this.#stopped && this.#running < this.#maxConcurrent && i < this.#queue.length) {
      const slot = this.#queue[i]!;
      if (slot.queuedAt === null) {
        this.#queue.splice(i, 1);
        continue;
      }
      if (!this.#hasRoom(slot.spec)) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      const plannedAt = slot.queuedAt;
      slot.queuedAt = null;
      this.#launch(slot, plannedAt);
    }
  }
}

function isHeld(disposition: unknown): disposition is Exclude<RunDisposition, "performed"> {
  return typeof disposition === "string" && HELD.has(disposition as RunDisposition);
}

function newSlot(spec: ProbeSpec, plan: FirePlan): ProbeSlot {
  return {
    spec,
    plan,
    counts: zeroCounters(),
    timer: null,
    running: null,
    queuedAt: null,
    inFlight: 0,
    retired: false,
  };
}

function zeroCounters(): Counters {
  return {
    expected: 0,
    performed: 0,
    paused: 0,
    throttled: 0,
    refused: 0,
    failedToRun: 0,
    skippedOverlap: 0,
    skippedNoSlot: 0,
    late: 0,
    started: 0,
    latenessTotalMs: 0,
    latenessMaxMs: 0,
  };
}
