import type { IncomingMessage, ServerResponse } from "node:http";
import type { Attributes } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { type IMetricReader, MeterProvider } from "@opentelemetry/sdk-metrics";
import type { ProbeId, SloConfig } from "../model/config.js";
import { countsForLatency, isServed, type ProbeResult, statusClassOf } from "../model/result.js";
import type { SloSnapshot } from "../model/snapshot.js";
import { exclusionTest } from "./exclusion.js";
import { durationBucketsWith, LABEL, METRIC, type Outcome, PHASE_BUCKETS_SECONDS } from "./names.js";
import { type OtlpPushOptions, otlpReader } from "./otlp.js";
import { phaseDurations } from "./phases.js";
import { type AgentSelfFigures, registerSelfMetrics } from "./self-metrics.js";
import { registerSnapshotGauges } from "./snapshot-gauges.js";
import { vendorErrorLabel } from "./vendor-errors.js";

export interface SloMetricsOptions {
  readonly config: SloConfig;
  /** The `region` label on every series; defaults to the config's agent.region. */
  readonly region?: string;
  /** Also push every metric to an OpenTelemetry Collector. */
  readonly otlp?: OtlpPushOptions;
  /** Version reported in target_info. */
  readonly version?: string;
}

export interface SloMetrics {
  /** Counts one probe attempt (every result, excluded ones under outcome="excluded"). */
  recordResult(result: ProbeResult): void;
  /** Replaces the figures the SLO gauges report. */
  updateSnapshot(snapshot: SloSnapshot): void;
  /** Replaces the self-metric fields given; fields never set are not exported. */
  setSelfMetrics(figures: AgentSelfFigures): void;
  /** How late a probe run started after it was due. */
  recordLateness(probe: ProbeId, lateMs: number): void;
  /** Serves one Prometheus scrape (text exposition format). */
  serveScrape(request: IncomingMessage, response: ServerResponse): void;
  /** Flushes a pending OTLP push and stops every reader. */
  shutdown(): Promise<void>;
}

const UNKNOWN_SERVICE_CLASS = "unknown";

export function createSloMetrics(options: SloMetricsOptions): SloMetrics {
  const { config } = options;
  const region = options.region ?? config.agent.region;
  // Scope labels on every series add nothing for a single-meter agent; target_info keeps the resource.
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const readers: IMetricReader[] = [prometheus];
  if (options.otlp) readers.push(otlpReader(options.otlp));
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      "service.name": "slo-agent",
      "service.version": options.version ?? "0.0.0",
      "slo_agent.region": region,
    }),
    readers,
  });
  const meter = provider.getMeter("slo-agent");

  const categoryLabels = (category: string): Attributes => ({
    [LABEL.region]: region,
    [LABEL.category]: category,
    [LABEL.serviceClass]: config.categories.get(category)?.serviceClass ?? UNKNOWN_SERVICE_CLASS,
  });
  const probeCategory = new Map(config.probes.map((p) => [p.id, p.category]));
  const probeLabels = (probe: ProbeId): Attributes => ({
    ...categoryLabels(probeCategory.get(probe) ?? "unknown"),
    [LABEL.probe]: probe,
  });

  const requests = meter.createCounter(METRIC.probeRequests, {
    description: "Probe requests by status class and outcome (served: 2xx-4xx, failed: 5xx or no response)",
  });
  const duration = meter.createHistogram(METRIC.probeDuration, {
    description: "Time to the end of the response headers (timeouts at their timeout), non-excluded requests",
    advice: {
      explicitBucketBoundaries: durationBucketsWith(
        [...config.categories.values()].map((c) => c.latencyP99Ms),
      ),
    },
  });
  const phase = meter.createHistogram(METRIC.probePhase, {
    description: "Time spent in each HTTP phase alone (dns, connect, tls, send, wait, receive)",
    advice: { explicitBucketBoundaries: [...PHASE_BUCKETS_SECONDS] },
  });
  const vendorErrors = meter.createCounter(METRIC.vendorErrors, {
    description: "Vendor error codes parsed from responses (codes outside the catalogue count as OTHER)",
  });

  let snapshot: SloSnapshot | null = null;
  registerSnapshotGauges(meter, region, () => snapshot);
  const self = registerSelfMetrics(meter, region, probeLabels);
  const isExcluded = exclusionTest(config);

  return {
    recordResult(result) {
      const labels = { ...categoryLabels(result.category), [LABEL.probe]: result.probe };
      const excluded = isExcluded(result);
      const outcome: Outcome = excluded ? "excluded" : isServed(result.status) ? "served" : "failed";
      requests.add(1, {
        ...labels,
        [LABEL.statusClass]: statusClassOf(result.status),
        [LABEL.outcome]: outcome,
      });
      if (!excluded && countsForLatency(result)) duration.record(result.durationMs / 1000, labels);
      for (const [name, ms] of phaseDurations(result.phases))
        phase.record(ms / 1000, { ...labels, [LABEL.phase]: name });
      if (result.errorCode !== null) {
        vendorErrors.add(1, { ...labels, [LABEL.errorCode]: vendorErrorLabel(result.errorCode) });
      }
    },
    updateSnapshot(next) {
      snapshot = next;
    },
    setSelfMetrics: (figures) => self.set(figures),
    recordLateness: (probe, lateMs) => self.recordLateness(probe, lateMs),
    serveScrape: (request, response) => prometheus.getMetricsRequestHandler(request, response),
    shutdown: () => provider.shutdown(),
  };
}
