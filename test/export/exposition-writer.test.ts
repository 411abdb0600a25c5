import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it } from "vitest";
import { ExpositionWriter } from "../../src/export/exposition.js";

let providers: MeterProvider[] = [];

afterEach(async () => {
  for (const provider of providers) await provider.shutdown();
  providers = [];
});

/** A collection with every shape the agent exports, and label values that need escaping. */
async function collection() {
  const reader = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ "service.name": "slo-agent", "service.version": "1.2.3", port: 9464 }),
    readers: [reader],
  });
  providers.push(provider);
  const meter = provider.getMeter("slo-agent");
  const histogram = meter.createHistogram("slo_test_seconds", {
    description: "A histogram\nwith a \\ in its help",
    advice: { explicitBucketBoundaries: [0.1, 0.5, 1.5] },
  });
  const labels = { region: "eu", probe: 'say "hi"\\now', category: "line\nbreak" };
  for (const value of [0.05, 0.3, 0.3, 2, 1.5]) histogram.record(value, labels);
  histogram.record(0.2, {});
  histogram.record(0.7, { region: "us", retries: 3, cached: true });
  meter.createCounter("slo_test_requests").add(4, { outcome: "served" });
  meter.createCounter("slo_test_done_total", { unit: "1" }).add(2);
  meter.createUpDownCounter("slo_test_queue").add(-3, { region: "eu" });
  const gauge = meter.createObservableGauge("9slo.test-gauge", { description: "odd name" });
  gauge.addCallback((result) => {
    result.observe(Number.POSITIVE_INFINITY, { window: "5m" });
    result.observe(Number.NaN, { window: "1h" });
    result.observe(0.25, { window: "month" });
  });
  meter.createHistogram("slo_test_unused_seconds");
  return (await reader.collect()).resourceMetrics;
}

describe("ExpositionWriter", () => {
  it("writes what OpenTelemetry's PrometheusSerializer writes with the agent's options, scrape after scrape", async () => {
    const sdk = new PrometheusSerializer(undefined, false, undefined, false, true);
    const writer = new ExpositionWriter();
    const first = await collection();
    const text = writer.write(first);
    expect(text).toContain(
      'slo_test_seconds_bucket{region="eu",probe="say \\"hi\\"\\\\now",category="line\\nbreak",le="0.5"} 3',
    );
    expect(text).toBe(sdk.serialize(first));
    // The second write reuses each series' label text.
    expect(writer.write(first)).toBe(sdk.serialize(first));
  });
});
