import protobuf from "protobufjs";
import { COMMON_PROTO, RESOURCE_PROTO, TRACE_PROTO, TRACE_SERVICE_PROTO } from "./otlp-proto.js";

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

/**
 * The generated-at-load protobuf types. protobufjs (a well-kept, widely used decoder, already in
 * the dependency tree through the OpenTelemetry gRPC exporter) parses the vendored OTLP .proto
 * text: @opentelemetry/otlp-transformer no longer ships a protobuf root, only an encoder.
 */
let types: { readonly request: protobuf.Type; readonly response: protobuf.Type } | null = null;

function otlpTypes(): { readonly request: protobuf.Type; readonly response: protobuf.Type } {
  if (types) return types;
  const root = new protobuf.Root();
  for (const source of [COMMON_PROTO, RESOURCE_PROTO, TRACE_PROTO, TRACE_SERVICE_PROTO]) {
    protobuf.parse(source, root, { keepCase: false });
  }
  root.resolveAll();
  types = {
    request: root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"),
    response: root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse"),
  };
  return types;
}

/** An ExportTraceServiceResponse: empty when every span was taken, else its partial_success. */
export function encodeProtobufResponse(rejectedSpans: number, errorMessage: string): Uint8Array {
  const { response } = otlpTypes();
  const message = rejectedSpans === 0 ? {} : { partialSuccess: { rejectedSpans, errorMessage } };
  return response.encode(response.create(message)).finish();
}

interface LongLike {
  readonly low: number;
  readonly high: number;
}

interface ProtoAnyValue {
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly intValue?: LongLike | number;
  readonly doubleValue?: number;
}

interface ProtoSpan {
  readonly spanId?: Uint8Array;
  readonly kind?: number;
  readonly startTimeUnixNano?: LongLike | number;
  readonly endTimeUnixNano?: LongLike | number;
  readonly attributes?: readonly { readonly key?: string; readonly value?: ProtoAnyValue }[];
}

interface ProtoRequest {
  readonly resourceSpans?: readonly {
    readonly scopeSpans?: readonly { readonly spans?: readonly ProtoSpan[] }[];
  }[];
}

const TWO_32 = 4_294_967_296;

/** Nanoseconds as a double: exact enough for milliseconds (the ulp at today's epoch is 256 ns). */
function nanos(value: LongLike | number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === "number") return value;
  return value.high * TWO_32 + (value.low >>> 0);
}

/** End minus start without the rounding of two large doubles: exact for any realistic duration. */
function nanosBetween(start: LongLike | number | undefined, end: LongLike | number | undefined): number {
  if (typeof start === "object" && typeof end === "object")
    return (end.high - start.high) * TWO_32 + ((end.low >>> 0) - (start.low >>> 0));
  return nanos(end) - nanos(start);
}

/** The spans of a binary (application/x-protobuf) ExportTraceServiceRequest. */
export function decodeProtobufSpans(body: Uint8Array): OtlpSpan[] {
  let message: ProtoRequest;
  try {
    const { request } = otlpTypes();
    // protobufjs reads a known field whatever wire type its tag says: `0f 00` would pass as an
    // empty request. Check the wire types against the schema first.
    checkWireTypes(request, protobuf.Reader.create(body), body.length);
    message = request.decode(body) as unknown as ProtoRequest;
  } catch (error) {
    throw new OtlpDecodeError(
      `not a valid OTLP protobuf ExportTraceServiceRequest (${(error as Error).message})`,
    );
  }
  const spans: OtlpSpan[] = [];
  for (const resource of message.resourceSpans ?? []) {
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        const attributes: Record<string, string | number | boolean> = {};
        for (const kv of span.attributes ?? []) {
          if (kv.key === undefined || !READ_ATTRIBUTES.has(kv.key) || !kv.value) continue;
          // The oneof member that was sent is an own property; the others read their defaults
          // ("" and 0) from the prototype.
          const v = kv.value;
          if (Object.hasOwn(v, "stringValue")) attributes[kv.key] = v.stringValue!;
          else if (Object.hasOwn(v, "intValue")) attributes[kv.key] = nanos(v.intValue);
          else if (Object.hasOwn(v, "doubleValue")) attributes[kv.key] = v.doubleValue!;
          else if (Object.hasOwn(v, "boolValue")) attributes[kv.key] = v.boolValue!;
        }
        spans.push({
          spanId: Buffer.from(span.spanId ?? []).toString("hex"),
          kind: span.kind ?? 0,
          startMs: nanos(span.startTimeUnixNano) / 1e6,
          durationMs: nanosBetween(span.startTimeUnixNano, span.endTimeUnixNano) / 1e6,
          attributes,
        });
      }
    }
  }
  return spans;
}

/** The wire type a field's values are sent with, or null for any (a repeated number may be packed). */
function wireTypeOf(field: protobuf.Field): number | null {
  if (field.resolvedType instanceof protobuf.Type) return 2;
  if (field.resolvedType instanceof protobuf.Enum) return field.repeated ? null : 0;
  const wire = (protobuf.types.basic as Record<string, number | undefined>)[field.type];
  if (wire === undefined) return 2;
  return field.repeated && wire !== 2 ? null : wire;
}

/** Throws when a tag's wire type is invalid or not the one its field is declared with. */
function checkWireTypes(type: protobuf.Type, reader: protobuf.Reader, end: number): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const wire = tag & 7;
    const id = tag >>> 3;
    if (id === 0 || wire === 3 || wire === 4 || wire > 5)
      throw new Error(`invalid wire type ${wire} at offset ${reader.pos}`);
    const field = type.fieldsById[id];
    if (field) {
      const expected = wireTypeOf(field);
      if (expected !== null && expected !== wire)
        throw new Error(`field ${type.name}.${field.name} sent with wire type ${wire}, not ${expected}`);
      if (field.resolvedType instanceof protobuf.Type) {
        const length = reader.uint32();
        const stop = reader.pos + length;
        if (stop > end) throw new Error(`field ${type.name}.${field.name} runs past its end`);
        checkWireTypes(field.resolvedType, reader, stop);
        continue;
      }
    }
    reader.skipType(wire);
  }
  if (reader.pos !== end) throw new Error("a field runs past the end of its message");
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
