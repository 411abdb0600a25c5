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

class CategoryTraffic {
  requests = 0;
  served = 0;
  readonly durations = new DurationList();
}

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
    c.requests += 1;
    if (isServed(result.status)) c.served += 1;
    if (countsForLatency(result)) c.durations.push(result.durationMs);
  }

  figuresOf(category: CategoryId): TrafficFigures {
    const c = this.#categories.get(category);
    if (!c) return { requests: 0, successful: 0, availability_pct: null, latency_p99_ms: null };
    return {
      requests: c.requests,
      successful: c.served,
      availability_pct: availabilityPct({ requests: c.requests, served: c.served }),
      latency_p99_ms: c.durations.percentile(99),
    };
  }
}

/** Whether results of a source decide the SLA figures under `sla.source` (absent: probes). */
export function decidesFigures(source: SlaSource | undefined, traffic: boolean): boolean {
  const s = source ?? "probes";
  return s === "both" || (traffic ? s === "traffic" : s === "probes");
}
