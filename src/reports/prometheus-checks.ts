import type { VectorSample } from "./prometheus-query.js";

/** What a value broke, as the message's tail says it. */
export const PROMETHEUS_RULES = {
  counts: "counts must be finite and >= 0",
  sum: "a sum of counts must stay a whole number up to 2^53 - 1",
  p99: "a p99 must be >= 0 (no data and +Inf are Prometheus' own answers)",
  bucket: "a p99 interpolated from the histogram lies inside its bucket",
  interpolated: "a p99 is histogram_quantile() of the same buckets",
  answered: "a finite p99 where the histogram holds responses in a finite bucket",
  beyond: "a p99 beyond the largest finite bound is that bound, as histogram_quantile() answers it",
  decimal: "values must be decimal numbers as Prometheus writes them (or NaN, +Inf, -Inf)",
  duplicate: "each series once in an answer (by its labels)",
  grouped: "each series carries only the labels its query groups by",
  whole: "an increase() of whole counts is 0 or at least 1",
  le: "each bucket's le a number or +Inf, and each histogram with its +Inf bucket",
  observed:
    "a histogram holds every served request's response and no more responses than there were requests",
  outcome: "each request counted as served, failed or excluded",
  scrapes: "a count of scrapes (at least 2) or of series (at least 1) is a whole number",
  counted:
    "count_over_time() answers for every bucket increase() answers for, and a histogram's +Inf series lives as long as any of its buckets' " +
    "(agents of one region with different bucket bounds break this too: see docs/regions.md)",
  time: "each sample evaluated at the time asked",
  monotone:
    "cumulative bucket counts never decrease as le grows, beyond what increase() extrapolates " +
    "(agents of one region with different bucket bounds break this too: see docs/regions.md)",
} as const;

/**
 * A value no counter or histogram can give: a count not finite or below 0, a sum beyond exact
 * integers, a negative p99 or one outside its bucket, a value in another notation, a series
 * twice, buckets that are not cumulative. The message ends with the rule it broke.
 * Exit 1: the source cannot be trusted.
 */
export class PrometheusValueError extends Error {
  constructor(url: string, what: string, rule: keyof typeof PROMETHEUS_RULES = "counts") {
    super(`${url}: ${what}: ${PROMETHEUS_RULES[rule]}; this source cannot be trusted for the month`);
    this.name = "PrometheusValueError";
  }
}

export function labelsOf(sample: VectorSample): string {
  // Each value quoted as JSON quotes it: a `"` in a remote value cannot close it and forge labels.
  return `{${Object.entries(sample.labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ")}}`;
}

/** "+Inf" and "NaN" as Prometheus writes them, so the message says what was sent. */
export function shownValue(value: number): string {
  if (Number.isNaN(value)) return "NaN (not a number)";
  if (!Number.isFinite(value)) return `${value > 0 ? "+Inf" : "-Inf"} (infinite)`;
  return String(value);
}

/**
 * Counts as increase() gives them: finite and >= 0, and 0 or at least 1. A series' increase is its
 * whole growth times a factor >= 1, so 0 or >= 1, and so is a sum of such; a value between would
 * let a source make a category with no request at all 100 % available.
 */
export function checkedCounts(url: string, what: string, samples: readonly VectorSample[]): void {
  for (const sample of samples) {
    if (!Number.isFinite(sample.value) || sample.value < 0) {
      throw new PrometheusValueError(url, `${what} ${labelsOf(sample)} is ${shownValue(sample.value)}`);
    }
    if (sample.value > 0 && sample.value < 1 - 1e-9) {
      throw new PrometheusValueError(url, `${what} ${labelsOf(sample)} is ${sample.value}`, "whole");
    }
  }
}

/**
 * What `sum by (...)` returns carries those labels and no other: a series with one more (an
 * `agent`, say) is a second answer for a group that has one, and would be added to it.
 */
