import { MAX_DURATION_MS } from "../model/result.js";
import { availabilityPct } from "../slo/index.js";
import { type AgentMonthSummary, type LatencyTail, type Served, tailSizeFor } from "./agent-summary.js";
import { pooledP99 } from "./merge.js";

/**
 * A signed agent's figures must agree with each other (docs/regions-merge.md#what-the-merge-refuses):
 * each field may be well-formed while the summary as a whole is impossible (50 times more
 * latency-counted durations than requests, a day of 1244 requests in a month of 100, a p99
 * below its own largest durations). Each check names the rule broken; derived figures
 * (availability, p99) are recomputed from the counts and the tail, never taken on trust.
 */
export function summaryInconsistency(s: AgentMonthSummary, dayCount: number): string | null {
  for (const row of s.report.categories) {
    const id = row.category;
    const latency = s.latency_counts[id];
    const measured = s.measured[id];
    if (latency === undefined || measured === undefined)
      return `category ${id}: no latency_counts or measured counts`;
    const daily = s.report.daily.filter((d) => d.category === id);
    if (daily.length !== dayCount)
      return `daily: ${daily.length} rows of ${id}, the month has ${dayCount} days`;
    const rules: [boolean, string][] = [
      [sum(latency.days) !== latency.month, `latency_counts.${id}: the days do not add up to the month`],
      [latency.month > row.requests, `latency_counts.${id}.month: more durations than requests`],
      [
        sum(measured.days.map((d) => d.requests)) !== measured.month.requests ||
          sum(measured.days.map((d) => d.served)) !== measured.month.served,
        `measured.${id}: the days do not add up to the month`,
      ],
      [
        row.requests > measured.month.requests || row.excluded > measured.month.requests,
        `category ${id}: more requests or excluded requests than it measured (measured.${id}.month.requests)`,
      ],
      [
        sum(daily.map((d) => d.requests)) !== row.requests ||
          sum(daily.map((d) => d.served)) !== row.successful ||
          sum(daily.map((d) => d.excluded)) !== row.excluded,
        `daily: the rows of ${id} do not add up to the month's requests, successful and excluded`,
      ],
      [
        !same(row.availability_pct, availabilityPct({ requests: row.requests, served: row.successful })),
        `category ${id}: availability_pct is not successful / requests`,
      ],
      [
        !same(row.measured_availability_pct, availabilityPct(measured.month)),
        `category ${id}: measured_availability_pct is not its measured counts'`,
      ],
      [latency.month === 0 && row.latency_p99_ms !== null, `category ${id}: a p99 without any duration`],
    ];
    const broken = rules.find(([wrong]) => wrong) ?? detailRules(row, measured.month, daily)?.[0];
    if (broken) return broken[1];
    for (const [d, day] of daily.entries()) {
      const problem = dayInconsistency(id, day, latency.days[d]!, measured.days[d]!);
      if (problem !== null) return problem;
    }
  }
  return reportListsInconsistency(s);
}

type CategoryRowOf = AgentMonthSummary["report"]["categories"][number];
type DailyRowOf = AgentMonthSummary["report"]["daily"][number];

/** Minutes of a UTC day: a day's merchant-side minutes cannot exceed them. */
const DAY_MINUTES = 1440;

/**
 * A category's detail counts against its requests: each flag and body error is counted once per
 * request it was seen on, a measurement problem once per measured request, and the merchant-side
 * minutes (to one hundredth, src/slo/validity-log.ts) are time within the period, the month's the
 * sum of its days'. Returns the first broken rule, as [true, message], or null.
 */
