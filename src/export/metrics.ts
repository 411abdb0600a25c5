import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Attributes, MeterProvider } from "@opentelemetry/api";
import { type ProbeId, recordedProbesOf, type SloConfig } from "../model/config.js";
import { DIAGNOSTIC_CATEGORY, isWithoutHttp, type ProbeResult } from "../model/result.js";
import type { SloSnapshot } from "../model/snapshot.js";
import {
  type AutomaticReason,
  CONTROL_CATEGORY,
  controlProbeId,
  type ProbeValidity,
} from "../model/validity.js";
import { type AlertFigures, registerAlertMetrics } from "./alert-metrics.js";
import { registerDiagnosticGauges } from "./diagnostic-metrics.js";
import { labelText } from "./exposition.js";
import { type AgentIdentity, identityLabels, LABEL, METRIC } from "./names.js";
import type { OtlpPushOptions } from "./otlp.js";
import { registerProbeMetrics, type SeriesLabels, seriesLabels } from "./probe-metrics.js";
import { PrometheusMeter, TextChunks } from "./prometheus-meter.js";
import { registerBuildInfo, startRuntimeMetrics } from "./runtime-metrics.js";
import { type AgentSelfFigures, registerSelfMetrics } from "./self-metrics.js";
import { registerSnapshotGauges } from "./snapshot-gauges.js";
import { registerTrafficMetrics, type TrafficMetrics } from "./traffic-metrics.js";
import { registerValidityGauge } from "./validity-gauge.js";

export interface SloMetricsOptions {
  readonly config: SloConfig;
  /** The `region` label on every series; defaults to the config's agent.region. */
  readonly region?: string;
  /** The `agent` label on every series; defaults to the config's agent.id. */
  readonly agent?: string;
  /** Also push every metric to an OpenTelemetry Collector. */
  readonly otlp?: OtlpPushOptions;
  /** Version reported in target_info and slo_agent_build_info. */
  readonly version?: string;
  /** Also export the process and Node.js runtime metrics (the daemon does; unit tests need not). */
  readonly runtimeMetrics?: boolean;
}

export interface SloMetrics {
  /**
   * Counts one probe attempt (every result, excluded ones under outcome="excluded"); `automatic`
   * is why it was excluded automatically, if it was (contract section 8).
   */
  recordResult(result: ProbeResult, automatic?: AutomaticReason | null): void;
  /** Replaces each probe's measurement validity (slo_probe_valid). */
  updateValidity(validity: readonly ProbeValidity[]): void;
  /** Replaces the figures the SLO gauges report. */
  updateSnapshot(snapshot: SloSnapshot): void;
  /** Replaces the self-metric fields given; fields never set are not exported. */
  setSelfMetrics(figures: AgentSelfFigures): void;
  /** How late a probe run started after it was due. */
  recordLateness(probe: ProbeId, lateMs: number): void;
  /** A stall of the prober's event loop (slo_agent_stall_seconds). */
  recordStall(stallMs: number): void;
  /** The prober thread's run-queue wait during one probe run (slo_agent_run_queue_seconds). */
  recordRunQueue(waitedMs: number): void;
  /** Where the alert metrics are read from at each scrape (none: not exported). */
  setAlertSource(source: () => AlertFigures): void;
  /** When a scheduled monthly report was last written and announced (epoch ms); unset: not exported. */
  setReportSuccess(at: number): void;
  /** Serves one Prometheus scrape (text exposition format). */
  serveScrape(request: IncomingMessage, response: ServerResponse): void;
  /**
   * A configuration reload: probes and categories get their labels from `config` from now on.
   * Instruments, and so every histogram and counter, are kept; histogram bucket boundaries stay
   * those of the configuration the agent started with.
   */
  reconfigure(config: SloConfig): void;
  /** Counts committed merchant requests (contract section 19) and those refused or dropped. */
  readonly traffic: TrafficMetrics;
  /** Flushes a pending OTLP push and stops every reader. */
  shutdown(): Promise<void>;
}

