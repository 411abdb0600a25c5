import type { ProbeSpec } from "../model/config.js";
import type { EpochMs, Interval } from "../model/time.js";
import { type FirePlan, firePlansFor } from "../schedule/index.js";

/** How far incidents reach for a category with no configured probe (imported data). */
export const FALLBACK_PROBE_INTERVAL_MS = 5 * 60_000;

/** Fires of one plan in [from, to). */
function firesBetween(plan: FirePlan, probe: ProbeSpec, from: EpochMs, to: EpochMs): number {
  if (to <= from) return 0;
  if (probe.schedule.kind === "every") {
    // Slots are k * interval + offset: count them arithmetically rather than walking a month of them.
    const { intervalMs } = probe.schedule;
    const first = Math.ceil((from - plan.offsetMs) / intervalMs);
    const afterLast = Math.ceil((to - plan.offsetMs) / intervalMs);
    return afterLast - first;
  }
  let count = 0;
  for (let t = plan.next(from - 1); t < to; t = plan.next(t)) count += 1;
  return count;
}

/**
 * The runs the configured schedules call for in [from, to): what a fully monitored period holds.
 * Counted over the whole period, not only while the agent ran, so that coverage shows the time
 * nobody was watching.
 */
export function expectedProbeRuns(
  probes: readonly ProbeSpec[],
  from: EpochMs,
  to: EpochMs,
  categories?: ReadonlySet<string>,
): number {
  // Plans from every probe, so that the spreading offsets are the ones the daemon uses.
  const plans = firePlansFor(probes);
  let total = 0;
  for (const probe of probes) {
    if (categories && !categories.has(probe.category)) continue;
    total += firesBetween(plans.get(probe.id)!, probe, from, to);
  }
  return total;
}

/** The shortest interval between runs among a category's probes; the fallback when it has none. */
export function probeIntervalOf(probes: readonly ProbeSpec[], category: string, around: EpochMs): number {
  const plans = firePlansFor(probes);
  let shortest = Number.POSITIVE_INFINITY;
  for (const probe of probes) {
    if (probe.category !== category) continue;
    if (probe.schedule.kind === "every") {
      shortest = Math.min(shortest, probe.schedule.intervalMs);
      continue;
    }
    const plan = plans.get(probe.id)!;
    const first = plan.next(around);
    shortest = Math.min(shortest, plan.next(first) - first);
  }
  return Number.isFinite(shortest) ? shortest : FALLBACK_PROBE_INTERVAL_MS;
}

/**
 * Stretches with no result at all for at least `minGapMs`: time nobody measured, whether the
 * agent was down or the data came from an import with holes.
 */
export class DataGapFinder {
  readonly #gaps: Interval[] = [];
  #last: EpochMs;

  constructor(
    readonly from: EpochMs,
    readonly minGapMs: number,
  ) {
    // A month that starts without data has a gap from its first instant.
    this.#last = from;
  }

  observe(ts: EpochMs): void {
    if (ts - this.#last >= this.minGapMs) this.#gaps.push({ start: this.#last, end: ts });
    this.#last = Math.max(this.#last, ts);
  }

  /** The gaps up to `until`, including one that is still open there. */
  gaps(until: EpochMs): Interval[] {
    const tail = until - this.#last >= this.minGapMs ? [{ start: this.#last, end: until }] : [];
    return [...this.#gaps, ...tail];
  }
}
