import type { Attributes, Meter } from "@opentelemetry/api";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it } from "vitest";
import { PrometheusMeter, TextChunks } from "../../src/export/prometheus-meter.js";
import { startRuntimeMetrics } from "../../src/export/runtime-metrics.js";

let providers: MeterProvider[] = [];

afterEach(async () => {
  for (const provider of providers) await provider.shutdown();
  providers = [];
});

const shared = { region: "eu", probe: 'say "hi"\\now', category: "line\nbreak" };

/**
 * Every kind of instrument the agent uses, with label values that need escaping, label sets given
 * as one shared object and as equal objects made anew (the same series), and values that sum
 * exactly in binary (the SDK adds a scrape's measurements before adding them to the total).
 * `round` changes what each later scrape sees; some series do not change in every round.
 */
function instruments(meter: Meter) {
  const histogram = meter.createHistogram("slo_test_seconds", {
    description: "A histogram\nwith a \\ in its help",
    advice: { explicitBucketBoundaries: [1.5, 0.125, 0.5, Number.POSITIVE_INFINITY] },
  });
  const plain = meter.createHistogram("slo_test_plain_ms");
  const requests = meter.createCounter("slo_test_requests");
  const done = meter.createCounter("slo_test_done_total", { unit: "1" });
  const queue = meter.createUpDownCounter("slo_test_queue");
  meter.createHistogram("slo_test_unused_seconds");
  const gauge = meter.createObservableGauge("9slo.test-gauge", { description: "odd name" });
  const skipped = meter.createObservableCounter("slo_test_skipped");
  const valid = meter.createObservableGauge("slo_test_valid");
  let round = 0;
  gauge.addCallback((result) => {
    result.observe(Number.POSITIVE_INFINITY, { window: "5m" });
    result.observe(Number.NaN, { window: "1h" });
    result.observe(0.25 * round, { window: "month" });
    // Observed in the first round only: the SDK keeps the series, at its last value.
    if (round === 1) result.observe(7, { window: "gone" });
  });
  meter.addBatchObservableCallback(
    (result) => {
      result.observe(skipped, 3 + round, { probe: "a", reason: "overlap" });
      result.observe(valid, round % 2, shared);
    },
    [skipped, valid],
  );
  return {
    next() {
      for (const value of [0.0625, 0.25, 0.25, 2, 1.5, -1]) histogram.record(value, shared);
      histogram.record(0.125 * round, {});
      // Label text beyond ASCII: bucket lines are copied as UTF-8 bytes made once.
      histogram.record(0.25, { probe: "betalning-\u00e5\u20ac\u{1f600}" });
      // Round 2 leaves these series as they were: a scrape then writes again what it wrote
      // before (the meter keeps each series' text), and round 3 changes them once more.
      if (round !== 2) {
        histogram.record(0.5, { region: "us", retries: 3, cached: true });
        plain.record(12 + round, { category: "x" });
      }
      requests.add(4, { outcome: "served" });
      requests.add(1, { outcome: "served" });
      requests.add(-2, { outcome: "served" });
      if (round > 0) requests.add(1, { outcome: "failed" });
      // The same series as a label set with the same names and values in another order.
      requests.add(2, { b: "2", a: "1" });
      requests.add(2, { a: "1", b: "2" });
      done.add(2);
      queue.add(-3 + round, { region: "eu" });
      round += 1;
    },
  };
}

async function sdkScrapes(rounds: number): Promise<string[]> {
  const reader = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  const feed = instruments(provider.getMeter("slo-agent"));
  const serializer = new PrometheusSerializer(undefined, false, undefined, false, true);
  const texts: string[] = [];
  for (let i = 0; i < rounds; i++) {
    feed.next();
    const text = serializer.serialize((await reader.collect()).resourceMetrics);
    // Without the resource's target_info, which createSloMetrics writes (test/export/metrics.test.ts).
    texts.push(text.slice(text.indexOf("\n# HELP", 1) + 1));
  }
  return texts;
}

async function meterScrapes(
  rounds: number,
  keep: (a: Attributes) => boolean = () => true,
): Promise<string[]> {
  const meter = new PrometheusMeter();
  const feed = instruments(meter);
  const texts: string[] = [];
  for (let i = 0; i < rounds; i++) {
    feed.next();
    await meter.observe();
    const out = new TextChunks();
    meter.write(keep, out);
    texts.push(out.finish("").join(""));
  }
  return texts;
}

