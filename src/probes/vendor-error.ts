import { safeText } from "../model/text.js";

/**
 * The vendor's error code and correlation id from a response. Klarna answers errors in two
 * shapes: v1 `{error_code, error_messages, correlation_id}` and the newer
 * `{error_id, error_type, error_code, errors[]}`; every response may carry a
 * `Klarna-Correlation-Id` header. Bodies are untrusted: not JSON, truncated at max_body_bytes or
 * of an unexpected shape, they yield what can be read and never throw.
 */
export interface VendorError {
  readonly errorCode: string | null;
  readonly correlationId: string | null;
  /** The body was recognisably a vendor error (used to tell an API 403 from an edge block). */
  readonly errorBody: boolean;
}

const CORRELATION_HEADER = "klarna-correlation-id";
/** Values longer than this are not codes or ids; they would blow up metric labels and logs. */
const MAX_VALUE_LENGTH = 200;

export function vendorErrorOf(body: Uint8Array, headers: Readonly<Record<string, string>>): VendorError {
  const parsed = parseBody(body);
  const errorCode = parsed.errorCode;
  const correlationId = parsed.correlationId ?? cleanValue(headers[CORRELATION_HEADER]) ?? parsed.errorId;
  return { errorCode, correlationId, errorBody: errorCode !== null || parsed.errorId !== null };
}

interface BodyFields {
  readonly errorCode: string | null;
  readonly correlationId: string | null;
  readonly errorId: string | null;
}

const NONE: BodyFields = { errorCode: null, correlationId: null, errorId: null };

function parseBody(body: Uint8Array): BodyFields {
  if (body.length === 0) return NONE;
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  const json = parseJsonObject(text);
  return json ? fieldsOfObject(json) : fieldsOfText(text);
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function fieldsOfObject(o: Record<string, unknown>): BodyFields {
  const first = Array.isArray(o.errors) ? (o.errors[0] as Record<string, unknown> | undefined) : undefined;
  const nested = first && typeof first === "object" ? first : {};
  return {
    errorCode: cleanValue(o.error_code) ?? cleanValue(nested.error_code) ?? cleanValue(nested.code),
    correlationId: cleanValue(o.correlation_id),
    errorId: cleanValue(o.error_id),
  };
}

// A body cut at max_body_bytes is not JSON any more, but its first fields usually survive.
function fieldsOfText(text: string): BodyFields {
  const field = (name: string) => cleanValue(new RegExp(`"${name}"\\s*:\\s*"([^"\\\\]*)"`).exec(text)?.[1]);
  return {
    errorCode: field("error_code"),
    correlationId: field("correlation_id"),
    errorId: field("error_id"),
  };
}

/** Trimmed, bounded, and with lone surrogates and control characters replaced (model/text.ts). */
function cleanValue(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const trimmed = safeText(value.trim());
  return trimmed.length > 0 && trimmed.length <= MAX_VALUE_LENGTH ? trimmed : null;
}
