/**
 * Exact percentiles of raw durations (contract section 1, amended): the nearest-rank p-th
 * percentile of n values is the ceil(p/100 * n)-th smallest. The rank is computed in integers
 * (0.99 * 100 is 99.00000000000001 in floating point, which would take the 100th value).
 */
export function nearestRankPercentile(sorted: Float64Array, p: number): number | null {
  if (!(Number.isInteger(p) && p >= 1 && p <= 100)) {
    throw new RangeError(`percentile must be a whole number within 1..100, got ${p}`);
  }
  const n = sorted.length;
  if (n === 0) return null;
  return sorted[Math.ceil((p * n) / 100) - 1]!;
}

/** Durations in milliseconds, appended one by one into a growing typed array (8 bytes each). */
export class DurationList {
  #values = new Float64Array(1024);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(ms: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = ms;
  }

  append(other: DurationList): void {
    for (let i = 0; i < other.#length; i++) this.push(other.#values[i]!);
  }

  forEach(callback: (ms: number) => void): void {
    for (let i = 0; i < this.#length; i++) callback(this.#values[i]!);
  }

  /** The nearest-rank p-th percentile of the values (sorted in place); null when there are none. */
  percentile(p: number): number | null {
    const values = this.#values.subarray(0, this.#length);
    values.sort();
    return nearestRankPercentile(values, p);
  }
}
