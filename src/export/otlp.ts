import type { Attributes } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  type IMetricReader,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { redactSecrets, Secret, secretForms } from "../model/secret.js";

/** Pushing to an OpenTelemetry Collector (OTLP over HTTP, JSON encoding) besides serving /metrics. */
export interface OtlpPushOptions {
  /** Full URL of the collector's metrics endpoint, e.g. http://collector:4318/v1/metrics. */
  readonly endpoint: string;
  /** Milliseconds between pushes (default 60 000). */
  readonly intervalMs?: number;
  /** Extra request headers, e.g. an API key for a hosted collector (a Secret stays redacted elsewhere). */
  readonly headers?: Readonly<Record<string, string | Secret>>;
  /** Told when pushes start failing (once per episode) and when they recover (the agent's Logger). */
  readonly log?: (level: "info" | "warn", message: string) => void;
  /**
   * Values the environment put into the configuration (SloConfig.environmentValues): one in the
   * endpoint's path (a hosted collector's token) is scrubbed from the logged endpoint and failures.
   */
  readonly environmentValues?: readonly Secret[];
}

const DEFAULT_INTERVAL_MS = 60_000;

/**
 * OpenTelemetry's SDK with a reader pushing by OTLP, for the agent's instruments' twins
 * (PrometheusMeter). This module is imported only when agent.otlp is configured: /metrics reads
 * the agent's own meter, so an agent that is only scraped never loads the SDK (issue 30).
 */
export async function otlpMeterProvider(
  options: OtlpPushOptions,
  resource: Attributes,
): Promise<MeterProvider> {
  return new MeterProvider({
    resource: resourceFromAttributes(resource),
    readers: [await otlpReader(options)],
  });
}

/**
 * The OTLP exporter's package (~1.4 MB of code with its transformers) is loaded here, only when
 * agent.otlp is configured: an agent that is only scraped never holds it (issue 30).
 */
async function otlpReader(options: OtlpPushOptions): Promise<IMetricReader> {
  const { OTLPMetricExporter } = await import("@opentelemetry/exporter-metrics-otlp-http");
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const forms = secretForms([
    ...Object.values(revealed(options.headers ?? {})),
    ...(options.environmentValues ?? []).map((v) => v.reveal()),
  ]);
  return new PeriodicExportingMetricReader({
    exporter: reportingFailures(
      new OTLPMetricExporter({ url: options.endpoint, headers: revealed(options.headers ?? {}) }),
      redactSecrets(shownEndpoint(options.endpoint), forms),
      options.log ?? (() => {}),
      forms,
    ),
    exportIntervalMillis: intervalMs,
    // The timeout must not exceed the interval (the SDK rejects it otherwise).
    exportTimeoutMillis: Math.min(intervalMs, 30_000),
  });
}

function revealed(headers: Readonly<Record<string, string | Secret>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, value instanceof Secret ? value.reveal() : value]),
  );
}

/** ExportResultCode.SUCCESS of @opentelemetry/core. */
const EXPORT_SUCCESS = 0;

/**
 * The exporter, logging a failing push once when it starts failing and once when it recovers:
 * a collector that is down must be visible, but not as one line per interval for hours.
 */
function reportingFailures(
  exporter: PushMetricExporter,
  endpoint: string,
  log: NonNullable<OtlpPushOptions["log"]>,
  credentialForms: readonly string[],
): PushMetricExporter {
  let failing = false;
  return {
    export(metrics: ResourceMetrics, done) {
      exporter.export(metrics, (result) => {
        if (result.code === EXPORT_SUCCESS && failing) {
          failing = false;
          log("info", `OTLP push to ${endpoint} recovered`);
        } else if (result.code !== EXPORT_SUCCESS && !failing) {
          failing = true;
          // The collector's answer (its status text) is remote: it may echo the Authorization
          // header's token, whole, in part or encoded. Scrubbed before the 200-character cut,
          // which could otherwise leave a tail that no longer matches.
          const message = redactSecrets(result.error?.message ?? "unknown error", credentialForms);
          const why = message.split("\n")[0]?.slice(0, 200) ?? "unknown error";
          log("warn", `OTLP push to ${endpoint} failed: ${why} (logged again only once it recovers)`);
        }
        done(result);
      });
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    ...(exporter.selectAggregationTemporality
      ? { selectAggregationTemporality: exporter.selectAggregationTemporality.bind(exporter) }
      : {}),
    ...(exporter.selectAggregation ? { selectAggregation: exporter.selectAggregation.bind(exporter) } : {}),
  };
}

/** The endpoint without any user:password it may carry. */
function shownEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.origin}${url.pathname}`;
  } catch {
    return "(the configured endpoint)";
  }
}
