import type { Category, SloConfig } from "../model/config.js";
import { isoUtc, monthInterval } from "../model/time.js";
import { meetsAvailabilityTarget } from "../slo/index.js";
import {
  addBuckets,
  boundAt,
  type CumulativeBuckets,
  interpolatedQuantile,
  parseLe,
  type QuantileBounds,
  quantileBucket,
} from "./prometheus-buckets.js";
import {
  type BucketRepair,
  checkedCounts,
  checkedLabels,
  checkedMonotone,
  checkedOutcomes,
  checkedScrapeCounts,
  checkedSeries,
  checkedTimes,
  extrapolationFactor,
  labelsOf,
  PrometheusValueError,
  shownLe,
  shownValue,
} from "./prometheus-checks.js";
import { PROMETHEUS_PRECISION } from "./prometheus-precision.js";
import {
  instantVector,
  PrometheusQueryError,
  type PrometheusSource,
  shownUrl,
  type VectorAnswer,
  type VectorSample,
} from "./prometheus-query.js";
import { spellsToken } from "./remote-text.js";

export { PROMETHEUS_RULES, PrometheusValueError } from "./prometheus-checks.js";

/** Metric and label names as src/export writes them (kept literal: reports do not import export/). */
export const REQUESTS = "slo_probe_requests_total";
/** The label names and outcomes the agents write: the report's own words in an answer. */
const OWN_LABEL_TEXTS = ["region", "category", "outcome", "le", "served", "failed", "excluded"];
const DURATION_BUCKETS = "slo_probe_duration_seconds_bucket";

/** R, SR and the p99 of one category in one region, or of all regions pooled. */
export interface PrometheusFigures {
  /** From increase(): not whole numbers (see precision). */
  readonly requests: number;
  readonly successful: number;
  readonly excluded: number;
  readonly availability_pct: number | null;
  /** histogram_quantile(0.99, ...) of the bucketed durations. */
  readonly latency_p99_ms: number | null;
  /** The bucket the p99 lies in: the exact p99 is between these bounds. */
  readonly latency_p99_bucket_ms: QuantileBounds | null;
}

export interface PrometheusCategoryRow extends PrometheusFigures {
  readonly category: string;
  readonly title: string;
  readonly service_class: string;
  readonly availability_target_pct: number | null;
  readonly availability_met: boolean | null;
  /**
   * Why the counters cannot tell whether the availability objective was met, or null: the
   * histogram holds responses beyond the requests (responses_beyond_requests), so requests went
   * uncounted, and whether they were served decides it.
   */
  readonly availability_undecided: string | null;
  /** Responses the latency histogram holds beyond each region's requests, added over the regions. */
  readonly responses_beyond_requests: number;
  readonly latency_objective_ms: number;
  /**
   * Decided by the p99's bucket, not by the interpolated figure: met when the bucket ends at or
   * below the objective, missed when it starts at or above it. Null without responses, or when the
   * bucket spans the objective (latency_undecided says so).
   */
  readonly latency_met: boolean | null;
  /** Why these buckets cannot tell whether the objective was met, or null. */
  readonly latency_undecided: string | null;
  /**
   * Met, but only within the extrapolation increase() can give the series at the objective (how
   * far depends on how many scrapes Prometheus says they had): what it took, or null.
   */
  readonly latency_met_within_extrapolation: string | null;
  readonly regions: readonly ({ readonly region: string } & PrometheusFigures)[];
}

export interface PrometheusMonthReport {
  readonly month: string;
  readonly period: { readonly start: string; readonly end: string };
  /** The month has not ended: the figures run to source.evaluated_at and may still change. */
  readonly preliminary: boolean;
  readonly source: {
    readonly kind: "prometheus";
    readonly url: string;
    /** The instant the queries were evaluated at: the month's end, or now for the current month. */
    readonly evaluated_at: string;
    readonly range: string;
    /** What Prometheus warned about with its answers (a partial answer, say), as it said it. */
    readonly warnings: readonly string[];
    /**
     * Prometheus' notes that histogram_quantile() took out-of-order buckets as cumulative (2.48+):
     * shown, but no warning about the answer (the report bounds and lists those buckets itself).
     */
    readonly notes: readonly string[];
    /**
     * False when Prometheus has no request counter of any configured category over the month (a
     * wrong URL, or agents that did not run): every category then reads "no traffic".
     */
    readonly found_series: boolean;
    /**
     * The categories reported that the configuration probes but for which Prometheus counted no
     * request over the month (no series, or only zeros): "no traffic" there means no figures, not
     * no failures.
     */
    readonly probed_without_requests: readonly string[];
  };
  /**
   * Buckets taken as larger than Prometheus gave them (each at least the ones below it, as
   * histogram_quantile() takes them), one sentence each; empty when none was out of order.
   */
  readonly repaired_buckets: readonly string[];
  readonly notice: string;
  readonly precision: readonly { readonly figure: string; readonly limit: string }[];
  readonly categories: readonly PrometheusCategoryRow[];
  readonly service_classes: readonly {
    readonly service_class: string;
    readonly requests: number;
    readonly successful: number;
    readonly availability_pct: number | null;
    readonly availability_target_pct: number;
    readonly availability_met: boolean | null;
    readonly availability_undecided: string | null;
  }[];
}

