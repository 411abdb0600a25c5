/**
 * A naive reference implementation of contract section 1, written from the text with plain loops
 * and sorted arrays, for the property tests to compare the module against.
 */
import type { MaintenancePolicy, MaintenanceWindow, ProbeResult } from "../../src/model/index.js";
import type { FiguresConfig } from "../../src/slo/index.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;

export interface NaiveQualified {
  readonly id: string;
  readonly start: number;
  readonly qualifiedEnd: number;
  readonly categories: MaintenanceWindow["categories"];
}

export function naiveQualify(
  windows: readonly MaintenanceWindow[],
  policy: MaintenancePolicy,
): NaiveQualified[] {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const out: NaiveQualified[] = [];
  for (const w of sorted) {
    if (w.announcedAt > w.start - policy.minNoticeDays * DAY) continue;
    const year = new Date(w.start).getUTCFullYear();
    const earlier = sorted.filter(
      (o) =>
        sorted.indexOf(o) < sorted.indexOf(w) &&
        new Date(o.start).getUTCFullYear() === year &&
        o.announcedAt <= o.start - policy.minNoticeDays * DAY,
    );
    if (earlier.length >= policy.maxOccasionsPerYear) continue;
    let used = 0;
    for (const q of out) if (new Date(q.start).getUTCFullYear() === year) used += q.qualifiedEnd - q.start;
    const length = Math.min(w.end - w.start, policy.maxHoursPerYear * HOUR - used);
    if (length > 0)
      out.push({ id: w.id, start: w.start, qualifiedEnd: w.start + length, categories: w.categories });
  }
  return out;
}

export function naiveExcluded(
  config: FiguresConfig,
  qualified: readonly NaiveQualified[],
  r: ProbeResult,
): boolean {
  const covers = (scope: MaintenanceWindow["categories"]) => scope === "all" || scope.includes(r.category);
  for (const q of qualified)
    if (covers(q.categories) && r.ts >= q.start && r.ts < q.qualifiedEnd) return true;
  for (const e of config.exclusions) if (covers(e.categories) && r.ts >= e.start && r.ts < e.end) return true;
  return false;
}

export interface NaiveFigures {
  requests: number;
  served: number;
  excluded: number;
  p99Ms: number | null;
}

/** Figures of the results the filter keeps, by the contract's words. */
export function naiveFigures(
  config: FiguresConfig,
  qualified: readonly NaiveQualified[],
  results: readonly ProbeResult[],
  keep: (r: ProbeResult) => boolean,
): NaiveFigures {
  let requests = 0;
  let served = 0;
  let excluded = 0;
  const durations: number[] = [];
  for (const r of results) {
    if (!keep(r)) continue;
    if (naiveExcluded(config, qualified, r)) {
      excluded++;
      continue;
    }
    requests++;
    if (r.status !== null && r.status >= 200 && r.status <= 499) served++;
    if (r.status !== null || r.error === "timeout") durations.push(r.durationMs);
  }
  durations.sort((a, b) => a - b);
  const rank = Math.ceil((99 * durations.length) / 100);
  // The report's p99 is exact nearest rank (contract section 1, amended): the ranked raw value itself.
  const p99Ms = durations.length === 0 ? null : durations[rank - 1]!;
  return { requests, served, excluded, p99Ms };
}
