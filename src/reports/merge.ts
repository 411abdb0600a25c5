import { createHash } from "node:crypto";
import type { CategoryId } from "../model/config.js";
import { isoUtc, monthInterval } from "../model/time.js";
import {
  availabilityPct,
  type CategoryFigures,
  creditAmountOf,
  creditPctOf,
  errorBudget,
  meetsAvailabilityTarget,
  meetsLatencyObjective,
  serviceClassFigures,
} from "../slo/index.js";
import type { AgentMonthSummary, LatencyTail, Served } from "./agent-summary.js";
import { preliminaryReasons } from "./context.js";
import { mergeCategoryExtras, mergeCoverage, mergeIntervalCounts, tagged } from "./merge-parts.js";
import type { CategoryRow, DailyRow, MonthlyReport } from "./model.js";
import { missedObjectives } from "./model.js";
import type { TrafficFigures } from "./traffic-figures.js";

/** One agent's part of a merged report. */
export interface AgentPart {
  readonly url: string;
  readonly summary: AgentMonthSummary;
}

/** Contract section 12: one category's figures as one agent measured them. */
export interface RegionFigures {
  readonly region: string;
  readonly agent: string;
  readonly requests: number;
  readonly successful: number;
  readonly availability_pct: number | null;
  readonly latency_p99_ms: number | null;
}

/** Who a merged report was built from, with each agent's signed evidence, so each stays checkable. */
export interface MergedAgent {
  readonly agent: string;
  readonly region: string;
  readonly url: string;
  readonly agent_version: string;
  readonly evidence: MonthlyReport["evidence"];
}

export type MergedReport = Omit<MonthlyReport, "categories"> & {
  readonly categories: readonly (CategoryRow & { readonly regions: readonly RegionFigures[] })[];
  readonly merged_from: readonly MergedAgent[];
};

/** The value at the nearest rank ceil(99 n / 100) of n pooled values, from the tails the agents sent. */
export function pooledP99(n: number, tails: readonly (readonly number[])[]): number | null {
  if (n === 0) return null;
  const m = n - Math.ceil((99 * n) / 100) + 1;
  const largest = tails.flat().sort((a, b) => b - a);
  if (largest.length < m)
    throw new RangeError(`the agents sent ${largest.length} durations, ${m} are needed`);
  return largest[m - 1]!;
}

/**
 * One report from several agents' summaries (docs/regions-merge.md): counts add exactly, the p99
 * of each category and day is the nearest rank of the pooled durations (from the tails), and
 * each category row lists its regions. Pure: the caller fetched everything.
 */
export function mergeAgentReports(
  parts: readonly AgentPart[],
  tails: ReadonlyMap<CategoryId, readonly LatencyTail[]>,
  now: number,
): MergedReport {
  const first = parts[0]!.summary;
  const reports = parts.map((p) => p.summary.report);
  const categories = first.report.categories.map((row) =>
    mergedCategory(row, parts, tails.get(row.category) ?? []),
  );
  const service_classes = first.report.service_classes.map((cls) => {
    const figures = serviceClassFigures(
      { id: cls.service_class, title: cls.title, availabilityTarget: cls.availability_target_pct / 100 },
      categories.filter((c) => c.service_class === cls.service_class),
    );
    const credit_pct = creditPctOf({ requests: figures.requests, served: figures.successful }, first.credits);
    return {
      ...figures,
      credit_pct,
      credit_amount: creditAmountOf(credit_pct, first.report.context.monthly_fee ?? null),
    };
  });
  const period = monthInterval(first.month);
  const coverage = mergeCoverage(reports);
  const reasons = preliminaryReasons(period, now, coverage);
  const missed = missedObjectives(categories, service_classes);
  const anyFigure = categories.some((c) => c.availability_met !== null || c.latency_met !== null);
  return {
    ...first.report,
    generated_at: isoUtc(now),
    context: {
      ...first.report.context,
      region: parts.map((p) => p.summary.region).join(","),
      agent: parts.map((p) => p.summary.agent).join(","),
      targets: reports.flatMap((r) => r.context.targets),
      max_stall_ms: [...new Set(reports.flatMap((r) => r.context.max_stall_ms ?? []))],
    },
    preliminary: reasons.length > 0,
    preliminary_reasons: reasons,
    categories,
    service_classes,
    maintenance: {
      ...first.report.maintenance,
      windows: mergeIntervalCounts(reports.map((r) => r.maintenance.windows)),
    },
    exclusions: mergeIntervalCounts(reports.map((r) => r.exclusions)),
    coverage,
    evidence: mergedEvidence(parts),
    summary: { objectives_met: anyFigure ? missed.length === 0 : null, missed },
    automatic_exclusions: tagged(parts, (r) => r.automatic_exclusions, "start"),
    incidents: tagged(parts, (r) => r.incidents, "start"),
    latency_incidents: tagged(parts, (r) => r.latency_incidents, "start"),
    unmonitored: tagged(parts, (r) => r.unmonitored, "start"),
    data_gaps: tagged(parts, (r) => r.data_gaps, "start"),
    daily: first.report.daily.map((row, i) => mergedDay(row, i, parts, tails.get(row.category) ?? [])),
    merged_from: parts.map((p) => ({
      agent: p.summary.agent,
      region: p.summary.region,
      url: p.url,
      agent_version: p.summary.agent_version,
      evidence: p.summary.report.evidence,
    })),
  };
}

