import type { CategoryId, CreditTier, SloConfig } from "../model/config.js";
import { latencyMsOf, type ProbeResult } from "../model/result.js";
import { DAY_MS, type Interval } from "../model/time.js";
import { StatusCounts } from "../slo/index.js";
import type { MonthlyReport } from "./model.js";

/**
 * What one agent serves about a month to `report --from-agents` (docs/regions-merge.md): its own
 * sealed report (counts add exactly across agents), how many durations count for latency per
 * category and day, and the counts the measured availability is made of. Durations themselves
 * are served on request, only the top m of one category (latencyTail), so that the merged p99 is
 * the exact nearest rank of the pooled durations with no histogram in between.
 */
export interface AgentMonthSummary {
  readonly kind: typeof SUMMARY_KIND;
  readonly month: string;
  readonly agent: string;
  readonly region: string;
  readonly agent_version: string;
  /** slaConfigSha256: agents that differ in it do not measure the same SLA. */
  readonly sla_config_sha256: string;
  /** The service credit tiers (sla.credits), for the merged classes' credit_pct. */
  readonly credits: readonly CreditTier[];
  readonly report: MonthlyReport;
  /** Per category: latency-counted durations, the month's and each UTC day's (index 0 = the 1st). */
  readonly latency_counts: Readonly<Record<CategoryId, { month: number; days: number[] }>>;
  /** Per category: every request made (before any exclusion), month and days: measured availability. */
  readonly measured: Readonly<Record<CategoryId, { month: Served; days: Served[] }>>;
}

export interface Served {
  readonly requests: number;
  readonly served: number;
}

/**
 * The largest latency-counted durations of one category: the month's and each asked day's,
 * largest first. The answer names the month, the agent and the `top` and `days` it was asked
 * for, all under its signature: an answer to another question (`top=1` written into the query on
 * the path, another month's tail) is refused by the merge, not merged.
 */
export interface LatencyTail {
  readonly kind: typeof TAIL_KIND;
  readonly month: string;
  readonly agent: string;
  readonly category: CategoryId;
  readonly top: number;
  readonly days: number[];
  readonly month_ms: number[];
  readonly days_ms: number[][];
}

/** What a tail answer is asked for: the merge checks the signed answer says the same. */
export type TailQuestion = Pick<LatencyTail, "month" | "agent" | "category" | "top" | "days">;

export const SUMMARY_KIND = "slo-agent/month-summary/v1";
export const TAIL_KIND = "slo-agent/latency-tail/v1";

/**
 * Watches the report's pass over the month (buildMonthlyReport's observeResult): counts per
 * category and day, and when `tailOf` names a category, keeps its durations for latencyTail.
 */
export class SummaryCollector {
  readonly #period: Interval;
  readonly #days: number;
  readonly #timeouts: ReadonlyMap<string, number>;
  readonly #counts = new Map<CategoryId, { month: number; days: number[] }>();
  readonly #measured = new Map<CategoryId, { month: StatusCounts; days: StatusCounts[] }>();
  readonly #tailOf: CategoryId | null;
  readonly #durations: number[][];

  constructor(config: SloConfig, period: Interval, tailOf: CategoryId | null = null) {
    this.#period = period;
    this.#days = Math.round((period.end - period.start) / DAY_MS);
    this.#timeouts = new Map(config.probes.map((p) => [p.id, p.timeoutMs]));
    this.#tailOf = tailOf;
    this.#durations = Array.from({ length: this.#days }, () => []);
    for (const id of config.categories.keys()) {
      this.#counts.set(id, { month: 0, days: new Array(this.#days).fill(0) });
      this.#measured.set(id, {
        month: new StatusCounts(),
        days: Array.from({ length: this.#days }, () => new StatusCounts()),
      });
    }
  }

  observe(result: ProbeResult, excluded: boolean): void {
    const day = Math.floor((result.ts - this.#period.start) / DAY_MS);
    const measured = this.#measured.get(result.category);
    if (!measured) return;
    measured.month.count(result);
    measured.days[day]!.count(result);
    if (excluded) return;
    const ms = latencyMsOf(result, this.#timeouts.get(result.probe));
    if (ms === null) return;
    const counts = this.#counts.get(result.category)!;
    counts.month += 1;
    counts.days[day]! += 1;
    if (result.category === this.#tailOf) this.#durations[day]!.push(ms);
  }

  summary(
    report: MonthlyReport,
    who: Pick<AgentMonthSummary, "agent" | "region" | "agent_version" | "sla_config_sha256" | "credits">,
  ): AgentMonthSummary {
    const served = (c: StatusCounts): Served => ({ requests: c.requests, served: c.served });
    return {
      kind: SUMMARY_KIND,
      month: report.month,
      ...who,
      report,
      latency_counts: Object.fromEntries(this.#counts),
      measured: Object.fromEntries(
        [...this.#measured].map(([id, m]) => [id, { month: served(m.month), days: m.days.map(served) }]),
      ),
    };
  }

  /** The top `top` durations of the month and the top days[d] of each day d, largest first. */
  tail(question: Omit<TailQuestion, "category">): LatencyTail {
    if (this.#tailOf === null) throw new RangeError("no category was asked for");
    const largest = (values: number[], n: number) => values.sort((a, b) => b - a).slice(0, n);
    const perDay = this.#durations.map((values, d) => largest([...values], question.days[d] ?? 0));
    return {
      kind: TAIL_KIND,
      month: question.month,
      agent: question.agent,
      category: this.#tailOf,
      top: question.top,
      days: [...question.days],
      month_ms: largest(this.#durations.flat(), question.top),
      days_ms: perDay,
    };
  }
}

/** How many of the largest values the nearest-rank p99 of n values needs: n - ceil(99 n / 100) + 1 (0 for none), as percentile.ts ranks. */
export function tailSizeFor(n: number): number {
  return n === 0 ? 0 : n - Math.ceil((99 * n) / 100) + 1;
}
