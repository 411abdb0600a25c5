import type { TrafficCounts } from "../export/status-page.js";
import { trafficOutcomeOf } from "../export/traffic-metrics.js";
import type { CategoryId } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { monthOf } from "../model/time.js";

/**
 * The month to date's merchant requests per category for /status (contract section 19): the
 * stored ones read at start, then each one as it is committed. Counted like the report's traffic
 * block: `served` over `requests - clientSide` is its availability.
 */
export class TrafficStatus {
  #month = "";
  #counts = new Map<CategoryId, { requests: number; served: number; failed: number; clientSide: number }>();

  /** Counts merchant requests (other results are skipped) of the month of `now`. */
  add(results: Iterable<ProbeResult>, now: number): void {
    this.#roll(now);
    for (const result of results) {
      if (result.source !== "traffic" || monthOf(result.ts) !== this.#month) continue;
      let c = this.#counts.get(result.category);
      if (!c) {
        c = { requests: 0, served: 0, failed: 0, clientSide: 0 };
        this.#counts.set(result.category, c);
      }
      c.requests += 1;
      const outcome = trafficOutcomeOf(result);
      if (outcome === "served") c.served += 1;
      else if (outcome === "failed") c.failed += 1;
      else c.clientSide += 1;
    }
  }

  /** The counts of the month of `now`, per category. */
  counts(now: number): ReadonlyMap<CategoryId, TrafficCounts> {
    this.#roll(now);
    return this.#counts;
  }

  #roll(now: number): void {
    const month = monthOf(now);
    if (month === this.#month) return;
    this.#month = month;
    this.#counts = new Map();
  }
}
