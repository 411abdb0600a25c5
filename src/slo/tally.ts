import type { CategoryId } from "../model/config.js";
import type { ProbeResult, StatusClass } from "../model/result.js";
import { StatusCounts } from "./availability.js";
import type { ExclusionIndex } from "./exclusions.js";
import { LatencyHistogram, type LatencyHistogramOptions } from "./histogram.js";

/**
 * One category's non-excluded requests over one minute, already judged against the exclusions:
 * the shape of a stored per-minute rollup. `byClass` and `latency` hold non-excluded requests only.
 */
export interface MinuteRollup {
  readonly category: CategoryId;
  /** Epoch ms of the minute's start. */
  readonly minute: number;
  readonly byClass: Readonly<Record<StatusClass, number>>;
  readonly excluded: number;
  /** Null when no request of the minute counts for latency. */
  readonly latency: LatencyHistogram | null;
}

/** Counts and latency of one category over one period: what every figure is computed from. */
export class CategoryTally {
  readonly counts = new StatusCounts();
  readonly latency: LatencyHistogram;

  constructor(options: LatencyHistogramOptions = {}) {
    this.latency = new LatencyHistogram(options);
  }

  /** Counts a result whose exclusion has already been decided. */
  add(result: ProbeResult, excluded: boolean): void {
    if (excluded) {
      this.counts.excluded += 1;
      return;
    }
    this.counts.count(result);
    this.latency.recordResult(result);
  }

  addRollup(rollup: MinuteRollup): void {
    for (const [statusClass, n] of Object.entries(rollup.byClass)) {
      this.counts.byClass[statusClass as StatusClass] += n;
    }
    this.counts.excluded += rollup.excluded;
    if (rollup.latency) this.latency.merge(rollup.latency);
  }
}

/** Counts results per excluding interval id, for the report's audit trail. */
export class ExclusionLedger {
  readonly excludedRequests = new Map<string, number>();

  constructor(readonly index: ExclusionIndex) {}

  /** Whether the result is excluded; remembers what excluded it. */
  judge(result: ProbeResult): boolean {
    const by = this.index.excludedBy(result.category, result.ts);
    if (!by) return false;
    const key = `${by.kind}:${by.id}`;
    this.excludedRequests.set(key, (this.excludedRequests.get(key) ?? 0) + 1);
    return true;
  }

  countFor(kind: "maintenance" | "exclusion", id: string): number {
    return this.excludedRequests.get(`${kind}:${id}`) ?? 0;
  }
}
