import type { MeasurementProblemFigures } from "../slo/index.js";
import type { ClassificationCounts } from "./classification.js";
import type { AgentPart } from "./merge.js";
import type { CategoryRow, Coverage, MonthlyReport } from "./model.js";

/** Flags, body errors and measurement problems of one category, added across agents. */
export function mergeCategoryExtras(rows: readonly CategoryRow[]): ClassificationCounts & {
  measurement_problems: MeasurementProblemFigures[];
  merchant_side_excluded_minutes: number;
} {
  const addCounts = <K extends string>(maps: readonly Readonly<Record<K, number>>[]) => {
    const out = {} as Record<K, number>;
    for (const map of maps) {
      for (const [key, n] of Object.entries(map) as [K, number][]) out[key] = (out[key] ?? 0) + n;
    }
    return out;
  };
  const problems = new Map<string, MeasurementProblemFigures>();
  for (const p of rows.flatMap((r) => r.measurement_problems)) {
    const seen = problems.get(p.kind);
    problems.set(
      p.kind,
      seen === undefined
        ? p
        : {
            kind: p.kind,
            requests: seen.requests + p.requests,
            first: p.first < seen.first ? p.first : seen.first,
            last: p.last > seen.last ? p.last : seen.last,
          },
    );
  }
  return {
    result_flags: addCounts(rows.map((r) => r.result_flags)),
    body_errors: addCounts(rows.map((r) => r.body_errors)),
    measurement_problems: [...problems.values()],
    // Each agent's own controls judged its own requests: the minutes add up like its requests.
    merchant_side_excluded_minutes:
      Math.round(rows.reduce((n, r) => n + (r.merchant_side_excluded_minutes ?? 0), 0) * 100) / 100,
  };
}

/** Expected and recorded probe runs add up; the ratio is of the sums. */
export function mergeCoverage(reports: readonly MonthlyReport[]): Coverage {
  const expected = reports.reduce((n, r) => n + r.coverage.expected_probes, 0);
  const recorded = reports.reduce((n, r) => n + r.coverage.recorded_probes, 0);
  return {
    expected_probes: expected,
    recorded_probes: recorded,
    ratio: expected === 0 ? null : recorded / expected,
    agent_runs: reports.reduce((n, r) => n + r.coverage.agent_runs, 0),
  };
}

/**
 * Maintenance windows or exclusions (the same configuration everywhere) with the requests each
 * agent saw them exclude added up; a window only some agents know (a feed window) is kept as it is.
 * The parts of a window changed late share its id: each part is added up on its own.
 */
export function mergeIntervalCounts<
  T extends {
    readonly id: string;
    readonly start: string;
    readonly categories: readonly string[];
    readonly excluded_requests: number | null;
  },
>(lists: readonly (readonly T[])[]): T[] {
  const merged = new Map<string, T>();
  for (const item of lists.flat()) {
    const key = JSON.stringify([item.id, item.start, item.categories]);
    const seen = merged.get(key);
    if (seen === undefined) merged.set(key, item);
    else {
      const both = seen.excluded_requests === null || item.excluded_requests === null;
      merged.set(key, {
        ...seen,
        excluded_requests: both ? null : seen.excluded_requests! + item.excluded_requests!,
      });
    }
  }
  return [...merged.values()];
}

/** Each agent's own list (incidents, gaps, ...), each entry tagged with its agent and region, in `key` order. */
export function tagged<T extends Record<K, string>, K extends string>(
  parts: readonly AgentPart[],
  pick: (report: MonthlyReport) => readonly T[],
  key: K,
): (T & { agent: string; region: string })[] {
  return parts
    .flatMap((p) =>
      pick(p.summary.report).map((item) => ({ ...item, agent: p.summary.agent, region: p.summary.region })),
    )
    .sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0));
}
