/**
 * The figures of the generated month computed by plain counting over the generated records,
 * with the exact sorted-array p99: the independent side of the comparison.
 */
import { FAILURE_REASONS } from "../../src/model/index.js";
import { COUNTED_FLAGS } from "../../src/reports/classification.js";
import { CATEGORIES, CLASSES, EXCLUDED, type ScenarioResult } from "./month-scenario.js";

export interface Counted {
  requests: number;
  successful: number;
  excluded: number;
  durations: number[];
  /** Every request made and those served, exclusions included: the measured availability. */
  made: number;
  madeServed: number;
}

export function isExcluded(r: ScenarioResult): boolean {
  return EXCLUDED.some(
    (x) =>
      r.ts >= x.start && r.ts < x.end && (x.categories.includes("all") || x.categories.includes(r.category)),
  );
}

function emptyCount(): Counted {
  return { requests: 0, successful: 0, excluded: 0, durations: [], made: 0, madeServed: 0 };
}

function add(count: Counted, r: ScenarioResult): void {
  const served = r.status !== null && r.status >= 200 && r.status <= 499;
  count.made += 1;
  if (served) count.madeServed += 1;
  if (isExcluded(r)) {
    count.excluded += 1;
    return;
  }
  count.requests += 1;
  if (served) count.successful += 1;
  if (r.status !== null || r.error === "timeout") count.durations.push(r.duration_ms);
}

/** Nearest rank: the smallest value with at least 99% of the values at or below it. */
export function exactP99(durations: readonly number[]): number | null {
  if (durations.length === 0) return null;
  const sorted = [...durations].sort((a, b) => a - b);
  return sorted[Math.ceil(0.99 * sorted.length) - 1]!;
}

export function countByCategory(results: readonly ScenarioResult[]): Map<string, Counted> {
  const counts = new Map(CATEGORIES.map((c) => [c.id as string, emptyCount()]));
  for (const r of results) add(counts.get(r.category)!, r);
  return counts;
}

export function countByDay(results: readonly ScenarioResult[]): Map<string, Counted> {
  const counts = new Map<string, Counted>();
  for (const r of results) {
    const key = `${new Date(r.ts).toISOString().slice(0, 10)}/${r.category}`;
    if (!counts.has(key)) counts.set(key, emptyCount());
    add(counts.get(key)!, r);
  }
  return counts;
}

export function expectedCategoryRows(results: readonly ScenarioResult[]) {
  const counts = countByCategory(results);
  return CATEGORIES.map((c) => {
    const n = counts.get(c.id)!;
    const target = CLASSES.find((k) => k.id === c.cls)!.target;
    const availability = n.requests === 0 ? null : (n.successful * 100) / n.requests;
    const p99 = exactP99(n.durations);
    return {
      category: c.id,
      service_class: c.cls,
      requests: n.requests,
      successful: n.successful,
      excluded: n.excluded,
      availability_pct: availability,
      availability_met: availability === null ? null : availability >= target,
      exact_p99: p99,
      latency_met: p99 === null ? null : p99 <= c.objective,
    };
  });
}

export function expectedClassRows(results: readonly ScenarioResult[]) {
  const counts = countByCategory(results);
  return CLASSES.map((k) => {
    const members = CATEGORIES.filter((c) => c.cls === k.id).map((c) => counts.get(c.id)!);
    const requests = members.reduce((s, m) => s + m.requests, 0);
    const successful = members.reduce((s, m) => s + m.successful, 0);
    const availability = requests === 0 ? null : (successful * 100) / requests;
    return {
      service_class: k.id,
      requests,
      successful,
      availability_pct: availability,
      availability_met: availability === null ? null : availability >= k.target,
    };
  });
}

/** HDR with 3 significant digits reports a value at or just above the exact one (µs rounding aside). */
export function withinHdrPrecision(reported: number | null, exact: number | null): boolean {
  if (reported === null || exact === null) return reported === exact;
  return reported >= exact - 0.001 && reported <= exact * 1.001 + 0.001;
}

/** Flag and body-error counts by plain counting: every known key, zeros included. */
export function countClassification(results: readonly ScenarioResult[]) {
  const count = (has: (r: ScenarioResult) => boolean) => results.filter(has).length;
  return {
    result_flags: Object.fromEntries(
      COUNTED_FLAGS.map((f) => [f, count((r) => r.flags?.includes(f) ?? false)]),
    ),
    body_errors: Object.fromEntries(FAILURE_REASONS.map((e) => [e, count((r) => r.body_error === e)])),
  };
}

/** Per category, over its counted (non-excluded) results, as the report counts them. */
export function expectedClassificationByCategory(results: readonly ScenarioResult[]) {
  return new Map(
    CATEGORIES.map((c) => [
      c.id as string,
      countClassification(results.filter((r) => r.category === c.id && !isExcluded(r))),
    ]),
  );
}