export async function createSloMetrics(options: SloMetricsOptions): Promise<SloMetrics> {
  const { config } = options;
  const identity: AgentIdentity = {
    region: options.region ?? config.agent.region,
    agent: options.agent ?? config.agent.id,
  };
  const resource = {
    "service.name": "slo-agent",
    "service.version": options.version ?? "0.0.0",
    "slo_agent.region": identity.region,
    "service.instance.id": identity.agent,
  };
  // /metrics is written from `meter`, every scope's instruments in one (no scope labels: they add
  // nothing for one agent; target_info keeps the resource). OpenTelemetry's SDK is loaded only to
  // push by OTLP, holding each instrument's twin; an agent that is only scraped never loads it:
  // its collection at every scrape was most of an idle scrape's CPU, and its code ~MB (issue 30).
  const otlp = options.otlp
    ? await (await import("./otlp.js")).otlpMeterProvider(options.otlp, resource)
    : null;
  const meter = new PrometheusMeter(otlp?.getMeter(AGENT_SCOPE) ?? null);
  let labels = seriesLabels(config, identity);
  const current: SeriesLabels = {
    ofCategory: (category) => labels.ofCategory(category),
    ofProbe: (probe, extra) => labels.ofProbe(probe, extra),
    ofProbeIn: (category, probe) => labels.ofProbeIn(category, probe),
    ofCategoryOfProbe: (probe) => labels.ofCategoryOfProbe(probe),
  };
  const probeMetrics = registerProbeMetrics(meter, config, current);
  const diagnostics = registerDiagnosticGauges(meter, current);
  let snapshot: SloSnapshot | null = null;
  registerSnapshotGauges(meter, identity, () => snapshot);
  const self = registerSelfMetrics(meter, identity, current);
  let validity: readonly ProbeValidity[] = [];
  registerValidityGauge(meter, current, () => validity);
  const setAlertSource = registerAlertMetrics(meter, identity);
  registerBuildInfo(meter, { version: options.version ?? "0.0.0", identity });
  const traffic = registerTrafficMetrics(meter, identity);
  let reportSuccessAt: number | null = null;
  meter
    .createObservableGauge(METRIC.reportLastSuccess, {
      description:
        "When the scheduled monthly report (reports.schedule) was last written and announced, Unix seconds",
    })
    .addCallback((result) => {
      if (reportSuccessAt !== null) result.observe(reportSuccessAt / 1000, identityLabels(identity));
    });
  // The runtime metrics' packages ask for a meter per scope: each writes into `meter`'s families.
  const scopes: MeterProvider = {
    getMeter: (name, version, meterOptions) =>
      meter.scope(otlp?.getMeter(name, version, meterOptions) ?? null),
  };
  const runtime = options.runtimeMetrics ? startRuntimeMetrics(scopes) : null;
  const targetInfo = Buffer.from(targetInfoText(resource));
  let shown = configuredSeries(config);
  const scrape = sharedRendering(meter, targetInfo, (attributes) => shown(attributes));

  return {
    recordResult(result, automatic) {
      // A tls, dns or tcp run is no request of the provider's API: its own gauges, no request count.
      if (isWithoutHttp(result)) diagnostics.record(result);
      else probeMetrics.record(result, automatic);
    },
    traffic,
    reconfigure(next) {
      labels = seriesLabels(next, identity);
      probeMetrics.reconfigure(next);
      shown = configuredSeries(next);
      scrape.forget();
    },
    updateSnapshot(next) {
      snapshot = next;
    },
    updateValidity(next) {
      validity = next;
    },
    setSelfMetrics: (figures) => self.set(figures),
    recordLateness: (probe, lateMs) => self.recordLateness(probe, lateMs),
    recordStall: (stallMs) => self.recordStall(stallMs),
    recordRunQueue: (waitedMs) => self.recordRunQueue(waitedMs),
    setAlertSource,
    setReportSuccess(at) {
      reportSuccessAt = at;
    },
    serveScrape: (_request, response) => {
      response.statusCode = 200;
      response.setHeader("content-type", "text/plain");
      void scrape().then(({ chunks, bytes }) => {
        response.setHeader("content-length", bytes);
        for (const chunk of chunks) response.write(chunk);
        response.end();
      });
    },
    shutdown: async () => {
      runtime?.stop();
      await otlp?.shutdown();
    },
  };
}