function detailRules(
  row: CategoryRowOf,
  measured: Served,
  daily: readonly DailyRowOf[],
): [boolean, string][] | null {
  const id = row.category;
  const detail = row as CategoryRowOf & {
    result_flags?: Record<string, number>;
    body_errors?: Record<string, number>;
    measurement_problems?: { kind: string; requests: number }[];
    merchant_side_excluded_minutes?: number;
  };
  const flags = Object.entries(detail.result_flags ?? {});
  const bodyErrors = Object.values(detail.body_errors ?? {});
  const minutes = detail.merchant_side_excluded_minutes ?? 0;
  const dayMinutes = daily.map((d) => d.merchant_side_excluded_minutes ?? 0);
  const rules: [boolean, string][] = [
    [flags.some(([, n]) => n > row.requests), `category ${id}: a result_flags count above its requests`],
    [sum(bodyErrors) > row.requests, `category ${id}: more body_errors than requests`],
    [
      (detail.measurement_problems ?? []).some((p) => p.requests > measured.requests),
      `category ${id}: a measurement problem of more requests than it measured`,
    ],
    [
      [minutes, ...dayMinutes].some((m) => !hundredths(m)),
      `category ${id}: merchant_side_excluded_minutes not to one hundredth of a minute`,
    ],
    [
      dayMinutes.some((m) => m > DAY_MINUTES),
      `daily ${id}: merchant_side_excluded_minutes above the ${DAY_MINUTES} minutes of a day`,
    ],
    [
      // Month and days are each rounded to 0.01: they may differ by half a hundredth per day.
      Math.abs(minutes - sum(dayMinutes)) > 0.005 * (daily.length + 1) + 1e-9,
      `category ${id}: merchant_side_excluded_minutes is not the sum of its days'`,
    ],
  ];
  const broken = rules.filter(([wrong]) => wrong);
  return broken.length > 0 ? broken : null;
}

/**
 * The incidents, automatic exclusions and coverage against the categories' counts: an incident
 * holds no more requests than its category, failed ones no more than its requests, each flag and
 * body error no more than its failed requests; an automatic exclusion no more requests than its
 * categories excluded; coverage's ratio is its recorded / expected probes, and no more probes
 * recorded than results measured.
 */
function reportListsInconsistency(s: AgentMonthSummary): string | null {
  const rows = new Map(s.report.categories.map((c) => [c.category, c]));
  for (const incident of s.report.incidents ?? []) {
    const row = rows.get(incident.category)!;
    const at = `incident ${incident.start} ${incident.category}`;
    if (incident.requests > row.requests) return `${at}: more requests than its category`;
    if (incident.failed_requests > incident.requests) return `${at}: more failed requests than requests`;
    const counts = [...Object.values(incident.result_flags), ...Object.values(incident.body_errors)];
    if (
      counts.some((n) => n > incident.failed_requests) ||
      sum(Object.values(incident.body_errors)) > incident.failed_requests
    )
      return `${at}: a result_flags or body_errors count above its failed requests`;
  }
  for (const incident of s.report.latency_incidents ?? []) {
    if (incident.requests > rows.get(incident.category)!.requests)
      return `latency incident ${incident.start} ${incident.category}: more requests than its category`;
  }
  for (const exclusion of s.report.automatic_exclusions ?? []) {
    const excluded = sum(exclusion.categories.map((c) => rows.get(c)?.excluded ?? 0));
    if (exclusion.requests > excluded)
      return `automatic exclusion ${exclusion.start}: more requests than its categories excluded`;
  }
  const coverage = s.report.coverage;
  const measured = sum(Object.values(s.measured).map((m) => m.month.requests));
  const ratio = coverage.expected_probes === 0 ? null : coverage.recorded_probes / coverage.expected_probes;
  if (coverage.ratio !== ratio) return "coverage: ratio is not recorded_probes / expected_probes";
  if (coverage.recorded_probes > measured) return "coverage: more recorded probes than results measured";
  return null;
}

/** A value to one hundredth (0.01), as the agent rounds minutes. */
function hundredths(value: number): boolean {
  return Math.abs(value * 100 - Math.round(value * 100)) < 1e-6;
}