export interface PrometheusMonthInput {
  readonly config: SloConfig;
  readonly source: PrometheusSource;
  readonly month: string;
  readonly now: number;
  readonly categories?: readonly string[];
}

/**
 * What the report shows, checked after adding: series that are each finite can sum to Infinity
 * (1.7e308 + 1.7e308), a count beyond 2^53 is no longer exact, and an interpolated p99 lies inside
 * the bucket it is in. Excluded requests are not part of the requests (contract section 1), so
 * they may exceed them; they are held to the same bounds.
 */
function checkedFigures(url: string, category: string, region: string | null, f: PrometheusFigures): void {
  const where = region === null ? category : `${category} in region ${region}`;
  for (const [name, value] of [
    ["requests", f.requests],
    ["successful", f.successful],
    ["excluded", f.excluded],
  ] as const) {
    if (!Number.isFinite(value) || value > Number.MAX_SAFE_INTEGER) {
      throw new PrometheusValueError(
        url,
        `${where}: ${name} adds up to ${shownValue(value)}, beyond ${Number.MAX_SAFE_INTEGER}`,
        "sum",
      );
    }
  }
  const bucket = f.latency_p99_bucket_ms;
  const p99 = f.latency_p99_ms;
  if (bucket === null) return;
  if (bucket.upper === null) {
    // Beyond the largest finite bound histogram_quantile() answers that bound (NaN when +Inf is the
    // only bucket): any other figure would read as a p99 the histogram never gave.
    const expected = bucket.lower > 0 ? bucket.lower : null;
    const same =
      expected === null ? p99 === null : p99 !== null && Math.abs(p99 - expected) <= expected * 1e-9;
    if (!same) {
      throw new PrometheusValueError(
        url,
        `${where}: a p99 of ${p99 === null ? "none (NaN, +Inf or none)" : `${p99} ms`} while the histogram puts it beyond ` +
          (expected === null ? "a +Inf bucket alone" : `its largest finite bound, ${expected} ms`),
        "beyond",
      );
    }
    return;
  }
  if (p99 === null) {
    throw new PrometheusValueError(
      url,
      `${where}: no finite p99 (NaN, +Inf or none) while the histogram puts it in ${bucket.lower}-${bucket.upper} ms`,
      "answered",
    );
  }
  // histogram_quantile() interpolates inside the bucket: only floating-point noise lies above it
  // (atBound() shows such a p99 at the bound). Never at or below its lower bound: the 99 % rank is
  // above the count there, or the p99 would be in the bucket below.
  if (p99 > bucket.upper * (1 + 1e-6) || p99 <= bucket.lower) {
    const side = p99 > bucket.upper ? "above" : p99 < bucket.lower ? "below" : "at the lower bound of";
    throw new PrometheusValueError(
      url,
      `${where}: a p99 of ${p99} ms ${side} the bucket it is in (${bucket.lower}-${bucket.upper} ms)`,
      "bucket",
    );
  }
  // And where inside it, as the same buckets interpolate: a p99 a hair over the bucket's lower
  // bound reads as a near miss where the buckets put it 8 ms higher (hostile review, round 14). The
  // pooled buckets are added up here and by Prometheus in another order: a millionth of the
  // bucket's width allows for that.
  const own = INTERPOLATED.get(f);
  if (own !== undefined && own !== null && Math.abs(p99 - own) > (bucket.upper - bucket.lower) * 1e-6) {
    throw new PrometheusValueError(
      url,
      `${where}: a p99 of ${p99} ms where its buckets interpolate to ${own} ms`,
      "interpolated",
    );
  }
}

/**
 * A checked p99 a hair over its bucket (floating-point noise, checkedFigures) at the bucket's
 * upper bound: above it, it would read as over an objective the bucket says was met.
 */
function atBound<F extends PrometheusFigures>(f: F): F {
  const upper = f.latency_p99_bucket_ms?.upper;
  if (f.latency_p99_ms === null || upper === undefined || upper === null) return f;
  return { ...f, latency_p99_ms: Math.min(f.latency_p99_ms, upper) };
}

/** A month that has not started yet has nothing to ask Prometheus about. */
export class MonthNotStartedError extends Error {}

