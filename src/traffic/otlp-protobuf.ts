import protobuf from "protobufjs";
import { OtlpDecodeError, type OtlpSpan, READ_ATTRIBUTES } from "./otlp-decode.js";
import { COMMON_PROTO, RESOURCE_PROTO, TRACE_PROTO, TRACE_SERVICE_PROTO } from "./otlp-proto.js";

// The binary (application/x-protobuf) half of the OTLP trace endpoint. The endpoint imports this
// module when the first protobuf request comes: protobufjs costs an agent that takes no traffic
// ~3 MB of memory (issue 30).

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
