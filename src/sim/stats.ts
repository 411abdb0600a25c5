/** Requests the simulator saw, per category and per outcome (GET /__sim/stats). */
import type { Outcome } from "./faults.js";

export interface StatsReport {
  readonly total: number;
  /** Requests per category ("unmatched" for paths no route answers). */
  readonly requests: Record<string, number>;
  /** Per category, requests per outcome. */
  readonly outcomes: Record<string, Partial<Record<Outcome, number>>>;
}

export class RequestStats {
  readonly #byCategory = new Map<string, Map<Outcome, number>>();

  record(category: string, outcome: Outcome): void {
    const outcomes = this.#byCategory.get(category) ?? new Map<Outcome, number>();
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    this.#byCategory.set(category, outcomes);
  }

  requestCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [category, outcomes] of this.#byCategory) {
      counts[category] = [...outcomes.values()].reduce((a, b) => a + b, 0);
    }
    return counts;
  }

  report(): StatsReport {
    const requests = this.requestCounts();
    const outcomes: StatsReport["outcomes"] = {};
    for (const [category, byOutcome] of this.#byCategory) outcomes[category] = Object.fromEntries(byOutcome);
    const total = Object.values(requests).reduce((a, b) => a + b, 0);
    return { total, requests, outcomes };
  }
}
