/**
 * What a Prometheus histogram can and cannot say about a p99: the bucket it falls in. Pure.
 * `histogram_quantile` interpolates linearly inside that bucket, so the exact p99 (contract
 * section 1, from an HDR histogram of the raw durations) can be anywhere between its bounds.
 */

/** Cumulative bucket counts by upper bound in seconds (`le`, +Inf included), as `increase()` gives them. */
export type CumulativeBuckets = ReadonlyMap<number, number>;

/** Milliseconds; `upper` is null when the p99 lies beyond the highest finite bucket. */
export interface QuantileBounds {
  readonly lower: number;
  readonly upper: number | null;
}

/** The bucket holding the q-quantile: (previous bound, bound]. Null without responded requests. */
export function quantileBucket(buckets: CumulativeBuckets, q: number): QuantileBounds | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Number.POSITIVE_INFINITY) ?? 0;
  if (bounds.length === 0 || !(total > 0)) return null;
  const rank = q * total;
  let previous = 0;
  for (const bound of bounds) {
    if ((buckets.get(bound) ?? 0) >= rank) {
      return { lower: previous * 1000, upper: Number.isFinite(bound) ? bound * 1000 : null };
    }
    previous = bound;
  }
  return { lower: previous * 1000, upper: null };
}

/** Adds cumulative histograms bucket by bucket (the regions of a category, pooled). */
export function addBuckets(all: readonly CumulativeBuckets[]): Map<number, number> {
  const sum = new Map<number, number>();
  for (const buckets of all) {
    for (const [bound, count] of buckets) sum.set(bound, (sum.get(bound) ?? 0) + count);
  }
  return sum;
}

/** `le` as Prometheus writes it ("0.1", "+Inf") to seconds. */
export function parseLe(le: string | undefined): number | null {
  if (le === undefined) return null;
  if (le === "+Inf") return Number.POSITIVE_INFINITY;
  const value = Number(le);
  return Number.isFinite(value) ? value : null;
}
