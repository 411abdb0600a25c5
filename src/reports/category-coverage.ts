import type { CategoryId, SloConfig } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { type EpochMs, HOUR_MS, type Interval, isoUtc } from "../model/time.js";
import { DataGapFinder, expectedProbeRuns, probeIntervalOf } from "./coverage.js";
import { MERGE_PROBE_INTERVALS } from "./incidents.js";

/** Runs above the schedule an hour may hold before it is called injected: a run at the hour's edge. */
function slack(expected: number): number {
  return Math.max(1, Math.ceil(expected * 0.05));
}

/**
 * Coverage judged per category and UTC hour (audit finding 10): the month's overall ratio lets
 * extra records in one category hide behind a gap in another, so each category's probe runs are
 * compared with what its schedules expect in every hour, and each category's gaps are found on
 * its own records (a gap in one category is not filled by another's).
 */
export class CategoryCoverage {
  readonly #hourly = new Map<CategoryId, number[]>();
  readonly #gaps = new Map<CategoryId, DataGapFinder>();

  constructor(
    private readonly config: SloConfig,
    categories: readonly CategoryId[],
    private readonly period: Interval,
  ) {
    for (const category of categories) {
      // A category no probe measures (merchant requests only) has no schedule to have gaps in.
      if (!config.probes.some((p) => p.category === category)) continue;
      const interval = probeIntervalOf(config.probes, category, period.start);
      this.#gaps.set(category, new DataGapFinder(period.start, MERGE_PROBE_INTERVALS * interval));
    }
  }

  observe(result: ProbeResult): void {
    if (result.source === "traffic") return;
    const gaps = this.#gaps.get(result.category);
    if (!gaps) return;
    gaps.observe(result.ts);
    let hours = this.#hourly.get(result.category);
    if (!hours) {
      hours = [];
      this.#hourly.set(result.category, hours);
    }
    const hour = Math.floor((result.ts - this.period.start) / HOUR_MS);
    hours[hour] = (hours[hour] ?? 0) + 1;
  }

  /** Every category's gaps up to `until`. */
  gaps(until: EpochMs): Interval[] {
    return [...this.#gaps.values()].flatMap((finder) => finder.gaps(until));
  }

  /** One warning per category that has hours with more probe runs than its schedules expect. */
  warnings(until: EpochMs): string[] {
    const out: string[] = [];
    for (const [category, hours] of this.#hourly) {
      const over: { start: EpochMs; recorded: number; expected: number }[] = [];
      let extra = 0;
      hours.forEach((recorded, hour) => {
        const start = this.period.start + hour * HOUR_MS;
        if (start >= until) return;
        const end = Math.min(start + HOUR_MS, until);
        const expected = expectedProbeRuns(this.config.probes, start, end, new Set([category]));
        if (recorded > expected + slack(expected)) {
          over.push({ start, recorded, expected });
          extra += recorded - expected;
        }
      });
      if (over.length === 0) continue;
      const first = over[0]!;
      out.push(
        `category ${category}: ${extra} more results than its schedules expect in ${over.length} hour(s) (first ${isoUtc(first.start)}: ${first.recorded} recorded, ${first.expected} expected): requests may be counted twice or injected (duplicate imports, several agents, or a changed schedule).`,
      );
    }
    return out;
  }
}

/** Intervals sorted and merged where they overlap or touch. */
export function mergedIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const interval of sorted) {
    const last = out.at(-1);
    if (last && interval.start <= last.end)
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, interval.end) };
    else out.push({ ...interval });
  }
  return out;
}
