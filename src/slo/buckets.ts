import type { ProbeResult } from "../model/result.js";
import { countsForLatency, servedOf, statusClassOf } from "../model/result.js";
import type { Tally } from "./availability.js";
import { hdrStepOf } from "./histogram.js";

/**
 * Beyond this many durations a bucket keeps a count per HDR step instead of every value: an
 * hour of 1,000 probes every 30 s is 120,000 durations but a few hundred steps, and a month of
 * hour buckets held every value (~700 MB at that rate).
 */
const RAW_DURATIONS_LIMIT = 512;

/**
 * One category's requests over one minute or one hour, for the rolling windows: counts by status
 * class, the excluded count, and the latency-counting durations as whole microseconds (the same
 * rounding the HDR histograms apply), so that a window's p99 is found by rank selection over its
 * buckets instead of merging one histogram per bucket. A bucket with many durations keeps them as
 * counts per HDR step (3 digits): the ranked value's step, which is all a reading shows, is exact.
 */
export class TimeBucket implements Tally {
  c2xx = 0;
  c3xx = 0;
  c4xx = 0;
  c5xx = 0;
  none = 0;
  excluded = 0;
  /** Raw durations (µs) or, once counted by step, each step's lowest value, ascending. */
  #durations: number[] = [];
  /** Per step, its count; null while the durations are raw. */
  #counts: number[] | null = null;
  #latencyCount = 0;
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
    if (countsForLatency(result)) this.#addDuration(Math.round(result.durationMs * 1000));
  }

  get requests(): number {
    return this.c2xx + this.c3xx + this.c4xx + this.c5xx + this.none;
  }

  get served(): number {
    return servedOf({
      "2xx": this.c2xx,
      "3xx": this.c3xx,
      "4xx": this.c4xx,
      "5xx": this.c5xx,
      none: this.none,
    });
  }

  /** Durations that count for latency. */
  get latencyCount(): number {
    return this.#latencyCount;
  }

  /** Numbers held for the durations (memory accounting). */
  get latencyEntries(): number {
    return this.#durations.length * (this.#counts === null ? 1 : 2);
  }

  /** The durations ascending, with a count per entry (null: one each). */
  sortedDurations(): { readonly values: readonly number[]; readonly counts: readonly number[] | null } {
    if (!this.#sorted) {
      this.#durations.sort((a, b) => a - b);
      this.#sorted = true;
    }
    return { values: this.#durations, counts: this.#counts };
  }

  #addDuration(us: number): void {
    this.#latencyCount += 1;
    if (this.#counts !== null) {
      countStep(this.#durations, this.#counts, hdrStepOf(us));
      return;
    }
    const last = this.#durations[this.#durations.length - 1];
    if (last !== undefined && us < last) this.#sorted = false;
    this.#durations.push(us);
    if (this.#durations.length > RAW_DURATIONS_LIMIT) this.#countBySteps();
  }

  #countBySteps(): void {
    const steps: number[] = [];
    const counts: number[] = [];
    for (const us of this.sortedDurations().values) {
      const step = hdrStepOf(us);
      if (steps[steps.length - 1] === step) counts[counts.length - 1]! += 1;
      else {
        steps.push(step);
        counts.push(1);
      }
    }
    this.#durations = steps;
    this.#counts = counts;
  }
}

/** Adds one to `step`'s count, inserting it in order when new (binary search). */
function countStep(steps: number[], counts: number[], step: number): void {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid]! < step) lo = mid + 1;
    else hi = mid;
  }
  if (steps[lo] === step) counts[lo]! += 1;
  else {
    steps.splice(lo, 0, step);
    counts.splice(lo, 0, 1);
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
 * Sums the buckets and finds the nearest-rank p99 of their durations: exact, or for a bucket that
 * counts by step, the lowest value of the ranked duration's step (the same reading). Only the top
 * n - rank + 1 durations are needed (1% of them), taken from the sorted buckets' tops with a heap:
 * O(buckets + n/100 * log buckets).
 */
export function windowTotals(buckets: readonly TimeBucket[]): WindowTotals {
  let requests = 0;
  let served = 0;
  let excluded = 0;
  let n = 0;
  const lists: DurationList[] = [];
  for (const b of buckets) {
    requests += b.requests;
    served += b.served;
    excluded += b.excluded;
    if (b.latencyCount > 0) {
      n += b.latencyCount;
      lists.push(b.sortedDurations());
    }
  }
  const p99Us = n === 0 ? null : kthLargest(lists, n - nearestRank(99, n) + 1);
  return { requests, served, excluded, p99Us };
}

interface DurationList {
  readonly values: readonly number[];
  readonly counts: readonly number[] | null;
}

/**
 * The k-th largest duration across ascending lists, by popping list tops from a max-heap (an
 * entry with a count stands for that many equal durations). Durations of one HDR step sort
 * together whether raw or counted, so the step found is exact.
 */
function kthLargest(lists: readonly DurationList[], k: number): number {
  // Heap entries are list indexes; pos[i] is the index of list i's current top.
  const pos = lists.map((l) => l.values.length - 1);
  const top = (i: number) => lists[i]!.values[pos[i]!]!;
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
  for (let taken = 0; ; ) {
    const list = heap[0]!;
    const value = top(list);
    taken += lists[list]!.counts?.[pos[list]!] ?? 1;
    if (taken >= k) return value;
    pos[list] = pos[list]! - 1;
    if (pos[list]! < 0) {
      const last = heap.pop()!;
      if (heap.length === 0) throw new RangeError("rank beyond the values");
      heap[0] = last;
    }
    sink(0);
  }
}
