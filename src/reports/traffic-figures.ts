import type { CategoryId } from "../model/config.js";
import { countsForLatency, isServed, type ProbeResult } from "../model/result.js";
import type { SlaSource } from "../model/traffic.js";
import { availabilityPct } from "../slo/index.js";
import { DurationList } from "../slo/percentile.js";

/**
 * A category's merchant requests of the month (contract section 19), beside the probe figures:
 * every request its spans reported except those the merchant's own client failed (client_side,
 * merchant_side by the span). Maintenance and exclusions apply where traffic decides the SLA
 * figures (sla.source traffic or both), not here: this block is what the merchant's users saw.
 */
export interface TrafficFigures {
  readonly requests: number;
  /** Answered 2xx, 3xx or 4xx: Klarna's served. */
  readonly successful: number;
  /** successful / requests * 100; null without requests. */
  readonly availability_pct: number | null;
  /** Nearest-rank p99 of the durations of answered requests and timeouts (exact); null without any. */
  readonly latency_p99_ms: number | null;
}

/** A category's merchant requests over one UTC day. */
class DayTraffic {
  requests = 0;
  served = 0;
  readonly durations = new DurationList();
}

/** Kept per UTC day (the CSV's rows); the month's figures are the days' pooled. */
class CategoryTraffic {
  readonly days = new Map<number, DayTraffic>();
}

const DAY_MS = 86_400_000;

/** Counts the month's merchant requests per category as the report reads them. */
export class TrafficTally {
  readonly #categories = new Map<CategoryId, CategoryTraffic>();

  add(result: ProbeResult): void {
    if (result.flags?.includes("client_side")) return;
    let c = this.#categories.get(result.category);
    if (!c) {
      c = new CategoryTraffic();
      this.#categories.set(result.category, c);
    }
    const key = Math.floor(result.ts / DAY_MS);
    let d = c.days.get(key);
    if (!d) {
      d = new DayTraffic();
      c.days.set(key, d);
    }
    d.requests += 1;
    if (isServed(result.status)) d.served += 1;
    if (countsForLatency(result)) d.durations.push(result.durationMs);
  }

  /** The month's figures of a category: its days' requests pooled (p99 over every duration). */
  figuresOf(category: CategoryId): TrafficFigures {
    const days = [...(this.#categories.get(category)?.days.values() ?? [])];
    const pooled = new DayTraffic();
    for (const d of days) {
      pooled.requests += d.requests;
      pooled.served += d.served;
      pooled.durations.append(d.durations);
    }
    return figuresOfDay(pooled);
  }

  /** The categories with results, sorted. */
  categories(): CategoryId[] {
    return [...this.#categories.keys()].sort();
  }

  /** A category's days (epoch day number to its counts). */
  daysOf(category: CategoryId): ReadonlyMap<number, DayTraffic> {
    return this.#categories.get(category)?.days ?? new Map();
  }

  /** One UTC day's figures of a category; `date` is YYYY-MM-DD. */
  dayFiguresOf(category: CategoryId, date: string): TrafficFigures {
    const d = this.#categories.get(category)?.days.get(Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS));
    return figuresOfDay(d ?? new DayTraffic());
  }
}

/**
 * Availability points between the merchant's requests and the probes, over the days both have
 * results, beyond which the report warns that the figures disagree (issue #29 item 6).
 */
export const SOURCES_DISAGREE_POINTS = 5;

/**
 * Warnings for categories whose merchant-request availability and probe availability (answered
 * 2xx-4xx over all results, before any exclusion) differ by more than SOURCES_DISAGREE_POINTS
 * over the same UTC days: spans fabricated by a holder of the traffic token, or probes that do
 * not exercise what the merchant's requests do. Either way a reader must not take one alone.
 */
export function sourcesDisagreeWarnings(traffic: TrafficTally, probes: TrafficTally): string[] {
  const warnings: string[] = [];
  for (const category of traffic.categories()) {
    const t = new DayTraffic();
    const p = new DayTraffic();
    for (const [day, td] of traffic.daysOf(category)) {
      const pd = probes.daysOf(category).get(day);
      if (!pd || pd.requests === 0 || td.requests === 0) continue;
      t.requests += td.requests;
      t.served += td.served;
      p.requests += pd.requests;
      p.served += pd.served;
    }
    const tPct = availabilityPct({ requests: t.requests, served: t.served });
    const pPct = availabilityPct({ requests: p.requests, served: p.served });
    if (tPct === null || pPct === null || Math.abs(tPct - pPct) <= SOURCES_DISAGREE_POINTS) continue;
    warnings.push(
      `${category}: the merchant's requests and the probes disagree: ${tPct.toFixed(3)}% of ${t.requests} merchant request(s) were served against ${pPct.toFixed(3)}% of ${p.requests} probe request(s) over the same days (more than ${SOURCES_DISAGREE_POINTS} points apart); check the traffic sender (anyone holding the traffic token can send spans) and what the probes exercise before relying on either figure.`,
    );
  }
  return warnings;
}

function figuresOfDay(d: DayTraffic): TrafficFigures {
  return {
    requests: d.requests,
    successful: d.served,
    availability_pct: availabilityPct({ requests: d.requests, served: d.served }),
    latency_p99_ms: d.durations.percentile(99),
  };
}

/** Whether results of a source decide the SLA figures under `sla.source` (absent: probes). */
export function decidesFigures(source: SlaSource | undefined, traffic: boolean): boolean {
  const s = source ?? "probes";
  return s === "both" || (traffic ? s === "traffic" : s === "probes");
}
