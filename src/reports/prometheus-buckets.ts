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

/**
 * Each bucket at least the largest below it, as histogram_quantile() takes them: increase()
 * extrapolates every bucket's series on its own, so they can come out slightly out of order
 * (how far is checked in prometheus-checks.ts, checkedMonotone).
 */
export function monotoneBuckets(buckets: CumulativeBuckets): Map<number, number> {
  const out = new Map<number, number>();
  let most = 0;
  for (const bound of [...buckets.keys()].sort((a, b) => a - b)) {
    most = Math.max(most, buckets.get(bound)!);
    out.set(bound, most);
  }
  return out;
}

/**
 * The bucket holding the q-quantile: (previous bound, bound]. Null without responded requests.
 * Out-of-order buckets are first made cumulative, as Prometheus' own histogram_quantile() does,
 * so the bucket is the one its p99 lies in.
 */
export function quantileBucket(given: CumulativeBuckets, q: number): QuantileBounds | null {
  const buckets = monotoneBuckets(given);
  const bounds = [...buckets.keys()];
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

/**
 * The q-quantile in ms as Prometheus' histogram_quantile() interpolates it from these buckets
 * (promql's bucketQuantile for classic buckets): the buckets made cumulative, the rank q times the
 * +Inf bucket's count, linear inside the first bucket that reaches it (from 0 for the first one);
 * the largest finite bound when only the +Inf bucket reaches it. Null where it gives NaN.
 */
export function interpolatedQuantile(given: CumulativeBuckets, q: number): number | null {
  const buckets = [...monotoneBuckets(given)];
  const total = buckets.at(-1)?.[1] ?? 0;
  if (buckets.length < 2 || buckets.at(-1)![0] !== Number.POSITIVE_INFINITY || !(total > 0)) return null;
  const rank = q * total;
  const b = buckets.findIndex(([, count]) => count >= rank);
  if (b === buckets.length - 1) return buckets[b - 1]![0] * 1000;
  const [end, count] = buckets[b]!;
  if (b === 0) return end <= 0 ? end * 1000 : end * (rank / count) * 1000;
  const [start, below] = buckets[b - 1]!;
  return (start + (end - start) * ((rank - below) / (count - below))) * 1000;
}

/**
 * The bound within 1e-9 of `seconds` (an objective): the agents' bound for it, whatever its
 * floating-point reading (1.001 s for 1001 ms reads 1000.9999999999999 ms).
 */
export function boundAt(bounds: Iterable<number>, seconds: number): number | undefined {
  for (const le of bounds) if (Math.abs(le - seconds) <= seconds * 1e-9) return le;
  return undefined;
}

/** Adds cumulative histograms bucket by bucket (the regions of a category, pooled). */
export function addBuckets(all: readonly CumulativeBuckets[]): Map<number, number> {
  const sum = new Map<number, number>();
  for (const buckets of all) {
    for (const [bound, count] of buckets) sum.set(bound, (sum.get(bound) ?? 0) + count);
  }
  return sum;
}

const DECIMAL_LE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** histogram_quantile() reads le with Go's ParseFloat, which takes these for +Inf (any case). */
const INFINITE_LE = /^\+?inf(?:inity)?$/i;

/** `le` as Prometheus writes it ("0.1", "+Inf") to seconds; null if it is no bucket bound. */
export function parseLe(le: string | undefined): number | null {
  if (le === undefined) return null;
  if (INFINITE_LE.test(le)) return Number.POSITIVE_INFINITY;
  if (!DECIMAL_LE.test(le)) return null;
  const value = Number(le);
  return Number.isFinite(value) ? value : null;
}