function dayInconsistency(
  id: string,
  day: AgentMonthSummary["report"]["daily"][number],
  latency: number,
  measured: Served,
): string | null {
  const at = `daily ${day.date} ${id}`;
  if (latency > day.requests) return `${at}: more durations (latency_counts) than requests`;
  if (day.requests > measured.requests || day.excluded > measured.requests)
    return `${at}: more requests or excluded requests than it measured that day`;
  if (!same(day.availability_pct, availabilityPct({ requests: day.requests, served: day.served })))
    return `${at}: availability_pct is not served / requests`;
  if (latency === 0 && day.latency_p99_ms !== null) return `${at}: a p99 without any duration`;
  return null;
}

/**
 * The tail on its own: each a duration a result can hold, largest first, no day's above the
 * month's largest.
 */
export function tailProblem(tail: LatencyTail): string | null {
  const lists: [string, number[]][] = [
    ["month_ms", tail.month_ms],
    ...tail.days_ms.map((list, d): [string, number[]] => [`days_ms.${d}`, list]),
  ];
  for (const [name, list] of lists) {
    if (list.some((v) => v > MAX_DURATION_MS)) return `${name}: a duration above ${MAX_DURATION_MS} ms`;
    if (list.some((v, i) => i > 0 && v > list[i - 1]!)) return `${name}: not largest first`;
  }
  const above = tail.days_ms.findIndex((list) => (list[0] ?? 0) > (tail.month_ms[0] ?? 0));
  if (above >= 0) return `days_ms.${above}: a duration above the month's largest`;
  return null;
}

/**
 * The tail against the agent's own summary: exactly min(top, count) durations (per day
 * likewise), the month's largest the largest of the days', and the p99s the agent reported the nearest ranks of its own durations. Only
 * meaningful when the agent's evidence did not change between the two answers.
 */
export function tailInconsistency(tail: LatencyTail, summary: AgentMonthSummary): string | null {
  const id = tail.category;
  const counts = summary.latency_counts[id]!;
  const row = summary.report.categories.find((c) => c.category === id)!;
  const lists: [string, number[], number][] = [
    ["month_ms", tail.month_ms, Math.min(tail.top, counts.month)],
    ...tail.days_ms.map((list, d): [string, number[], number] => [
      `days_ms.${d}`,
      list,
      Math.min(tail.days[d] ?? 0, counts.days[d] ?? 0),
    ]),
  ];
  for (const [name, list, expected] of lists) {
    if (list.length !== expected)
      return `${name}: ${list.length} durations, asked for ${expected} (min of top and its latency count)`;
  }
  // Every day with durations was asked for at least one: the month's largest is one of them.
  const dayMax = Math.max(0, ...tail.days_ms.map((list) => list[0] ?? 0));
  if ((tail.month_ms[0] ?? 0) !== dayMax)
    return "month_ms: its largest duration is not the largest of its days'";
  if (
    tail.top >= tailSizeFor(counts.month) &&
    !same(row.latency_p99_ms, pooledP99(counts.month, [tail.month_ms]))
  )
    return `category ${id}: latency_p99_ms ${row.latency_p99_ms} is not the nearest rank of its own durations`;
  const largest = tail.month_ms[0] ?? 0;
  const above = (summary.report.latency_incidents ?? []).find((i) => i.category === id && i.p99_ms > largest);
  if (above)
    return `latency incident ${above.start} ${id}: p99_ms ${above.p99_ms} above its largest duration`;
  const daily = summary.report.daily.filter((d) => d.category === id);
  for (const [d, day] of daily.entries()) {
    if ((tail.days[d] ?? 0) < tailSizeFor(counts.days[d] ?? 0)) continue;
    if (!same(day.latency_p99_ms, pooledP99(counts.days[d] ?? 0, [tail.days_ms[d] ?? []])))
      return `daily ${day.date} ${id}: latency_p99_ms is not the nearest rank of its own durations`;
  }
  return null;
}

function same(a: number | null, b: number | null): boolean {
  return a === b;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