describe("PrometheusMeter", () => {
  it("writes what OpenTelemetry's SDK and Prometheus serializer write for the same instruments, scrape after scrape", async () => {
    const expected = await sdkScrapes(4);
    const written = await meterScrapes(4);
    expect(written[0]).toContain(
      'slo_test_seconds_bucket{region="eu",probe="say \\"hi\\"\\\\now",category="line\\nbreak",le="0.5"} 3',
    );
    expect(written[2]).toContain('_9slo_test_gauge{window="gone"} 7');
    expect(written[2]).toContain('slo_test_plain_ms_count{category="x"} 2\n');
    expect(written[3]).toContain('slo_test_plain_ms_count{category="x"} 3\n');
    expect(written).toEqual(expected);
  });

  it("writes the runtime metrics' families and series as the SDK does, each package's scope in one meter", async () => {
    // The daemon starts OpenTelemetry's runtime and process instrumentations on scopes of its
    // PrometheusMeter (the SDK is loaded only for OTLP). Values move between two collections;
    // the families, their types and units and the series' label sets must be the SDK's.
    const reader = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
    const provider = new MeterProvider({ readers: [reader] });
    providers.push(provider);
    const meter = new PrometheusMeter();
    const sdkRuntime = startRuntimeMetrics(provider);
    const meterRuntime = startRuntimeMetrics({ getMeter: () => meter.scope(null) });
    try {
      // Garbage enough for young collections, which the GC histogram records.
      let garbage: number[] = [];
      for (let i = 0; i < 200; i++) garbage = new Array<number>(100_000).fill(i);
      expect(garbage.length).toBe(100_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const serializer = new PrometheusSerializer(undefined, false, undefined, false, true);
      const sdkText = serializer.serialize((await reader.collect()).resourceMetrics);
      await meter.observe();
      const out = new TextChunks();
      meter.write(() => true, out);
      const meterText = out.finish("").join("");
      // GC kinds appear as collections happen: the histogram's series are compared by family only.
      const shape = (text: string) =>
        text
          .split("\n")
          .filter((line) => line !== "" && !line.startsWith("target_info") && !line.includes("target_info "))
          .filter((line) => !line.startsWith("v8js_gc_duration_"))
          .map((line) => (line.startsWith("#") ? line : line.slice(0, line.lastIndexOf(" "))));
      expect(shape(meterText).length).toBeGreaterThan(40);
      expect(shape(meterText)).toEqual(shape(sdkText));
      expect(meterText).toMatch(/^nodejs_eventloop_utilization \d/m);
      expect(meterText).toMatch(/^process_cpu_time_total\{process_cpu_state="user"\} \d/m);
      expect(meterText).toContain("# TYPE v8js_gc_duration histogram\n");
    } finally {
      sdkRuntime.stop();
      meterRuntime.stop();
    }
  });

  it("keeps a family's header but not the series that `keep` hides", async () => {
    const [text] = await meterScrapes(1, (attributes) => attributes.outcome !== "served");
    expect(text).toContain("# TYPE slo_test_requests_total counter\n");
    expect(text).not.toContain('outcome="served"');
    expect(text).toContain('slo_test_requests_total{b="2",a="1"} 4\n');
  });

  it("writes every series, past the SDK's 2,000 a metric (skipped runs: 5 a probe, folded into otel_metric_overflow from 400 probes)", async () => {
    const meter = new PrometheusMeter();
    const skipped = meter.createObservableCounter("slo_test_skipped");
    meter.addBatchObservableCallback(
      (result) => {
        for (let i = 0; i < 2_500; i++)
          result.observe(skipped, 0, { probe: `probe-${i}`, reason: "overlap" });
      },
      [skipped],
    );
    await meter.observe();
    const out = new TextChunks();
    meter.write(() => true, out);
    const text = out.finish("").join("");
    expect(text.split("\n").filter((line) => line.startsWith("slo_test_skipped_total{"))).toHaveLength(2_500);
    expect(text).not.toContain("otel_metric_overflow");
  });

  it("writes a bucket line longer than a chunk whole", async () => {
    const meter = new PrometheusMeter();
    const histogram = meter.createHistogram("slo_test_seconds", {
      advice: { explicitBucketBoundaries: [1] },
    });
    const long = "p".repeat(70_000);
    histogram.record(0.5, { probe: long });
    histogram.record(0.5, { probe: "short" });
    const out = new TextChunks();
    meter.write(() => true, out);
    const lines = out.finish("").join("").split("\n");
    expect(lines).toContain(`slo_test_seconds_bucket{probe="${long}",le="1"} 1`);
    expect(lines).toContain(`slo_test_seconds_bucket{probe="${long}",le="+Inf"} 1`);
    expect(lines).toContain('slo_test_seconds_bucket{probe="short",le="1"} 1');
  });

  it("hands the text over in chunks of about 64 KiB, never one string of the whole exposition", async () => {
    const meter = new PrometheusMeter();
    const histogram = meter.createHistogram("slo_test_seconds", {
      advice: { explicitBucketBoundaries: [1, 2] },
    });
    for (let i = 0; i < 5_000; i++) histogram.record(1, { probe: `probe-${i}` });
    const out = new TextChunks();
    meter.write(() => true, out);
    const chunks = out.finish("");
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.length).toBeLessThan(64 * 1024 + 1024);
    expect(chunks.join("")).toContain('slo_test_seconds_bucket{probe="probe-4999",le="+Inf"} 1\n');
  });
});

describe("TextChunks", () => {
  it("encodes every text as UTF-8 across chunk boundaries, each chunk at most 64 KiB", () => {
    const texts: string[] = [];
    for (let i = 0; i < 5_000; i++) texts.push(`slo_x{probe="zahlung-é€😀-${i}"} ${i}\n`);
    texts.push("x".repeat(40_000), "ü".repeat(30_000));
    const out = new TextChunks();
    for (const text of texts) out.push(text);
    const chunks = out.finish("# none");
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.concat(chunks).equals(Buffer.from(texts.join("")))).toBe(true);
    expect(Buffer.concat(new TextChunks().finish("# none")).toString()).toBe("# none");
  });
});