/** The month's figures from the counters and the duration histogram in a Prometheus-compatible API. */
export async function prometheusMonthReport(input: PrometheusMonthInput): Promise<PrometheusMonthReport> {
  const period = monthInterval(input.month);
  const at = Math.min(period.end, input.now);
  const seconds = Math.floor((at - period.start) / 1000);
  if (seconds <= 0) throw new MonthNotStartedError(`${input.month} has not started yet`);
  const range = `${seconds}s`;
  const by = (extra: string) => `sum by (region, category${extra})`;
  // The report's own words: labels that are these are not the server's text (remoteText).
  const known = new Set([...input.config.categories.keys(), ...OWN_LABEL_TEXTS]);
  const ask = (expr: string) => instantVector(input.source, expr, at, known);
  const answers: VectorAnswer[] = await Promise.all([
    ask(`${by(", outcome")} (increase(${REQUESTS}[${range}]))`),
    ask(`${by(", le")} (increase(${DURATION_BUCKETS}[${range}]))`),
    ask(`histogram_quantile(0.99, ${by(", le")} (increase(${DURATION_BUCKETS}[${range}])))`),
    ask(`histogram_quantile(0.99, sum by (category, le) (increase(${DURATION_BUCKETS}[${range}])))`),
    // How far increase() can have stretched each bucket (checkedMonotone): the fewest scrapes of a
    // series it used (a series seen once gives increase() nothing).
    ask(`min by (region, category, le) (count_over_time(${DURATION_BUCKETS}[${range}]) > 1)`),
    // How many request counters each group has: a counter born inside the window (a probe's first
    // 5xx of the month) hides from increase() what it counted before its first scrape, which the
    // older histogram series did see (checkedWholeHistogram).
    ask(`count by (region, category) (count_over_time(${REQUESTS}[${range}]))`),
  ]);
  const [counts, buckets, regionP99, pooledP99, scrapes, counters] = answers.map((a) => a.samples) as [
    VectorSample[],
    VectorSample[],
    VectorSample[],
    VectorSample[],
    VectorSample[],
    VectorSample[],
  ];
  const shown = shownUrl(input.source.url);
  // Texts each too short to be taken for part of the token must not spell it out between them
  // (hostile reviews, rounds 14 to 18): a region's name is shown, any label may be named in a
  // refusal, and warnings are shown, so this is checked before anything names one. Left out: the
  // report's own words (`known`: the category ids, the agents' label names and outcomes, whose
  // runs of three spelled half of tokens like "payment-api-ro-token"), bucket bounds (numbers; a
  // region named 4815162 is counted) and Prometheus' recognised notes (its fixed wording, naming
  // prometheus.io and no metric but the agents'). A token made of words the server's own warnings
  // use ("store-gateway-ro" beside a Thanos "store gateway ... unavailable") is refused too: the
  // report cannot tell that from an echo, and says to use a random token.
  const shownTexts = new Set(
    answers.flatMap((a) => [
      ...a.samples.flatMap((x) =>
        Object.entries(x.labels).flatMap(([name, value]) => (name === "le" ? [name] : [name, value])),
      ),
      ...a.warnings,
    ]),
  );
  const serverTexts = [...shownTexts].filter((text) => !known.has(text));
  if (spellsToken(input.source.bearerToken, serverTexts)) {
    throw new PrometheusQueryError(
      shown,
      "answered labels or warnings that between them spell out much of the bearer token: not read (a token made of words such as the server's own messages use can do this: use a random token)",
    );
  }
  const objectives = new Map([...input.config.categories.values()].map((c) => [c.id, c.latencyP99Ms / 1000]));
  const { repairs, mixedAges, objectiveScrapes } = checkedAnswers(shown, at, objectives, {
    counts,
    buckets,
    regionP99,
    pooledP99,
    scrapes,
    counters,
  });
  const wanted = [...input.config.categories.values()]
    .filter((c) => input.categories === undefined || input.categories.includes(c.id))
    .sort((a, b) => a.id.localeCompare(b.id));
  const rows = wanted.map((c) =>
    categoryRow(
      input.config,
      c,
      { counts, buckets, regionP99, pooledP99 },
      { mixedAges: mixedAges.has(c.id), objectiveScrapes: objectiveScrapes.get(c.id) },
    ),
  );
  for (const row of rows) {
    checkedFigures(shown, row.category, null, row);
    for (const region of row.regions) checkedFigures(shown, row.category, region.region, region);
  }
  return {
    month: input.month,
    period: { start: isoUtc(period.start), end: isoUtc(period.end) },
    preliminary: at < period.end,
    source: {
      kind: "prometheus",
      url: shownUrl(input.source.url),
      evaluated_at: isoUtc(at),
      range,
      warnings: [...new Set(answers.flatMap((a) => a.warnings))],
      notes: [...new Set(answers.flatMap((a) => a.notes))],
      found_series: counts.some((s) => objectives.has(s.labels.category ?? "")),
      probed_without_requests: wanted
        .filter((c) => input.config.probes.some((p) => p.category === c.id))
        .filter((c) => !counts.some((s) => s.labels.category === c.id && s.value > 0 && isRequest(s)))
        .map((c) => c.id),
    },
    repaired_buckets: repairs.map(shownRepair),
    notice:
      "These figures come from Prometheus (the agents' counters and bucketed latency histogram), not " +
      "from the evidence store: they are approximate, carry no evidence and are not signed. The exact " +
      "figures are those of `slo-agent report` on the agents' stores (or `--from-agents`).",
    precision: PROMETHEUS_PRECISION,
    categories: rows.map((row) => ({ ...atBound(row), regions: row.regions.map(atBound) })),
    service_classes: serviceClassRows(input.config, rows),
  };
}