/** Scrapes within this long of a rendering's start get its bytes. */
const SHARED_RENDERING_MS = 100;

/**
 * Scrapes that arrive while a rendering is in progress, or within SHARED_RENDERING_MS of its
 * start, get the same bytes instead of a rendering of their own: 200 concurrent scrapers each had
 * their own, and the renderings held the main thread and the heap long enough to delay
 * everything else the agent does. "In progress" alone would share almost nothing: a rendering is
 * mostly synchronous, and node hands each connection's request over in a turn of its own.
 */
function sharedRendering(
  meter: PrometheusMeter,
  targetInfo: Buffer,
  keep: (attributes: Attributes) => boolean,
): { (): Promise<Rendering>; forget(): void } {
  let shared: { readonly text: Promise<Rendering>; readonly startedAt: number } | null = null;
  const render = () => {
    const now = performance.now();
    if (shared && now - shared.startedAt < SHARED_RENDERING_MS) return shared.text;
    const text = rendering(meter, targetInfo, keep).catch((error: unknown) => {
      const failed = `# failed to export metrics: ${error}`;
      const bytes = Buffer.from(failed);
      return { chunks: [bytes], bytes: bytes.length };
    });
    const entry = { text, startedAt: now };
    shared = entry;
    // Held only while it can be shared: a rendering is 6.5 MB at 1,000 probes (65 MB at 10,000),
    // and kept until the next scrape it stayed in the agent's memory between scrapes (issue 30).
    const release = () => {
      if (shared === entry) shared = null;
    };
    void text.then(() => setTimeout(release, SHARED_RENDERING_MS - (performance.now() - now)).unref());
    return text;
  };
  // A reload changes which series are shown: a rendering started before it is not shared after it.
  return Object.assign(render, {
    forget: () => {
      shared = null;
    },
  });
}

/**
 * The exposition in chunks, and its length in bytes (the response's content-length). The chunks
 * are encoded once, when rendered: measuring the strings' UTF-8 length and then writing them
 * encoded each of them twice (~15 ms of a 6.5 MB scrape at 1,000 probes), and every scrape that
 * shares the rendering writes the same bytes.
 */
interface Rendering {
  readonly chunks: readonly Buffer[];
  readonly bytes: number;
}

/** The scope of the agent's own instruments (and of their OTLP twins in the SDK). */
const AGENT_SCOPE = "slo-agent";

/** target_info (the resource), then every family of `meter`: the agent's own, then the runtime's. */
async function rendering(
  meter: PrometheusMeter,
  targetInfo: Buffer,
  keep: (attributes: Attributes) => boolean,
): Promise<Rendering> {
  await meter.observe();
  const out = new TextChunks();
  meter.write(keep, out);
  const chunks = [targetInfo, ...out.finish("# no registered metrics")];
  let bytes = 0;
  for (const chunk of chunks) bytes += chunk.length;
  return { chunks, bytes };
}

/** The resource as OpenTelemetry's Prometheus exporter writes it: one target_info series. */
function targetInfoText(resource: Attributes): string {
  return `# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info{${labelText(resource)}} 1\n`;
}

/**
 * Whether a series belongs to the running configuration: one naming a probe or category that a
 * reload removed is not shown (the SDK keeps every series it ever saw; Prometheus then marks it stale).
 */
function configuredSeries(config: SloConfig): (attributes: Attributes) => boolean {
  const probes = new Set([
    ...config.probes.flatMap((p) => recordedProbesOf(p).map((r) => r.probe)),
    ...(config.controls ?? []).map((c) => controlProbeId(c.id)),
  ]);
  const categories = new Set([...config.categories.keys(), CONTROL_CATEGORY, DIAGNOSTIC_CATEGORY]);
  return (attributes) => {
    const probe = attributes[LABEL.probe];
    if (typeof probe === "string" && !probes.has(probe)) return false;
    const category = attributes[LABEL.category];
    return typeof category !== "string" || categories.has(category) || category === "unknown";
  };
}