export function checkedLabels(
  url: string,
  what: string,
  samples: readonly VectorSample[],
  grouping: readonly string[],
): void {
  for (const sample of samples) {
    const extra = Object.keys(sample.labels).filter((name) => !grouping.includes(name));
    if (extra.length > 0) {
      // The other labels' names and values are not shown: several short ones, each too short to
      // be taken for part of the token, spelled it out whole (hostile review, round 14).
      const labels = Object.fromEntries(
        Object.entries(sample.labels).filter(([name]) => grouping.includes(name)),
      );
      const grouped = { ...sample, labels };
      throw new PrometheusValueError(
        url,
        `${what} ${labelsOf(grouped)} has ${extra.length} more label${extra.length === 1 ? "" : "s"} (not shown), outside sum by (${grouping.join(", ")})`,
        "grouped",
      );
    }
  }
}

/** Counts of scrapes or series (`count_over_time`, `count`): whole numbers of at least `least`. */
export function checkedScrapeCounts(
  url: string,
  what: string,
  samples: readonly VectorSample[],
  least: number,
): void {
  for (const sample of samples) {
    if (!Number.isInteger(sample.value) || sample.value < least) {
      throw new PrometheusValueError(
        url,
        `${what} ${labelsOf(sample)} is ${shownValue(sample.value)}`,
        "scrapes",
      );
    }
  }
}

/** Requests are counted under the outcomes the agents write, and no other (or none). */
export function checkedOutcomes(url: string, what: string, samples: readonly VectorSample[]): void {
  for (const sample of samples) {
    const outcome = sample.labels.outcome;
    if (outcome !== "served" && outcome !== "failed" && outcome !== "excluded") {
      throw new PrometheusValueError(url, `${what} ${labelsOf(sample)}`, "outcome");
    }
  }
}

/**
 * Each sample of an instant query carries the time it was evaluated at: the one asked (ms since
 * the epoch). A cached or stale answer for another time is not this month's.
 */
export function checkedTimes(url: string, what: string, samples: readonly VectorSample[], at: number): void {
  for (const sample of samples) {
    if (!(Math.abs(sample.at * 1000 - at) <= 1000)) {
      throw new PrometheusValueError(
        url,
        `${what} ${labelsOf(sample)} is for ${new Date(sample.at * 1000).toISOString()}, not ${new Date(at).toISOString()}`,
        "time",
      );
    }
  }
}

/** A bucket bound as messages show it: "+Inf" as Prometheus writes it, not JavaScript's "Infinity". */
export function shownLe(le: number): string {
  return le === Number.POSITIVE_INFINITY ? "+Inf" : String(le);
}

/** How Prometheus formats a sample (strconv 'f'/'e' or the special values): no hex, no blanks. */
const DECIMAL = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]?Inf)$/;

/**
 * The series of one answer, as any Prometheus gives them: each value a decimal ("0x10" is not
 * 16 but a lie about the format), each label set once (a second series with the same labels
 * would be summed into the figures).
 */
