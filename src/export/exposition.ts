import type { Attributes } from "@opentelemetry/api";

/**
 * The Prometheus text exposition's escaping and naming, as OpenTelemetry's PrometheusSerializer
 * does them (PrometheusMeter writes what that serializer writes for the same instruments).
 */

export function labelText(attributes: Attributes): string {
  let text = "";
  for (const [key, value] of Object.entries(attributes)) {
    text += `${text.length > 0 ? "," : ""}${sanitizeName(key)}="${escapeLabelValue(value)}"`;
  }
  return text;
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
