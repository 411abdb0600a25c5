/**
 * One span of an OTLP export request, reduced to what a merchant request's result needs: its id,
 * kind, times and the few attributes read (src/traffic/spans.ts). Everything else in the request
 * (resource, events, links, other attributes, the trace id) is never copied out of it.
 */
export interface OtlpSpan {
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** OTLP SpanKind: 3 is CLIENT. */
  readonly kind: number;
  /** Epoch milliseconds (fractional) of the span's start. */
  readonly startMs: number;
  /** End minus start, in milliseconds. */
  readonly durationMs: number;
  readonly attributes: SpanAttributes;
}

/** The attributes read, by name; a value of another type than expected reads as absent. */
export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

export const SPAN_KIND_CLIENT = 3;

/** Attribute names read from a span: stable HTTP semantic conventions, then their older names. */
export const READ_ATTRIBUTES: ReadonlySet<string> = new Set([
  "http.request.method",
  "http.response.status_code",
  "server.address",
  "server.port",
  "url.full",
  "url.path",
  "error.type",
  "http.method",
  "http.status_code",
  "http.url",
  "net.peer.name",
  "net.peer.port",
]);

/** A request the endpoint cannot read: answered 400 with this message. */
export class OtlpDecodeError extends Error {
  override name = "OtlpDecodeError";
}

const JSON_KINDS: Readonly<Record<string, number>> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

/**
 * The spans of an OTLP/JSON ExportTraceServiceRequest (the OTLP JSON mapping: lowerCamelCase
 * fields, ids as hex, 64-bit integers as decimal strings or numbers, enums as integers).
 */
export function decodeJsonSpans(text: string): OtlpSpan[] {
  let wire: unknown;
  try {
    wire = JSON.parse(text);
  } catch (error) {
    throw new OtlpDecodeError(`not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(wire)) throw new OtlpDecodeError("must be a JSON object (an ExportTraceServiceRequest)");
  const spans: OtlpSpan[] = [];
  listAt(wire, "resourceSpans", "resourceSpans").forEach((resource, r) => {
    listAt(resource, "scopeSpans", `resourceSpans[${r}].scopeSpans`).forEach((scope, s) => {
      listAt(scope, "spans", `resourceSpans[${r}].scopeSpans[${s}].spans`).forEach((span, i) => {
        spans.push(jsonSpan(span, `resourceSpans[${r}].scopeSpans[${s}].spans[${i}]`));
      });
    });
  });
  return spans;
}

function jsonSpan(span: Record<string, unknown>, at: string): OtlpSpan {
  const spanId = span.spanId ?? "";
  if (typeof spanId !== "string" || !/^([0-9a-fA-F]{16})?$/.test(spanId))
    throw new OtlpDecodeError(`${at}.spanId must be 16 hex digits`);
  const kind = typeof span.kind === "string" ? JSON_KINDS[span.kind] : (span.kind ?? 0);
  if (typeof kind !== "number" || !Number.isInteger(kind))
    throw new OtlpDecodeError(`${at}.kind must be a SpanKind number`);
  const start = jsonNanos(span.startTimeUnixNano, `${at}.startTimeUnixNano`);
  const end = jsonNanos(span.endTimeUnixNano, `${at}.endTimeUnixNano`);
  const attributes: Record<string, string | number | boolean> = {};
  for (const kv of listAt(span, "attributes", `${at}.attributes`)) {
    const key = kv.key;
    if (typeof key !== "string" || !READ_ATTRIBUTES.has(key) || !isObject(kv.value)) continue;
    const v = kv.value;
    if (typeof v.stringValue === "string") attributes[key] = v.stringValue;
    else if (typeof v.intValue === "string" || typeof v.intValue === "number")
      attributes[key] = Number(v.intValue);
    else if (typeof v.doubleValue === "number") attributes[key] = v.doubleValue;
    else if (typeof v.boolValue === "boolean") attributes[key] = v.boolValue;
  }
  return {
    spanId: spanId.toLowerCase(),
    kind,
    startMs: Number(start / 1000n) / 1000,
    durationMs: Number(end - start) / 1e6,
    attributes,
  };
}

function jsonNanos(value: unknown, at: string): bigint {
  if (value === undefined) return 0n;
  if (
    (typeof value === "string" && /^\d{1,20}$/.test(value)) ||
    (typeof value === "number" && Number.isSafeInteger(value) && value >= 0)
  )
    return BigInt(value);
  throw new OtlpDecodeError(`${at} must be a decimal count of nanoseconds`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function listAt(parent: Record<string, unknown>, key: string, at: string): Record<string, unknown>[] {
  const list = parent[key];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || !list.every(isObject))
    throw new OtlpDecodeError(`${at} must be an array of objects`);
  return list;
}
