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

/** Milliseconds of [start, end) inside at least one of `spans` (a plain sweep over the sorted spans). */
function unionWithin(spans: readonly { start: number; end: number }[], start: number, end: number): number {
  let ms = 0;
  let reached = start;
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    const from = Math.max(s.start, reached);
    const to = Math.min(s.end, end);
    if (to > from) {
      ms += to - from;
      reached = to;
    }
  }
  return ms;
}

/**
 * Rule 4: windows sharing an id, or overlapping in time and a category, are one occasion (the
 * earliest occasion they meet), and an occasion's hours count once on the union of its time.
 */
export function naiveQualify(
  windows: readonly MaintenanceWindow[],
  policy: MaintenancePolicy,
): NaiveQualified[] {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const out: NaiveQualified[] = [];
  const noticed: { w: MaintenanceWindow; occasion: number }[] = [];
  const spans: { occasion: number; start: number; end: number }[] = [];
  const share = (a: MaintenanceWindow["categories"], b: MaintenanceWindow["categories"]) =>
    a === "all" || b === "all"
      ? (a === "all" || a.length > 0) && (b === "all" || b.length > 0)
      : a.some((c) => b.includes(c));
  for (const w of sorted) {
    if (w.announcedAt > w.start - policy.minNoticeDays * DAY) continue;
    const year = new Date(w.start).getUTCFullYear();
    const ofYear = noticed.filter((o) => new Date(o.w.start).getUTCFullYear() === year);
    const occasions = [...new Set(ofYear.map((o) => o.occasion))];
    const sameId = ofYear.filter((o) => o.w.id === w.id).map((o) => o.occasion);
    const met = ofYear
      .filter((o) => o.w.start < w.end && o.w.end > w.start && share(o.w.categories, w.categories))
      .map((o) => o.occasion);
    const occasion =
      sameId.length > 0 ? Math.min(...sameId) : met.length > 0 ? Math.min(...met) : occasions.length;
    noticed.push({ w, occasion });
    if (occasion >= policy.maxOccasionsPerYear) continue;
    const yearSpans = spans.filter((s) => new Date(s.start).getUTCFullYear() === year);
    let used = 0;
    for (const o of new Set(yearSpans.map((s) => s.occasion)))
      used += unionWithin(
        yearSpans.filter((s) => s.occasion === o),
        Number.MIN_SAFE_INTEGER,
        Number.MAX_SAFE_INTEGER,
      );
    const own = yearSpans.filter((s) => s.occasion === occasion);
    const length = Math.min(
      w.end - w.start,
      unionWithin(own, w.start, w.end) + Math.max(0, policy.maxHoursPerYear * HOUR - used),
    );
    if (length > 0) {
      out.push({ id: w.id, start: w.start, qualifiedEnd: w.start + length, categories: w.categories });
      spans.push({ occasion, start: w.start, end: w.start + length });
    }
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