/**
 * Every answer checked against what agents' counters scraped by an honest Prometheus can give
 * (each rule's reason is at its check). Returns the buckets taken as larger than given, and the
 * categories whose bucket at the objective (seconds, by category) and +Inf bucket cover different
 * parts of the month (scraped a different number of times: a bound added when the objective
 * changed), whose latency objective no reading of them can decide.
 */
function checkedAnswers(
  shown: string,
  at: number,
  objectives: ReadonlyMap<string, number>,
  a: Answers & { readonly scrapes: readonly VectorSample[]; readonly counters: readonly VectorSample[] },
): { repairs: BucketRepair[]; mixedAges: Set<string>; objectiveScrapes: Map<string, number> } {
  const answered: [string, readonly VectorSample[], readonly string[]][] = [
    [REQUESTS, a.counts, ["region", "category", "outcome"]],
    ["the latency histogram's buckets", a.buckets, ["region", "category", "le"]],
    ["the p99 by region", a.regionP99, ["region", "category"]],
    ["the p99", a.pooledP99, ["category"]],
    ["the buckets' scrape counts", a.scrapes, ["region", "category", "le"]],
    ["the request counters' number", a.counters, ["region", "category"]],
  ];
  for (const [what, samples, grouping] of answered) {
    checkedLabels(shown, what, samples, grouping);
    checkedSeries(shown, what, samples);
    checkedTimes(shown, what, samples, at);
  }
  checkedOutcomes(shown, REQUESTS, a.counts);
  checkedCounts(shown, REQUESTS, a.counts);
  checkedCounts(shown, "the latency histogram's buckets", a.buckets);
  checkedScrapeCounts(shown, "the buckets' scrape counts", a.scrapes, 2);
  checkedScrapeCounts(shown, "the request counters' number", a.counters, 1);
  for (const p99 of [...a.regionP99, ...a.pooledP99]) {
    // NaN (no data) and +Inf (beyond the last bucket) are Prometheus' own answers; below 0 is not.
    if (p99.value < 0)
      throw new PrometheusValueError(shown, `a p99 of ${p99.value} s ${labelsOf(p99)}`, "p99");
  }
  const countersOf = new Map(a.counters.map((c) => [groupOf(c), c.value]));
  const histograms = histogramsOf(shown, "the latency histogram's buckets", a.buckets);
  const scrapesOf = histogramsOf(shown, "the buckets' scrape counts", a.scrapes);
  const split = splitOf(a.buckets);
  const requestsOf = requestsByGroup(a.counts);
  const repairs: BucketRepair[] = [];
  const mixedAges = new Set<string>();
  // The fewest scrapes of a category's bucket at its objective, over its regions.
  const objectiveScrapes = new Map<string, number>();
  for (const [where, histogram] of histograms) {
    // count_over_time(...) > 1 keeps exactly the series increase() uses (two samples or more): a
    // bucket without its count would get the widest allowance (2 scrapes) for nothing.
    const scrapes = scrapesOf.get(where) ?? new Map<number, number>();
    for (const le of histogram.keys()) {
      if (!scrapes.has(le)) {
        throw new PrometheusValueError(shown, `${where}: le=${shownLe(le)} has no scrape count`, "counted");
      }
    }
    checkedWholeHistogram(shown, where, histogram, requestsOf.get(where), scrapes, countersOf.get(where));
    // A histogram's +Inf series exists as long as any of its buckets' does: a +Inf scraped fewer
    // times than another bucket (claimed young, for a wide allowance) is no agent's histogram.
    const infScrapes = scrapes.get(Number.POSITIVE_INFINITY) ?? 0;
    for (const [le, n] of scrapes) {
      if (n > infScrapes) {
        throw new PrometheusValueError(
          shown,
          `${where}: le=${shownLe(le)} seen in ${n} scrapes but +Inf in ${infScrapes}`,
          "counted",
        );
      }
    }
    repairs.push(...checkedMonotone(shown, where, histogram, scrapes, split.get(where)));
    // Whether the objective was met is whether the bucket at it holds 99 % of the +Inf bucket:
    // other bounds added or dropped on the way (the agents share one set of bounds across
    // categories) do not change that, but these two covering different windows does.
    const category = where.slice(0, where.indexOf(" in region "));
    const objective = objectives.get(category);
    const atObjective = objective === undefined ? undefined : boundAt(scrapes.keys(), objective);
    if (atObjective !== undefined) {
      const n = scrapes.get(atObjective)!;
      if (n !== infScrapes) mixedAges.add(category);
      objectiveScrapes.set(category, Math.min(n, objectiveScrapes.get(category) ?? n));
    }
  }
  for (const [where, requests] of requestsOf) {
    if (requests.served > 0 && !histograms.has(where)) {
      throw new PrometheusValueError(
        shown,
        `${where}: ${requests.served} requests served but no latency histogram`,
        "observed",
      );
    }
  }
  return { repairs, mixedAges, objectiveScrapes };
}

