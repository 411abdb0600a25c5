import { latencyMsOf, type ProbeResult } from "../model/result.js";
import { isoUtc } from "../model/time.js";
import { DurationList } from "../slo/percentile.js";
import type { LatencyIncident } from "./model.js";

const HOUR_MS = 3_600_000;

interface HourFigure {
  readonly category: string;
  readonly hour: number;
  readonly p99: number;
  readonly requests: number;
}

/**
 * Each category's p99 per UTC hour, exact (nearest rank over the raw durations of that hour,
 * timeouts at their probe's timeout), as results stream past in time order. An hour's durations
 * are dropped once its p99 is known, so memory stays one hour per category.
 */
export class HourlyLatencyWatch {
  readonly #timeoutOf: (probe: string) => number | undefined;
  readonly #open = new Map<string, { hour: number; durations: DurationList }>();
  readonly #closed: HourFigure[] = [];

  constructor(timeoutOf: (probe: string) => number | undefined) {
    this.#timeoutOf = timeoutOf;
  }

  /** Feed only non-excluded requests, in time order. */
  observe(result: ProbeResult): void {
    const ms = latencyMsOf(result, this.#timeoutOf(result.probe));
    if (ms === null) return;
    const hour = Math.floor(result.ts / HOUR_MS) * HOUR_MS;
    let open = this.#open.get(result.category);
    if (open && open.hour !== hour) {
      this.#close(result.category, open);
      open = undefined;
    }
    if (!open) {
      open = { hour, durations: new DurationList() };
      this.#open.set(result.category, open);
    }
    open.durations.push(ms);
  }

  #close(category: string, open: { hour: number; durations: DurationList }): void {
    const p99 = open.durations.percentile(99);
    if (p99 !== null) this.#closed.push({ category, hour: open.hour, p99, requests: open.durations.length });
  }

  /**
   * The hours whose p99 exceeded the category's objective (strictly), in start order then by
   * category; `objectiveOf` gives null for a category whose hours are not wanted.
   */
  incidents(objectiveOf: (category: string) => number | null): LatencyIncident[] {
    for (const [category, open] of this.#open) this.#close(category, open);
    this.#open.clear();
    return this.#closed
      .filter((h) => {
        const objective = objectiveOf(h.category);
        return objective !== null && h.p99 > objective;
      })
      .sort((a, b) => a.hour - b.hour || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0))
      .map((h) => ({
        category: h.category,
        start: isoUtc(h.hour),
        end: isoUtc(h.hour + HOUR_MS),
        p99_ms: h.p99,
        requests: h.requests,
      }));
  }
}
