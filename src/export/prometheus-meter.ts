import {
  type Attributes,
  type BatchObservableCallback,
  type BatchObservableResult,
  type Counter,
  diag,
  type Gauge,
  type Histogram,
  type Meter,
  type MetricOptions,
  type Observable,
  type ObservableCallback,
  type ObservableCounter,
  type ObservableGauge,
  type ObservableResult,
  type ObservableUpDownCounter,
  type UpDownCounter,
  ValueType,
} from "@opentelemetry/api";
import { escapeText, labelText, sanitizeName } from "./exposition.js";

/**
 * The agent's own instruments, behind OpenTelemetry's Meter interface, kept where /metrics reads
 * them: one series object per label set, holding its value or its bucket counts, and the text
 * of its labels made once. A scrape runs the observable callbacks and writes the text straight
 * from the series, in chunks (issue 30). The SDK's collection made a new accumulation and a data
 * point for each of the ~9,000 series at 1,000 probes at every scrape, and hashed every label set
 * again on every record and observation: most of /metrics' 0.3 s and of a scrape's garbage.
 *
 * The text is what OpenTelemetry's Prometheus exporter writes for the same instruments with the
 * agent's options (test/export/prometheus-meter.test.ts compares them): families in the order
 * they were created, series in the order first seen, never forgotten; counters with `_total`; histograms as _count, _sum and
 * cumulative buckets; instruments with no series are left out. Label sets are the same series
 * when their keys and values are (the SDK's rule); a label set object must not be changed once
 * used (the agent shares them).
 *
 * `twin`: the SDK's meter, given when metrics are also pushed by OTLP. Every instrument is then
 * created there too and every measurement and callback goes to both.
 */
export class PrometheusMeter implements Meter {
  readonly #families: Family[];
  readonly #callbacks: (() => void | Promise<void>)[];
  readonly #twin: Meter | null;

  /** `sharing`: another scope's meter, whose `write` and `observe` then cover this one's instruments. */
  constructor(twin: Meter | null = null, sharing?: PrometheusMeter) {
    this.#twin = twin;
    this.#families = sharing ? sharing.#families : [];
    this.#callbacks = sharing ? sharing.#callbacks : [];
  }

  /**
   * The meter of another instrumentation scope (the runtime metrics' packages ask their
   * MeterProvider for one each): its instruments are written with this meter's, in the order
   * created, and `twin` is that scope's SDK meter when metrics are also pushed by OTLP.
   */
  scope(twin: Meter | null): PrometheusMeter {
    return new PrometheusMeter(twin, this);
  }

  createCounter(name: string, options: MetricOptions = {}): Counter {
    const family = this.#add(new SumFamily(name, options, true));
    const twin = this.#twin?.createCounter(name, options);
    return {
      add(value, attributes) {
        if (value < 0) {
          diag.warn(`negative value provided to counter ${name}: ${value}`);
          return;
        }
        family.add(value, attributes);
        twin?.add(value, attributes);
      },
    };
  }

  createUpDownCounter(name: string, options: MetricOptions = {}): UpDownCounter {
    const family = this.#add(new SumFamily(name, options, false));
    const twin = this.#twin?.createUpDownCounter(name, options);
    return {
      add(value, attributes) {
        family.add(value, attributes);
        twin?.add(value, attributes);
      },
    };
  }

  createGauge(name: string, options: MetricOptions = {}): Gauge {
    const family = this.#add(new GaugeFamily(name, options));
    const twin = this.#twin?.createGauge(name, options);
    return {
      record(value, attributes) {
        family.set(value, attributes);
        twin?.record(value, attributes);
      },
    };
  }

  createHistogram(name: string, options: MetricOptions = {}): Histogram {
    const family = this.#add(new HistogramFamily(name, options));
    const twin = this.#twin?.createHistogram(name, options);
    return {
      record(value, attributes) {
        if (value < 0) {
          diag.warn(`negative value provided to histogram ${name}: ${value}`);
          return;
        }
        family.record(value, attributes);
        twin?.record(value, attributes);
      },
    };
  }

  createObservableGauge(name: string, options: MetricOptions = {}): ObservableGauge {
    return this.#observable(new GaugeFamily(name, options), this.#twin?.createObservableGauge(name, options));
  }

  createObservableCounter(name: string, options: MetricOptions = {}): ObservableCounter {
    const family = new GaugeFamily(name, options, "counter");
    return this.#observable(family, this.#twin?.createObservableCounter(name, options));
  }

