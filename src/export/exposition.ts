import type { Attributes } from "@opentelemetry/api";
import {
  DataPointType,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";

/**
 * The Prometheus text exposition of a collection, byte for byte what OpenTelemetry's
 * PrometheusSerializer writes with the agent's options (no prefix, no timestamps, no scope
 * labels, target_info kept), but each series' label set is escaped and joined once and reused
 * by its lines and by later scrapes (a WeakMap on the SDK's attribute objects). The SDK's
 * serializer escapes every label of every line again: at 1,000 probes that was ~20 temporary
 * strings per line, most of a scrape's garbage and of its render time (issue 17).
 */
export class ExpositionWriter {
  readonly #labelText = new WeakMap<Attributes, string>();

  /** `keep` says which series are shown: the SDK never forgets a series, the agent's view does. */
  write(collection: ResourceMetrics, keep: (attributes: Attributes) => boolean = () => true): string {
    let metrics = this.writeScopes(collection, keep);
    if (metrics === "") metrics = "# no registered metrics";
    return this.targetInfo(collection.resource.attributes) + metrics;
  }

  /** The metric families of the collection's scopes, but for those named in `skip`; no target_info. */
  writeScopes(
    collection: ResourceMetrics,
    keep: (attributes: Attributes) => boolean,
    skip: ReadonlySet<string> = new Set(),
  ): string {
    let metrics = "";
    for (const scope of collection.scopeMetrics) {
      if (skip.has(scope.scope.name)) continue;
      for (const metric of scope.metrics) {
        const text = this.#metric(metric, keep);
        if (text) metrics += `${text}\n`;
      }
    }
    return metrics;
  }

  targetInfo(attributes: Attributes): string {
    const labels = labelText(attributes);
    const series = labels === "" ? "target_info" : `target_info{${labels}}`;
    return `# HELP target_info Target metadata\n# TYPE target_info gauge\n${series} 1\n`;
  }

  #metric(metric: MetricData, keep: (attributes: Attributes) => boolean): string {
    const name = metricName(metric);
    if (name === "") return "";
    const { description, unit } = metric.descriptor;
    const help = `# HELP ${name} ${escapeText(description || "description missing")}`;
    const unitLine = unit ? `\n# UNIT ${name} ${escapeText(unit)}` : "";
    const type = `# TYPE ${name} ${prometheusType(metric)}`;
    const lines: string[] = [];
    if (metric.dataPointType === DataPointType.HISTOGRAM) {
      for (const point of metric.dataPoints) {
        if (keep(point.attributes)) this.#histogram(lines, name, point.attributes, point.value);
      }
    } else {
      for (const point of metric.dataPoints) {
        if (keep(point.attributes))
          lines.push(series(name, this.#labels(point.attributes), point.value as number));
      }
    }
    return `${help}${unitLine}\n${type}\n${lines.join("")}`.trim();
  }

  #histogram(lines: string[], name: string, attributes: Attributes, histogram: Histogram): void {
    const labels = this.#labels(attributes);
    lines.push(series(`${name}_count`, labels, histogram.count));
    if (histogram.sum != null) lines.push(series(`${name}_sum`, labels, histogram.sum));
    const bucket = `${name}_bucket{${labels === "" ? "" : `${labels},`}le="`;
    const { boundaries, counts } = histogram.buckets;
    let cumulative = 0;
    let infiniteBoundary = false;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i]!;
      const upper = boundaries[i];
      if (upper === undefined && infiniteBoundary) break;
      if (upper === Infinity) infiniteBoundary = true;
      const le = upper === undefined || upper === Infinity ? "+Inf" : String(upper);
      lines.push(`${bucket}${le}"} ${valueText(cumulative)}\n`);
    }
  }

  #labels(attributes: Attributes): string {
    let text = this.#labelText.get(attributes);
    if (text === undefined) {
      text = labelText(attributes);
      this.#labelText.set(attributes, text);
    }
    return text;
  }
}

function series(name: string, labels: string, value: number): string {
  return labels === "" ? `${name} ${valueText(value)}\n` : `${name}{${labels}} ${valueText(value)}\n`;
}

export function labelText(attributes: Attributes): string {
  let text = "";
  for (const [key, value] of Object.entries(attributes)) {
    text += `${text.length > 0 ? "," : ""}${sanitizeName(key)}="${escapeLabelValue(value)}"`;
  }
  return text;
}

function metricName(metric: MetricData): string {
  let name = sanitizeName(escapeText(metric.descriptor.name));
  if (name === "" || name === "_") return "";
  if (name[0]! >= "0" && name[0]! <= "9") name = `_${name}`;
  const counter = metric.dataPointType === DataPointType.SUM && metric.isMonotonic;
  return counter && !name.endsWith("_total") ? `${name}_total` : name;
}

function prometheusType(metric: MetricData): string {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? "counter" : "gauge";
    case DataPointType.GAUGE:
      return "gauge";
    case DataPointType.HISTOGRAM:
      return "histogram";
    default:
      return "untyped";
  }
}

export function escapeText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabelValue(value: unknown = ""): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return escapeText(text).replace(/"/g, '\\"');
}

export function sanitizeName(name: string): string {
  return name.replace(/[^a-z0-9_]/gi, "_").replace(/_{2,}/g, "_");
}

function valueText(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return `${value}`;
}