interface Answers {
  readonly counts: readonly VectorSample[];
  readonly buckets: readonly VectorSample[];
  readonly regionP99: readonly VectorSample[];
  readonly pooledP99: readonly VectorSample[];
}

function categoryRow(
  config: SloConfig,
  category: Category,
  answers: Answers,
  ages: { readonly mixedAges: boolean; readonly objectiveScrapes: number | undefined },
): PrometheusCategoryRow {
  const of = (samples: readonly VectorSample[]) => samples.filter((s) => s.labels.category === category.id);
  const counts = of(answers.counts);
  const buckets = of(answers.buckets);
  const regions = [...new Set([...counts, ...buckets].map((s) => s.labels.region ?? ""))].sort();
  // Responses beyond a region's requests, and served requests without a response, added over the
  // regions: one region's surplus must not hide another's missing responses.
  const counted = { surplus: 0, missing: 0 };
  // Each answer's samples by region once: a source with thousands of regions must not make this
  // quadratic.
  const [countsOf, bucketsIn, p99Of] = [counts, buckets, of(answers.regionP99)].map(byRegion) as [
    Map<string, VectorSample[]>,
    Map<string, VectorSample[]>,
    Map<string, VectorSample[]>,
  ];
  const regionRows = regions.map((region) => {
    const histogram = bucketsOf(bucketsIn.get(region) ?? []);
    const row = figures(countsOf.get(region) ?? [], histogram, p99Of.get(region)?.[0]);
    // The +Inf bucket as given: a lower bucket above it is increase()'s extrapolation (checked).
    const responses = histogram.get(Number.POSITIVE_INFINITY) ?? 0;
    counted.surplus += Math.max(0, responses - row.requests);
    counted.missing += Math.max(0, row.successful - responses);
    return carried(row, { region, ...row });
  });
  const pooledBuckets = bucketsOf(buckets);
  const pooled = figures(counts, pooledBuckets, of(answers.pooledP99)[0]);
  const target = config.serviceClasses.get(category.serviceClass)?.availabilityTarget ?? null;
  return carried(pooled, {
    category: category.id,
    title: category.title,
    service_class: category.serviceClass,
    ...pooled,
    availability_target_pct: target === null ? null : target * 100,
    ...availabilityVerdict(pooled, target, counted.surplus),
    responses_beyond_requests: counted.surplus,
    latency_objective_ms: category.latencyP99Ms,
    ...(ages.mixedAges && pooled.latency_p99_bucket_ms !== null
      ? {
          latency_met: null,
          latency_undecided:
            "its bucket at the objective and its +Inf bucket were scraped a different number of times, so they " +
            "cover different parts of the month (a bound added when the objective changed): they cannot say whether it was met",
          latency_met_within_extrapolation: null,
        }
      : latencyVerdict(
          pooledBuckets,
          pooled.latency_p99_bucket_ms,
          category.latencyP99Ms,
          ages.objectiveScrapes,
          { ...counted, requests: pooled.requests, served: pooled.successful },
        )),
    regions: regionRows,
  });
}

/**
 * Whether the availability objective was met. An agent observes each response with the request it
 * counts, so responses beyond the requests are requests the counters did not count (a counter born
 * in the month hides what it counted before its first scrape; a source can drop a failed counter).
 * Met only when it is met with those counted as failed, missed only when it is missed with them
 * served; otherwise undecided, and said why.
 */
function availabilityVerdict(
  f: { readonly requests: number; readonly successful: number; readonly availability_pct: number | null },
  target: number | null,
  uncounted: number,
): { availability_met: boolean | null; availability_undecided: string | null } {
  if (f.availability_pct === null || target === null)
    return { availability_met: null, availability_undecided: null };
  const requests = f.requests + uncounted;
  if (meetsAvailabilityTarget({ requests, served: f.successful }, target))
    return { availability_met: true, availability_undecided: null };
  if (!meetsAvailabilityTarget({ requests, served: f.successful + uncounted }, target))
    return { availability_met: false, availability_undecided: null };
  return {
    availability_met: null,
    availability_undecided:
      `the latency histogram holds ${uncounted} responses beyond the ${f.requests} requests counted (each region's ` +
      `responses come with its requests): as failures they make ${(f.successful / requests) * 100} %, as served ` +
      `${((f.successful + uncounted) / requests) * 100} %, either side of the ${target * 100} % objective`,
  };
}