function mergedCategory(
  row: CategoryRow,
  parts: readonly AgentPart[],
  tails: readonly LatencyTail[],
): CategoryRow & { readonly regions: readonly RegionFigures[] } {
  const rows = parts.map((p) => p.summary.report.categories.find((c) => c.category === row.category)!);
  const requests = sum(rows.map((r) => r.requests));
  const served = sum(rows.map((r) => r.successful));
  const target = row.availability_target_pct / 100;
  const n = sum(parts.map((p) => p.summary.latency_counts[row.category]?.month ?? 0));
  const p99 = pooledP99(
    n,
    tails.map((t) => t.month_ms),
  );
  const budget = errorBudget({ target, requests, served });
  const measured = sumServed(parts.map((p) => p.summary.measured[row.category]?.month));
  const figures: CategoryFigures = {
    ...row,
    requests,
    successful: served,
    excluded: sum(rows.map((r) => r.excluded)),
    availability_pct: availabilityPct({ requests, served }),
    availability_met: meetsAvailabilityTarget({ requests, served }, target),
    latency_p99_ms: p99,
    latency_source: "exact",
    // The pooled p99 is exact (merged without bucket interpolation).
    latency_met: meetsLatencyObjective(p99, row.latency_objective_ms, "exact"),
    error_budget_requests: budget.budgetRequests,
    error_budget_used_ratio: budget.usedRatio,
  };
  return {
    ...figures,
    ...mergeCategoryExtras(rows),
    measured_availability_pct: availabilityPct(measured),
    ...mergedTraffic(rows.map((r) => r.traffic)),
    // Each agent's own figures, recomputed from its counts and its tail, never copied from it.
    regions: parts.map((p, i) => ({
      region: p.summary.region,
      agent: p.summary.agent,
      requests: rows[i]!.requests,
      successful: rows[i]!.successful,
      availability_pct: availabilityPct({ requests: rows[i]!.requests, served: rows[i]!.successful }),
      latency_p99_ms: pooledP99(p.summary.latency_counts[row.category]?.month ?? 0, [
        tails[i]?.month_ms ?? [],
      ]),
    })),
  };
}

/** Daily rows are in the same order in every agent's report (day, then configured category). */
function mergedDay(
  row: DailyRow,
  index: number,
  parts: readonly AgentPart[],
  tails: readonly LatencyTail[],
): DailyRow {
  const rows = parts.map((p) => p.summary.report.daily[index]!);
  const day = Math.round(
    (Date.parse(`${row.date}T00:00:00Z`) - Date.parse(`${row.date.slice(0, 8)}01T00:00:00Z`)) / 86_400_000,
  );
  const requests = sum(rows.map((r) => r.requests));
  const served = sum(rows.map((r) => r.served));
  const n = sum(parts.map((p) => p.summary.latency_counts[row.category]?.days[day] ?? 0));
  const measured = sumServed(parts.map((p) => p.summary.measured[row.category]?.days[day]));
  return {
    ...row,
    requests,
    served,
    excluded: sum(rows.map((r) => r.excluded)),
    availability_pct: availabilityPct({ requests, served }),
    latency_p99_ms: pooledP99(
      n,
      tails.map((t) => t.days_ms[day] ?? []),
    ),
    measured_availability_pct: availabilityPct(measured),
    merchant_side_excluded_minutes:
      Math.round(sum(rows.map((r) => (r.merchant_side_excluded_minutes ?? 0) * 100))) / 100,
    ...mergedTraffic(rows.map((r) => r.traffic)),
  };
}

/**
 * The agents' merchant requests of a category or day (contract section 19), added; present when
 * any agent has them (an agent without traffic: counts none). The agents send no durations of
 * merchant requests, so the pooled p99 is known only when at most one agent has any (it is that
 * agent's); with several it is not mergeable and stays null (docs/traffic.md).
 */
function mergedTraffic(blocks: readonly (TrafficFigures | undefined)[]): { traffic?: TrafficFigures } {
  const given = blocks.filter((b) => b !== undefined);
  if (given.length === 0) return {};
  const requests = sum(given.map((b) => b.requests));
  const successful = sum(given.map((b) => b.successful));
  const p99s = given.flatMap((b) => (b.latency_p99_ms === null ? [] : [b.latency_p99_ms]));
  return {
    traffic: {
      requests,
      successful,
      availability_pct: availabilityPct({ requests, served: successful }),
      latency_p99_ms: p99s.length === 1 ? p99s[0]! : null,
    },
  };
}

/**
 * No one chain covers several agents: the merged digest is SHA-256 over each agent's line
 * "<agent> <records> <sha256>\n" in agent order; each agent's own signed statement is in merged_from.
 */
function mergedEvidence(parts: readonly AgentPart[]): MonthlyReport["evidence"] {
  const sorted = [...parts].sort((a, b) => (a.summary.agent < b.summary.agent ? -1 : 1));
  const lines = sorted.map(
    (p) => `${p.summary.agent} ${p.summary.report.evidence.records} ${p.summary.report.evidence.sha256}\n`,
  );
  const problems = parts.filter((p) => p.summary.report.evidence.verified === false);
  return {
    records: sum(parts.map((p) => p.summary.report.evidence.records)),
    sha256: createHash("sha256").update(lines.join("")).digest("hex"),
    verified: problems.length === 0,
    ...(problems.length === 0
      ? {}
      : {
          problem: problems.map((p) => `${p.summary.agent}: ${p.summary.report.evidence.problem}`).join("; "),
        }),
    config_sha256: parts[0]!.summary.sla_config_sha256,
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function sumServed(values: readonly (Served | undefined)[]): Served {
  return {
    requests: sum(values.map((v) => v?.requests ?? 0)),
    served: sum(values.map((v) => v?.served ?? 0)),
  };
}