  createObservableUpDownCounter(name: string, options: MetricOptions = {}): ObservableUpDownCounter {
    const twin = this.#twin?.createObservableUpDownCounter(name, options);
    return this.#observable(new GaugeFamily(name, options), twin);
  }

  addBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    const result: BatchObservableResult = {
      observe(observable, value, attributes) {
        const family = familyOf.get(observable);
        if (family) family.set(value, attributes);
      },
    };
    this.#callbacks.push(() => callback(result));
    if (this.#twin) {
      const twins = new Map(observables.map((o) => [o, twinOf.get(o)] as const));
      this.#twin.addBatchObservableCallback(
        (sdk) =>
          callback({
            observe(observable, value, attributes) {
              const twin = twins.get(observable);
              if (twin) sdk.observe(twin, value, attributes);
            },
          }),
        [...twins.values()].filter((t): t is Observable => t !== undefined),
      );
    }
  }

  removeBatchObservableCallback(): void {
    throw new Error("PrometheusMeter: batch callbacks stay for the agent's lifetime");
  }

  /** Runs every observable callback (a callback that throws is logged, the others still run). */
  async observe(): Promise<void> {
    const errors: unknown[] = [];
    const pending: Promise<void>[] = [];
    for (const callback of this.#callbacks) {
      try {
        const done = callback();
        if (done) pending.push(done.catch((error: unknown) => void errors.push(error)));
      } catch (error) {
        errors.push(error);
      }
    }
    await Promise.all(pending);
    if (errors.length > 0) diag.error("PrometheusMeter: metrics collection errors", ...errors);
  }

  /**
   * The exposition of every family with a series, in chunks of about CHUNK_CHARS characters;
   * `keep` says which series are shown (a family whose series are all hidden keeps its header).
   */
  write(keep: (attributes: Attributes) => boolean, out: TextChunks): void {
    for (const family of this.#families) family.write(keep, out);
  }

  #add<F extends Family>(family: F): F {
    this.#families.push(family);
    return family;
  }

  #observable<T extends Observable>(family: GaugeFamily, twin: T | undefined): T {
    this.#families.push(family);
    const callbacks = this.#callbacks;
    const result: ObservableResult = {
      observe: (value, attributes) => family.set(value, attributes),
    };
    const observable: Observable = {
      addCallback(callback: ObservableCallback) {
        callbacks.push(() => callback(result));
        twin?.addCallback(callback);
      },
      removeCallback() {
        throw new Error("PrometheusMeter: callbacks stay for the agent's lifetime");
      },
    };
    familyOf.set(observable, family);
    if (twin) twinOf.set(observable, twin);
    return observable as T;
  }
}

/** Which family a batch callback's observable writes to, and its SDK twin. */
const familyOf = new WeakMap<Observable, GaugeFamily>();
const twinOf = new WeakMap<Observable, Observable>();

/** The size of each chunk of a scrape's bytes. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Text written as bytes in chunks of CHUNK_BYTES (a scrape never builds one 6 MB string). Each
 * text is encoded into the current chunk as it comes: appending them to a string and encoding
 * every 64 KiB of it flattened a rope of thousands of parts, a fifth of a scrape's CPU at 1,000
 * probes.
 */
export class TextChunks {
  readonly #chunks: Buffer[] = [];
  #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #used = 0;

  push(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: a text that may not fit starts a new chunk.
    if (this.#used + text.length * 3 > CHUNK_BYTES) {
      this.#seal();
      if (text.length * 3 > CHUNK_BYTES) {
        this.#chunks.push(Buffer.from(text));
        return;
      }
    }
    this.#used += this.#chunk.write(text, this.#used);
  }