function figures(
  counts: readonly VectorSample[],
  buckets: CumulativeBuckets,
  p99: VectorSample | undefined,
): PrometheusFigures {
  const sum = (outcome: string) =>
    counts.filter((s) => s.labels.outcome === outcome).reduce((total, s) => total + s.value, 0);
  const successful = sum("served");
  const requests = successful + sum("failed");
  const bucket = quantileBucket(buckets, 0.99);
  const p99Ms = p99 !== undefined && Number.isFinite(p99.value) ? p99.value * 1000 : null;
  const shown: PrometheusFigures = {
    requests,
    successful,
    excluded: sum("excluded"),
    availability_pct: requests > 0 ? (successful / requests) * 100 : null,
    latency_p99_ms: bucket === null ? null : p99Ms,
    latency_p99_bucket_ms: bucket,
  };
  INTERPOLATED.set(shown, interpolatedQuantile(buckets, 0.99));
  return shown;
}

/** Each figures' p99 as the report interpolates it from the buckets the source gave (checkedFigures). */
const INTERPOLATED = new WeakMap<PrometheusFigures, number | null>();

/** `row`, made of `figures`, with their interpolated p99 for checkedFigures. */
function carried<R extends PrometheusFigures>(figures: PrometheusFigures, row: R): R {
  INTERPOLATED.set(row, INTERPOLATED.get(figures) ?? null);
  return row;
}

/**
 * Whether the objective was met: whether the bucket at the objective holds 99 % of the responses
 * (the largest bucket, as histogram_quantile() takes it). The agents make each objective a bucket
 * bound; buckets without one (another histogram, or an objective changed since) cannot decide,
 * and say so. Missed when even the buckets taken as histogram_quantile() takes them (each at
 * least the ones below) stay under the 99 % rank at the objective. Met when the bucket at the
 * objective holds it as given; met within its own extrapolation too, but then said so
 * (latency_met_within_extrapolation): a bucket below it that holds more (a series claimed young,
 * stretched up to 3.2 times) cannot make a miss a pass. Nor can fast responses beyond the requests
 * (checkedWholeHistogram allows up to the requests again, for counters born in the month and each
 * series' extrapolation), nor served requests left out of the histogram: the verdict takes the
 * first out of the bucket at the objective and the second as slower than it. Slow responses of
 * failed requests left out can (up to the failed requests: the counters do not say which failures
 * got a response, and one that got none has no duration); docs/security.md says so.
 */
function latencyVerdict(
  buckets: CumulativeBuckets,
  p99Bucket: QuantileBounds | null,
  objectiveMs: number,
  objectiveScrapes: number | undefined,
  counted: {
    readonly surplus: number;
    readonly missing: number;
    readonly requests: number;
    readonly served: number;
  },
): Pick<PrometheusCategoryRow, "latency_met" | "latency_undecided" | "latency_met_within_extrapolation"> {
  const verdict = (met: boolean | null, undecided: string | null = null, within: string | null = null) => ({
    latency_met: met,
    latency_undecided: undecided,
    latency_met_within_extrapolation: within,
  });
  if (p99Bucket === null) return verdict(null);
  const atObjective = boundAt(buckets.keys(), objectiveMs / 1000);
  if (atObjective === undefined) {
    const upper = p99Bucket.upper === null ? "+Inf" : `${p99Bucket.upper} ms`;
    return verdict(
      null,
      `these buckets have no bound at the ${objectiveMs} ms objective (the agents' have one at every objective), ` +
        `so the p99, between ${p99Bucket.lower} ms and ${upper}, cannot say whether it was met`,
    );
  }
  const responses = Math.max(...buckets.values());
  const rank = 0.99 * responses;
  const { surplus, missing, requests, served } = counted;
  // An honest agent observes each served request's response once, with its request, and no
  // response without one (a failure may have none). So responses beyond the requests, and served
  // requests without a response, leave the objective to what they would have been. Missed only
  // when it is missed even with the missing responses within the objective.
  const upToObjective = Math.max(...[...buckets].filter(([le]) => le <= atObjective).map(([, n]) => n));
  if (upToObjective + missing < 0.99 * (responses + missing)) return verdict(false);
  const given = buckets.get(atObjective)!;
  // Met only when it is met with the surplus taken as the fastest responses (out of the bucket at
  // the objective) and the missing ones as slower than the objective.
  const held = given - surplus;
  const needed = 0.99 * (responses - surplus + missing);
  if (held >= needed) return verdict(true);
  // A bucket's own series extrapolated less than the one the rank comes from (a lower bucket, or
  // +Inf): met within what increase() can do to a series seen in that many scrapes, and said so,
  // since the scrape counts are the source's word.
  if (held * extrapolationFactor(objectiveScrapes) >= needed) {
    return verdict(
      true,
      null,
      `the bucket at the ${objectiveMs} ms objective holds ${given} responses` +
        (surplus > 0 ? ` (${held} without the ${surplus} beyond their regions' ${requests} requests)` : "") +
        (missing > 0 ? ` (of ${served} served requests, ${missing} have no response in the histogram)` : "") +
        `, under the ${needed} of the 99th percentile; increase() can stretch a series seen in ${objectiveScrapes ?? 2} scrapes that far`,
    );
  }
  if (missing > 0) {
    return verdict(
      null,
      `of ${served} served requests, ${missing} have no response in the latency histogram (each region's ` +
        `histogram holds every served request's response): taken as slower than the ${objectiveMs} ms objective, ` +
        `the bucket at it holds ${held} of ${needed / 0.99}, under the ${needed} of the 99th percentile; only ` +
        "responses that are not there would make it met",
    );
  }
  return verdict(
    null,
    surplus > 0
      ? `the histogram holds ${responses} responses, ${surplus} beyond their regions' ${requests} requests (served ` +
          `and failed); without them, the bucket at the ${objectiveMs} ms objective holds ${held}, under the ` +
          `${needed} of the 99th percentile: only responses beyond the requests would make it met`
      : `the bucket at the ${objectiveMs} ms objective holds ${given} responses, under the ${rank} of the 99th ` +
          `percentile; only a bucket below it taken as larger (${upToObjective}) would make it met`,
  );
}