export function checkedSeries(url: string, what: string, samples: readonly VectorSample[]): void {
  const seen = new Set<string>();
  for (const sample of samples) {
    if (!DECIMAL.test(sample.text))
      throw new PrometheusValueError(
        url,
        `${what} ${labelsOf(sample)} is ${JSON.stringify(sample.text)}`,
        "decimal",
      );
    const key = JSON.stringify(
      Object.entries(sample.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    if (seen.has(key))
      throw new PrometheusValueError(url, `${what} ${labelsOf(sample)} comes twice`, "duplicate");
    seen.add(key);
  }
}

/**
 * How far increase() can stretch a counter seen in `samples` scrapes of a window: by at most 1.1
 * of its average scrape interval at each edge (Prometheus extrapolates to an edge only when its
 * first or last sample is that close to it, and otherwise by half an interval), over the
 * `samples - 1` intervals it was seen across. Unknown (no answer): 2, the least increase() uses.
 */
export function extrapolationFactor(samples: number | undefined): number {
  const n = samples !== undefined && Number.isFinite(samples) && samples >= 2 ? samples : 2;
  return (n - 1 + 2.2) / (n - 1);
}

/** A bucket taken as larger than given, as histogram_quantile() takes it (checkedMonotone). */
export interface BucketRepair {
  readonly where: string;
  readonly le: number;
  readonly given: number;
  readonly taken: number;
  /** The scrapes of the series of the larger bucket below it, whose stretch allows it. */
  readonly scrapes: number;
  /**
   * What allows it: that bucket's stretch; this bucket's series being younger (seen in
   * `ownScrapes`, fewer), so it grew over part of the window only; or this bound spelled two ways.
   */
  readonly allowedBy: "stretch" | "younger" | "spelling";
  readonly ownScrapes: number;
}

/**
 * Cumulative bucket counts (le in seconds -> count) of one category in one region, and how many
 * scrapes the fewest-sampled series of each bucket had (le -> scrapes). Returns the buckets
 * histogram_quantile() will take as larger than given, for the report to show.
 *
 * The counters themselves never decrease as le grows, but increase() extrapolates each bucket's
 * series on its own, and an honest Prometheus can so put a lower bucket above a higher one (2.x
 * clamps a series' start at its zero point before deciding how far to extrapolate, so a bucket
 * with a smaller first value can be stretched further). What no extrapolation can do is put a
 * bucket below the real growth of a bucket under it: at least its increase() divided by
 * extrapolationFactor() of that bucket's own scrapes. A bucket's series can honestly have fewer
 * scrapes than the others (a bound added by a changed objective starts late), so each bucket is
 * allowed by its own count; a source that claims few scrapes gets a wide allowance, and the
 * report says where it was used. A decrease beyond it is no histogram. A relative tolerance of
 * 1e-9 lets the floating-point noise of increase() through.
 */
export function checkedMonotone(
  url: string,
  where: string,
  buckets: ReadonlyMap<number, number>,
  samples: ReadonlyMap<number, number>,
  split: ReadonlySet<number> = new Set(),
): BucketRepair[] {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const repairs: BucketRepair[] = [];
  // The lower buckets' least real growth, each with its series' scrapes: a bucket must hold at
  // least that of every lower bucket no younger than itself. A younger bucket (fewer scrapes: a
  // bound added mid-month) grew over part of the window only, so an older one below it can hold
  // any amount more.
  const lower: { le: number; count: number; grown: number; scrapes: number }[] = [];
  // The largest bucket so far (what histogram_quantile() takes the next ones as at least).
  let most = 0;
  let mostSamples = 0;
  for (const le of bounds) {
    const count = buckets.get(le)!;
    // Every bucket has its count (checkedAnswers refuses an answer without).
    const scrapes = samples.get(le)!;
    // A bound given under two spellings misses what grew while neither was scraped: it is repaired
    // (and listed), never refused, and the verdict never rests on it being raised (latencyVerdict).
    for (const below of split.has(le) ? [] : lower) {
      if (below.scrapes <= scrapes && count < below.grown - Math.max(1e-9, below.grown * 1e-9)) {
        throw new PrometheusValueError(
          url,
          `${where}: ${count} requests up to le=${shownLe(le)} but ${below.count} up to le=${shownLe(below.le)}, ` +
            `more than increase() can add to a series seen in ${below.scrapes} scrapes`,
          "monotone",
        );
      }
    }
    if (count < most - Math.max(1e-9, most * 1e-9)) {
      const grown = most / extrapolationFactor(mostSamples);
      const allowedBy = split.has(le)
        ? "spelling"
        : count < grown - Math.max(1e-9, grown * 1e-9)
          ? "younger"
          : "stretch";
      repairs.push({
        where,
        le,
        given: count,
        taken: most,
        scrapes: mostSamples,
        allowedBy,
        ownScrapes: scrapes,
      });
    }
    if (count > most) {
      most = count;
      mostSamples = scrapes;
    }
    lower.push({ le, count, grown: count / extrapolationFactor(scrapes), scrapes });
  }
  return repairs;
}