  /**
   * One line made of two texts encoded beforehand (a series' name and labels, a bucket's bound)
   * and a count: the bytes are copied and the count written as ASCII digits, with no string
   * made for the line. A histogram's bucket lines are most of the exposition (5 of its 6.5 MB at
   * 1,000 probes); making each as a string and encoding it was most of a scrape's CPU (issue 30).
   */
  line(prefix: Buffer, middle: Buffer, count: number): void {
    // A count is at most 24 characters ("-1.2345678901234567e+308") and the newline.
    const most = prefix.length + middle.length + 25;
    if (most > CHUNK_BYTES) {
      this.push(`${prefix.toString()}${middle.toString()}${valueText(count)}\n`);
      return;
    }
    if (this.#used + most > CHUNK_BYTES) this.#seal();
    const chunk = this.#chunk;
    let at = this.#used;
    // TypedArray.set and the digits written here stay in V8: Buffer.copy and Buffer.write each
    // cross into Node's C++, which for ~30,000 short lines cost more than making the strings.
    chunk.set(prefix, at);
    at += prefix.length;
    chunk.set(middle, at);
    at += middle.length;
    if (Number.isSafeInteger(count) && count >= 0) {
      const end = at + digitsOf(count);
      for (let i = end - 1, n = count; i >= at; i--, n = Math.floor(n / 10)) chunk[i] = 48 + (n % 10);
      at = end;
    } else {
      // A fraction, NaN or ±Inf as Prometheus writes it: ASCII, copied by hand for the same reason.
      const text = valueText(count);
      for (let i = 0; i < text.length; i++) chunk[at++] = text.charCodeAt(i);
    }
    chunk[at++] = 10;
    this.#used = at;
  }

  /** The chunks, the last one included; `empty` is written when nothing was. */
  finish(empty: string): Buffer[] {
    this.#seal();
    if (this.#chunks.length === 0) this.#chunks.push(Buffer.from(empty));
    return this.#chunks;
  }

  #seal(): void {
    if (this.#used === 0) return;
    this.#chunks.push(this.#chunk.subarray(0, this.#used));
    this.#chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.#used = 0;
  }
}

/** How many decimal digits a non-negative safe integer has. */
function digitsOf(n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** One metric family: its series by label set, its header and its lines. */
abstract class Family<S extends Series = Series> {
  readonly #byObject = new WeakMap<Attributes, S>();
  readonly #byKey = new Map<string, S>();
  readonly name: string;
  readonly #header: string;
  readonly #integer: boolean;

  constructor(name: string, options: MetricOptions, type: string, counter: boolean) {
    this.name = familyName(name, counter);
    const help = `# HELP ${this.name} ${escapeText(options.description || "description missing")}`;
    const unit = options.unit ? `\n# UNIT ${this.name} ${escapeText(options.unit)}` : "";
    this.#header = `${help}${unit}\n# TYPE ${this.name} ${type}\n`;
    this.#integer = options.valueType === ValueType.INT;
  }

  protected abstract create(attributes: Attributes, labels: string): S;
  protected abstract lines(series: S, out: TextChunks): void;

  /** The value as the SDK takes it (a number; an INT instrument's truncated); null: dropped. */
  protected accepted(value: number): number | null {
    if (typeof value !== "number") {
      diag.warn(`non-number value provided to metric ${this.name}: ${value}`);
      return null;
    }
    if (this.#integer && !Number.isInteger(value)) {
      const truncated = Math.trunc(value);
      return Number.isInteger(truncated) ? truncated : null;
    }
    return value;
  }

  protected series(attributes: Attributes = {}): S {
    let series = this.#byObject.get(attributes);
    if (series === undefined) {
      const key = attributesKey(attributes);
      series = this.#byKey.get(key);
      if (series === undefined) {
        series = this.create(attributes, labelText(attributes));
        this.#byKey.set(key, series);
      }
      this.#byObject.set(attributes, series);
    }
    return series;
  }

  write(keep: (attributes: Attributes) => boolean, out: TextChunks): void {
    if (this.#byKey.size === 0) return;
    out.push(this.#header);
    for (const series of this.#byKey.values()) {
      if (keep(series.attributes)) this.lines(series, out);
    }
  }
}

interface Series {
  readonly attributes: Attributes;
}

interface ValueSeries extends Series {
  /** `name{labels} ` or `name `, encoded. */
  readonly prefix: Buffer;
  value: number;
}

/** Nothing between a series' prefix and its value (TextChunks.line). */
const NOTHING = Buffer.alloc(0);

class SumFamily extends Family<ValueSeries> {
  constructor(name: string, options: MetricOptions, monotonic: boolean) {
    super(name, options, monotonic ? "counter" : "gauge", monotonic);
  }

  add(value: number, attributes?: Attributes): void {
    const accepted = this.accepted(value);
    if (accepted !== null) this.series(attributes).value += accepted;
  }

  protected create(attributes: Attributes, labels: string): ValueSeries {
    return { attributes, prefix: Buffer.from(seriesPrefix(this.name, labels)), value: 0 };
  }

  protected lines(series: ValueSeries, out: TextChunks): void {
    out.line(series.prefix, NOTHING, series.value);
  }
}

/** Gauges, and observable counters (whose callbacks give the cumulative value). */
class GaugeFamily extends Family<ValueSeries> {
  constructor(name: string, options: MetricOptions, type: "gauge" | "counter" = "gauge") {
    super(name, options, type, type === "counter");
  }

  set(value: number, attributes?: Attributes): void {
    const accepted = this.accepted(value);
    if (accepted !== null) this.series(attributes).value = accepted;
  }

  protected create(attributes: Attributes, labels: string): ValueSeries {
    return { attributes, prefix: Buffer.from(seriesPrefix(this.name, labels)), value: 0 };
  }

  protected lines(series: ValueSeries, out: TextChunks): void {
    out.line(series.prefix, NOTHING, series.value);
  }
}

interface HistogramSeries extends Series {
  readonly countPrefix: Buffer;
  readonly sumPrefix: Buffer;
  /** `name_bucket{labels,le="`, encoded once: each bucket line is copied from it (TextChunks.line). */
  readonly bucketPrefix: Buffer;
  readonly counts: Float64Array;
  count: number;
  sum: number;
}

/** OpenTelemetry's default explicit bucket boundaries, for a histogram given none. */
const DEFAULT_BOUNDARIES = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

class HistogramFamily extends Family<HistogramSeries> {
  readonly #boundaries: readonly number[];
  /** `le` of each bucket and what follows it up to the value, the last one +Inf; encoded. */
  readonly #le: readonly Buffer[];

  constructor(name: string, options: MetricOptions) {
    super(name, options, "histogram", false);
    // As the SDK's explicit bucket aggregation: sorted, without -Infinity and +Infinity.
    const sorted = [...(options.advice?.explicitBucketBoundaries ?? DEFAULT_BOUNDARIES)].sort(
      (a, b) => a - b,
    );
    const infinity = sorted.indexOf(Number.POSITIVE_INFINITY);
    this.#boundaries = sorted.slice(
      sorted.lastIndexOf(Number.NEGATIVE_INFINITY) + 1,
      infinity === -1 ? undefined : infinity,
    );
    this.#le = [...this.#boundaries.map((b) => `${b}"} `), '+Inf"} '].map((le) => Buffer.from(le));
  }

  record(value: number, attributes?: Attributes): void {
    const accepted = this.accepted(value);
    if (accepted === null || Number.isNaN(accepted)) return;
    const series = this.series(attributes);
    series.count += 1;
    series.sum += accepted;
    series.counts[upperBucket(this.#boundaries, accepted)]! += 1;
  }

  protected create(attributes: Attributes, labels: string): HistogramSeries {
    return {
      attributes,
      countPrefix: Buffer.from(seriesPrefix(`${this.name}_count`, labels)),
      sumPrefix: Buffer.from(seriesPrefix(`${this.name}_sum`, labels)),
      bucketPrefix: Buffer.from(`${this.name}_bucket{${labels === "" ? "" : `${labels},`}le="`),
      counts: new Float64Array(this.#boundaries.length + 1),
      count: 0,
      sum: 0,
    };
  }

  protected lines(series: HistogramSeries, out: TextChunks): void {
    out.line(series.countPrefix, NOTHING, series.count);
    out.line(series.sumPrefix, NOTHING, series.sum);
    let cumulative = 0;
    const { counts, bucketPrefix } = series;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i]!;
      out.line(bucketPrefix, this.#le[i]!, cumulative);
    }
  }
}

/** The first bucket whose upper bound is at least `value` (the SDK's binarySearchUB). */
function upperBucket(boundaries: readonly number[], value: number): number {
  let lo = 0;
  let hi = boundaries.length - 1;
  let found = boundaries.length;
  while (hi >= lo) {
    const mid = lo + Math.trunc((hi - lo) / 2);
    if (boundaries[mid]! < value) lo = mid + 1;
    else {
      found = mid;
      hi = mid - 1;
    }
  }
  return found;
}

/** The SDK's series identity: the label names sorted, with their values. */
function attributesKey(attributes: Attributes): string {
  const keys = Object.keys(attributes);
  if (keys.length === 0) return "";
  return JSON.stringify(keys.sort().map((key) => [key, attributes[key]]));
}

function familyName(name: string, counter: boolean): string {
  let sanitized = sanitizeName(escapeText(name));
  if (sanitized[0]! >= "0" && sanitized[0]! <= "9") sanitized = `_${sanitized}`;
  return counter && !sanitized.endsWith("_total") ? `${sanitized}_total` : sanitized;
}

function seriesPrefix(name: string, labels: string): string {
  return labels === "" ? `${name} ` : `${name}{${labels}} `;
}

function valueText(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return `${value}`;
}