function shownRepair(r: BucketRepair): string {
  const why = {
    stretch: `increase() can stretch a series seen in ${r.scrapes} scrapes that far`,
    younger:
      `more than increase() can stretch a series seen in ${r.scrapes} scrapes, but this bucket's own series is ` +
      `younger (seen in ${r.ownScrapes} scrapes, a bound added since): it grew over part of the month only`,
    spelling:
      "this bound is spelled two ways, each seen for part of the month: what grew while neither was scraped is in neither",
  }[r.allowedBy];
  return `${r.where}: le=${shownLe(r.le)} taken as ${r.taken}, not ${r.given} (a bucket below it holds more; ${why})`;
}

/** Counted as a request: served or failed (an excluded one is outside R, contract section 1). */
function isRequest(s: VectorSample): boolean {
  return s.labels.outcome === "served" || s.labels.outcome === "failed";
}

/** Requests (served and failed, not excluded) and those served, by "category in region". */
function requestsByGroup(counts: readonly VectorSample[]): Map<string, { requests: number; served: number }> {
  const out = new Map<string, { requests: number; served: number }>();
  for (const s of counts) {
    if (!isRequest(s)) continue;
    const where = groupOf(s);
    const group = out.get(where) ?? { requests: 0, served: 0 };
    group.requests += s.value;
    if (s.labels.outcome === "served") group.served += s.value;
    out.set(where, group);
  }
  return out;
}

/**
 * A histogram as the agents export it: with its +Inf bucket (without it Prometheus' p99 is NaN
 * and the responses would vanish from the report), holding every served request's response and no
 * more responses than requests. An agent observes each non-excluded response (and timeout) once,
 * in the same step as it counts the request, so over any window the histogram grew by at least the
 * served requests and at most all requests; increase() may stretch either by extrapolationFactor().
 * Its size is taken as histogram_quantile() takes it: the largest bucket.
 */
function checkedWholeHistogram(
  url: string,
  where: string,
  histogram: ReadonlyMap<number, number>,
  counted: { requests: number; served: number } | undefined,
  scrapes: ReadonlyMap<number, number>,
  counters: number | undefined,
): void {
  if (!histogram.has(Number.POSITIVE_INFINITY)) {
    throw new PrometheusValueError(url, `${where}: buckets without le="+Inf"`, "le");
  }
  const { requests, served } = counted ?? { requests: 0, served: 0 };
  const shown = (observed: number) =>
    `${where}: ${observed} responses in the latency histogram but ${requests} requests, ${served} of them served`;
  // Each bucket grew by no more than the requests over its series' window, stretched by its own
  // scrapes. A counter born inside the window hides what it counted before its first scrape: up
  // to a scrape interval's requests of the group (requests over the histogram's intervals) each.
  // The most scrapes any bucket claims: the histogram's age (a bucket can honestly be younger,
  // never older), and the smallest share of requests per interval a source can make us allow.
  const intervals = Math.max(1, Math.max(...scrapes.values()) - 1);
  // What the counters hid is requests the histogram saw, never more than the requests themselves:
  // a source claiming a million counters gets no more room than that.
  const hidden = Math.min((counters ?? 0) * (requests / intervals + 1), requests);
  for (const [le, observed] of histogram) {
    const most = (requests + hidden) * extrapolationFactor(scrapes.get(le));
    if (observed > most + Math.max(1e-9, most * 1e-9))
      throw new PrometheusValueError(url, shown(observed), "observed");
  }
  // The served counters may be series of their own, younger than the histogram's, so stretched up
  // to 3.2 times; the histogram as histogram_quantile() takes it holds at least their growth.
  const observed = Math.max(...histogram.values());
  const least = served / extrapolationFactor(2);
  if (observed < least - Math.max(1e-9, least * 1e-9))
    throw new PrometheusValueError(url, shown(observed), "observed");
}

