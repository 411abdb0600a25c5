import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { type IMetricReader, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { Secret } from "../model/secret.js";

/** Pushing to an OpenTelemetry Collector (OTLP over HTTP, JSON encoding) besides serving /metrics. */
export interface OtlpPushOptions {
  /** Full URL of the collector's metrics endpoint, e.g. http://collector:4318/v1/metrics. */
  readonly endpoint: string;
  /** Milliseconds between pushes (default 60 000). */
  readonly intervalMs?: number;
  /** Extra request headers, e.g. an API key for a hosted collector (a Secret stays redacted elsewhere). */
  readonly headers?: Readonly<Record<string, string | Secret>>;
}

const DEFAULT_INTERVAL_MS = 60_000;

export function otlpReader(options: OtlpPushOptions): IMetricReader {
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  return new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: options.endpoint, headers: revealed(options.headers ?? {}) }),
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
