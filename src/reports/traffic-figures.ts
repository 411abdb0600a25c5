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

  /** One UTC day's figures of a category; `date` is YYYY-MM-DD. */
  dayFiguresOf(category: CategoryId, date: string): TrafficFigures {
    const d = this.#categories.get(category)?.days.get(Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS));
    return figuresOfDay(d ?? new DayTraffic());
  }
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
