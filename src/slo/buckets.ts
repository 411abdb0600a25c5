import type { ProbeResult } from "../model/result.js";
import { countsForLatency, statusClassOf } from "../model/result.js";
import type { Tally } from "./availability.js";

/**
 * One category's requests over one minute or one hour, for the rolling windows: counts by status
 * class, the excluded count, and the latency-counting durations as whole microseconds (the same
 * rounding the HDR histograms apply), kept as a plain list so that a window's p99 can be found by
 * rank selection over its buckets instead of merging one histogram per bucket.
 */
export class TimeBucket implements Tally {
  c2xx = 0;
  c3xx = 0;
  c4xx = 0;
  c5xx = 0;
  none = 0;
  excluded = 0;
  readonly latencyUs: number[] = [];
  #sorted = true;

  add(result: ProbeResult, excluded: boolean): void {
    if (excluded) {
      this.excluded += 1;
      return;
    }
    switch (statusClassOf(result.status)) {
      case "2xx":
        this.c2xx += 1;
        break;
      case "3xx":
        this.c3xx += 1;
        break;
      case "4xx":
        this.c4xx += 1;
        break;
      case "5xx":
        this.c5xx += 1;
        break;
      default:
        this.none += 1;
    }
    if (countsForLatency(result)) {
      const us = Math.round(result.durationMs * 1000);
      const last = this.latencyUs[this.latencyUs.length - 1];
      if (last !== undefined && us < last) this.#sorted = false;
      this.latencyUs.push(us);
    }
  }

  get requests(): number {
    return this.c2xx + this.c3xx + this.c4xx + this.c5xx + this.none;
  }

  get served(): number {
    return this.c2xx + this.c3xx + this.c4xx;
  }

  /** The durations in ascending order (sorted in place on first need). */
  sortedLatencyUs(): readonly number[] {
    if (!this.#sorted) {
      this.latencyUs.sort((a, b) => a - b);
      this.#sorted = true;
    }
    return this.latencyUs;
  }
}

/** Window totals gathered from buckets. */
export interface WindowTotals extends Tally {
  readonly excluded: number;
  /** The p99 duration in whole microseconds, exact nearest rank; null when no duration counts. */
  readonly p99Us: number | null;
}

/** The nearest rank of percentile p among n values, in integers: ceil(p/100 * n), at least 1. */
export function nearestRank(p: number, n: number): number {
  return Math.max(1, Math.ceil((p * n) / 100 - 1e-9));
}

/**
 * Sums the buckets and finds the exact nearest-rank p99 of their durations. Only the top
 * n - rank + 1 values are needed (1% of them), taken from the sorted buckets' tops with a heap:
 * O(buckets + n/100 * log buckets).
 */
export function windowTotals(buckets: readonly TimeBucket[]): WindowTotals {
  let requests = 0;
  let served = 0;
  let excluded = 0;
  let n = 0;
  const lists: (readonly number[])[] = [];
  for (const b of buckets) {
    requests += b.requests;
    served += b.served;
    excluded += b.excluded;
    if (b.latencyUs.length > 0) {
      n += b.latencyUs.length;
      lists.push(b.sortedLatencyUs());
    }
  }
  const p99Us = n === 0 ? null : kthLargest(lists, n - nearestRank(99, n) + 1);
  return { requests, served, excluded, p99Us };
}

/** The k-th largest value across ascending lists, by popping list tops from a max-heap. */
function kthLargest(lists: readonly (readonly number[])[], k: number): number {
  // Heap entries are list indexes; pos[i] is the index of list i's current top.
  const pos = lists.map((l) => l.length - 1);
  const top = (i: number) => lists[i]![pos[i]!]!;
  const heap = lists.map((_, i) => i);
  const less = (a: number, b: number) => top(heap[a]!) < top(heap[b]!);
  const sink = (from: number) => {
    let i = from;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let big = i;
      if (l < heap.length && less(big, l)) big = l;
      if (r < heap.length && less(big, r)) big = r;
      if (big === i) return;
      [heap[i], heap[big]] = [heap[big]!, heap[i]!];
      i = big;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) sink(i);
  for (let taken = 1; ; taken++) {
    const list = heap[0]!;
    const value = top(list);
    if (taken === k) return value;
    pos[list] = pos[list]! - 1;
    if (pos[list]! < 0) {
      const last = heap.pop()!;
      if (heap.length === 0) throw new RangeError("rank beyond the values");
      heap[0] = last;
    }
    sink(0);
  }
}
