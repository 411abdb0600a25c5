import type { Histogram } from "hdr-histogram-js";
import { decodeFromCompressedBase64, encodeIntoCompressedBase64 } from "hdr-histogram-js/dist/encoding.js";
// The two modules the agent uses, not the package's index: the index also loads its log writer,
// which makes an Intl.NumberFormat as it loads, and that pages in ~5 MB of the node binary's ICU
// data that nothing else in `run` touches (issue 30, RSS).
import { build } from "hdr-histogram-js/dist/HistogramBuilder.js";
import { countsForLatency, type ProbeResult } from "../model/result.js";

/** Values are recorded in whole microseconds; 3 significant digits keeps every reading within 0.1%. */
const SIGNIFICANT_DIGITS = 3;
const US_PER_MS = 1000;

export interface LatencyHistogramOptions {
  /**
   * Packed (sparse) counts: a few hundred bytes for a sparse histogram instead of tens of kB,
   * at a slower record(). For the many small histograms kept by the rolling windows.
   */
  readonly compact?: boolean;
}

function newHistogram(compact: boolean): Histogram {
  return build({
    bitBucketSize: compact ? "packed" : 32,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    autoResize: true,
    // The pure-JS implementation runs everywhere and leaves nothing to free by hand.
    useWebAssembly: false,
  });
}

/** HDR's layout at 3 digits from 1 us: 2048 sub-buckets, half of them per doubling after the first. */
const SUB_BUCKET_HALF_COUNT_MAGNITUDE = 10;
const SUB_BUCKET_COUNT = 2048;

/**
 * The highest value HDR counts together with `us` (its highestEquivalentValue), computed the way
 * hdr-histogram-js 3 does for these settings, so readings match its percentiles bit for bit.
 */
function highestEquivalentUs(us: number): number {
  const bucket = Math.max(Math.floor(Math.log2(us)) - SUB_BUCKET_HALF_COUNT_MAGNITUDE, 0);
  const subBucket = Math.floor(us / 2 ** bucket);
  const lowest = subBucket * 2 ** bucket;
  const size = 2 ** (subBucket >= SUB_BUCKET_COUNT ? bucket + 1 : bucket);
  return lowest + size - 1;
}

/** The lowest value HDR counts together with `us` (whole microseconds >= 0): its 3-digit step. */
export function hdrStepOf(us: number): number {
  const bucket = Math.max(Math.floor(Math.log2(us)) - SUB_BUCKET_HALF_COUNT_MAGNITUDE, 0);
  return Math.floor(us / 2 ** bucket) * 2 ** bucket;
}

/**
 * Request durations of contract section 1 in an HDR histogram: milliseconds in and out,
 * microseconds inside, percentiles with nearest-rank semantics (HDR's getValueAtPercentile,
 * which reports the highest value equivalent to the ranked one, so never below the exact figure).
 */
export class LatencyHistogram {
  #hdr: Histogram;

  constructor(options: LatencyHistogramOptions = {}) {
    this.#hdr = newHistogram(options.compact ?? false);
  }

  /** Records one duration in milliseconds (>= 0, finite). */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`latency must be a finite number of milliseconds >= 0, got ${ms}`);
    }
    this.#hdr.recordValue(Math.round(ms * US_PER_MS));
  }

  /** Records a probe result when it counts for latency: any response, and timeouts at their timeout value. */
  recordResult(result: ProbeResult): void {
    if (countsForLatency(result)) this.record(result.durationMs);
  }

  /** Adds every value of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    if (other.count === 0) return;
    this.#hdr.add(other.#hdr);
  }

  get count(): number {
    return this.#hdr.totalCount;
  }

  /** The p-th percentile (0..100) in milliseconds, nearest rank; null when nothing was recorded. */
  percentile(p: number): number | null {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
    if (this.count === 0) return null;
    return this.#hdr.getValueAtPercentile(p) / US_PER_MS;
  }

  /** Compressed base64 (the standard HdrHistogram V2 encoding), for storage. */
  encode(): string {
    return encodeIntoCompressedBase64(this.#hdr);
  }

  static decode(encoded: string, options: LatencyHistogramOptions = {}): LatencyHistogram {
    let decoded: Histogram;
    try {
      decoded = decodeFromCompressedBase64(encoded, options.compact ? "packed" : 32, false);
    } catch (cause) {
      throw new RangeError(`not an encoded latency histogram: ${(cause as Error).message}`);
    }
    // Decoding sizes the histogram to the stored values; it must still grow for slower ones merged in.
    decoded.autoResize = true;
    const histogram = new LatencyHistogram(options);
    histogram.#hdr = decoded;
    return histogram;
  }

  /**
   * What an HDR percentile reports when the ranked value is `ms` (the highest value equivalent to
   * it at 3 digits). Lets exact rank selection reproduce this histogram's readings bit for bit.
   */
  static readingOf(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`latency must be a finite number of milliseconds >= 0, got ${ms}`);
    }
    return highestEquivalentUs(Math.round(ms * US_PER_MS)) / US_PER_MS;
  }

  /** A copy that shares nothing with this one. */
  clone(): LatencyHistogram {
    const copy = new LatencyHistogram();
    copy.merge(this);
    return copy;
  }
}

/**
 * "Latency objective met", the one definition (contract: p99 <= objective, strictly), for a p99
 * of known precision. An exact p99 (raw durations, or a quantile that is not HDR-quantised) is
 * compared as it is. An HDR reading is the top of its 3-digit step (1500 ms reads 1500.159), so
 * the objective is read the same way: a p99 of exactly the objective meets it in both, a p99 one
 * step above misses in both; they can differ only for an exact p99 strictly inside the
 * objective's own step (at most 0.1 % above it), which the histogram cannot see. Null without a p99.
 */
export function meetsLatencyObjective(
  p99Ms: number | null,
  objectiveMs: number,
  precision: "exact" | "histogram" = "histogram",
): boolean | null {
  if (p99Ms === null) return null;
  return p99Ms <= (precision === "exact" ? objectiveMs : LatencyHistogram.readingOf(objectiveMs));
}

/**
 * The lowest value of the 3-digit step an HDR p99 reading stands for (`readingMs` is its top,
 * 1500 ms reads 1500.159). Exported as the p99 gauge so that `p99 > objective` (the Prometheus
 * alert, a dashboard's threshold) gives exactly meetsLatencyObjective's "histogram" verdict: a
 * p99 in the objective's own step meets it everywhere (issue 24: the gauge read 0.020015 s
 * against a 20 ms objective the report called met). Never more than 0.1 % below the reading.
 */
export function stepFloorMs(readingMs: number): number {
  return hdrStepOf(Math.round(readingMs * US_PER_MS)) / US_PER_MS;
}