/** Samples by their region label (Map.groupBy is Node 21+). */
function byRegion(samples: readonly VectorSample[]): Map<string, VectorSample[]> {
  const out = new Map<string, VectorSample[]>();
  for (const s of samples) {
    const region = s.labels.region ?? "";
    const list = out.get(region);
    if (list === undefined) out.set(region, [s]);
    else list.push(s);
  }
  return out;
}

/** "category in region": how the checks name one category's series in one region. */
function groupOf(s: VectorSample): string {
  return `${s.labels.category ?? ""} in region ${s.labels.region ?? ""}`;
}

/**
 * Each category's and region's own cumulative histogram (or scrape counts), by "category in
 * region": every le a bound, and no two bounds within 1e-9 of each other.
 */
function histogramsOf(
  url: string,
  what: string,
  samples: readonly VectorSample[],
): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const s of samples) {
    const le = parseLe(s.labels.le);
    if (le === null) throw new PrometheusValueError(url, `${what} ${labelsOf(s)}`, "le");
    const where = groupOf(s);
    const histogram = out.get(where) ?? new Map<number, number>();
    // One bound spelled two ways ("1" and "1.0": Prometheus 3 writes whole-number bounds with a
    // ".0", so a month across an upgrade has both, each for its part of the month) is one bucket,
    // added up as histogram_quantile() adds them; so are their scrape counts. The same spelling
    // twice is refused by checkedSeries.
    histogram.set(le, (histogram.get(le) ?? 0) + s.value);
    out.set(where, histogram);
  }
  // Two bounds within 1e-9 of each other are one bound (latencyVerdict takes a bound that close to
  // the objective as the objective): a second, near-equal one would make an empty-width bucket.
  for (const [where, histogram] of out) {
    const bounds = [...histogram.keys()].sort((a, b) => a - b);
    for (let i = 1; i < bounds.length; i++) {
      if (Number.isFinite(bounds[i]) && bounds[i]! - bounds[i - 1]! <= bounds[i]! * 1e-9) {
        throw new PrometheusValueError(
          url,
          `${what} of ${where}: le=${bounds[i - 1]} and le=${bounds[i]} are one bound`,
          "duplicate",
        );
      }
    }
  }
  return out;
}

/**
 * The bounds given under two spellings or more ("1" and "1.0" across a Prometheus 3 upgrade), by
 * "category in region": each spelling saw part of the month, and what the counters grew by while
 * neither was scraped (the upgrade's downtime) is in neither.
 */
function splitOf(samples: readonly VectorSample[]): Map<string, Set<number>> {
  const seen = new Map<string, Set<string>>();
  const out = new Map<string, Set<number>>();
  for (const s of samples) {
    const le = parseLe(s.labels.le);
    if (le === null) continue;
    const key = `${groupOf(s)}\u0000${le}`;
    const spellings = seen.get(key) ?? new Set<string>();
    spellings.add(s.labels.le!);
    seen.set(key, spellings);
    if (spellings.size > 1) out.set(groupOf(s), (out.get(groupOf(s)) ?? new Set<number>()).add(le));
  }
  return out;
}

/** Sums the `le` series of several regions into one cumulative histogram. */
function bucketsOf(samples: readonly VectorSample[]): Map<number, number> {
  const perSeries = samples.flatMap((s) => {
    const le = parseLe(s.labels.le);
    return le === null || !Number.isFinite(s.value) ? [] : [new Map([[le, s.value]])];
  });
  return addBuckets(perSeries);
}

function serviceClassRows(config: SloConfig, rows: readonly PrometheusCategoryRow[]) {
  return [...config.serviceClasses.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .filter((cls) => rows.some((r) => r.service_class === cls.id))
    .map((cls) => {
      // Pooled: the requests of all its categories, not a mean of their ratios.
      const own = rows.filter((r) => r.service_class === cls.id);
      const requests = own.reduce((total, r) => total + r.requests, 0);
      const successful = own.reduce((total, r) => total + r.successful, 0);
      const uncounted = own.reduce((total, r) => total + r.responses_beyond_requests, 0);
      const availability = requests > 0 ? (successful / requests) * 100 : null;
      return {
        service_class: cls.id,
        requests,
        successful,
        availability_pct: availability,
        availability_target_pct: cls.availabilityTarget * 100,
        // The one definition of "objective met" (slo/availability.ts), decided in integers.
        ...availabilityVerdict(
          { requests, successful, availability_pct: availability },
          cls.availabilityTarget,
          uncounted,
        ),
      };
    });
}
