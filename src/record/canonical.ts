import { createHash, hash } from "node:crypto";
import type { Phases, ProbeResult } from "../model/result.js";

/** The predecessor of the first record ever written: 32 zero bytes. */
export const GENESIS_HASH = Buffer.alloc(32);

/**
 * The canonical form of a record, the text its hash covers: one JSON object with the fields in
 * exactly this order, `ts` as ISO-8601 UTC with milliseconds, numbers as JSON.stringify writes them
 * (the NDJSON of contract section 3), absent optional fields as null. The classification detail
 * (flags, body_error, detail) and the identity (agent, region) are appended only when present, so
 * records without them hash as they did before they were kept.
 */
export function canonicalForm(result: ProbeResult): string {
  return (
    `{"ts":"${isoTimestamp(result.ts)}"` +
    `,"probe":${JSON.stringify(result.probe)}` +
    `,"category":${JSON.stringify(result.category)}` +
    `,"status":${result.status === null ? "null" : String(result.status)}` +
    `,"duration_ms":${JSON.stringify(result.durationMs)}` +
    `,"error":${nullableText(result.error)}` +
    `,"error_code":${nullableText(result.errorCode)}` +
    `,"correlation_id":${nullableText(result.correlationId)}` +
    `,"phases":${phasesJson(result.phases ?? null)}` +
    `,"server_ms":${nullableNumber(result.serverMs ?? null)}` +
    `${classificationJson(result)}${identityJson(result)}}`
  );
}

/** `,"agent":…,"region":…`, each only when present: records stored before identity hash as they did. */
function identityJson(result: ProbeResult): string {
  let text = "";
  if (result.agent != null) text += `,"agent":${JSON.stringify(result.agent)}`;
  if (result.region != null) text += `,"region":${JSON.stringify(result.region)}`;
  return text;
}

/** `,"flags":[…],"body_error":…,"detail":…`, each only when present; "" for most records. */
function classificationJson(result: ProbeResult): string {
  const { flags, bodyError, detail } = result;
  let text = "";
  if (flags !== undefined && flags.length > 0) text += `,"flags":${JSON.stringify(flags)}`;
  if (bodyError != null) text += `,"body_error":${JSON.stringify(bodyError)}`;
  if (detail != null) text += `,"detail":${JSON.stringify(detail)}`;
  return text;
}

/** Phases as JSON with a fixed key order, or "null"; also the form stored in the phases column. */
export function phasesJson(phases: Phases | null): string {
  if (phases === null) return "null";
  return (
    `{"dns_ms":${nullableNumber(phases.dnsMs)}` +
    `,"connect_ms":${nullableNumber(phases.connectMs)}` +
    `,"tls_ms":${nullableNumber(phases.tlsMs)}` +
    `,"request_sent_ms":${nullableNumber(phases.requestSentMs)}` +
    `,"ttfb_ms":${nullableNumber(phases.ttfbMs)}` +
    `,"body_end_ms":${nullableNumber(phases.bodyEndMs)}}`
  );
}

/** SHA-256 over the UTF-8 bytes of `<previous hash as 64 hex digits>\n<canonical form>`. */
export function chainHash(previous: Buffer, canonical: string): Buffer {
  return hash("sha256", `${previous.toString("hex")}\n${canonical}`, "buffer");
}

/** chainHash with both hashes as hex text: half the cost, since no Buffer is made per record. */
export function chainHashHex(previousHex: string, canonical: string): string {
  return hash("sha256", `${previousHex}\n${canonical}`, "hex");
}

/** Phases from their snake_case wire form (an NDJSON line, or the stored phases column). */
export function phasesOfWire(
  wire: Readonly<Record<string, number | null>> | null | undefined,
): Phases | null {
  if (wire === undefined || wire === null) return null;
  return {
    dnsMs: wire.dns_ms ?? null,
    connectMs: wire.connect_ms ?? null,
    tlsMs: wire.tls_ms ?? null,
    requestSentMs: wire.request_sent_ms ?? null,
    ttfbMs: wire.ttfb_ms ?? null,
    bodyEndMs: wire.body_end_ms ?? null,
  };
}

let cachedSecond = Number.NaN;
let cachedPrefix = "";

/**
 * isoUtc(ts), reusing the text of the previous call's second: chained records come in ts order,
 * many to a second, and Date#toISOString was a fifth of an import's time.
 */
export function isoTimestamp(ts: number): string {
  const ms = ((ts % 1000) + 1000) % 1000;
  const second = ts - ms;
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second).toISOString().slice(0, -4);
  }
  return `${cachedPrefix}${String(ms).padStart(3, "0")}Z`;
}

/**
 * The digest of a period (the report's `evidence.sha256`): SHA-256 over the hex chain hashes of
 * the period's records in chain order, each followed by "\n". An empty period digests "".
 */
export class PeriodDigest {
  readonly #hash = createHash("sha256");
  #records = 0;
  /** Lines not yet hashed: one update per thousand records instead of one per record. */
  #pending = "";

  add(recordHash: Buffer): void {
    this.addHex(recordHash.toString("hex"));
  }

  /** add() for a hash already in lowercase hex, as `lower(hex(hash))` reads it without a Buffer per row. */
  addHex(recordHashHex: string): void {
    this.#pending += `${recordHashHex}\n`;
    if (++this.#records % 1024 === 0) {
      this.#hash.update(this.#pending);
      this.#pending = "";
    }
  }

  finish(): { records: number; sha256: string } {
    this.#hash.update(this.#pending);
    this.#pending = "";
    return { records: this.#records, sha256: this.#hash.digest("hex") };
  }
}

function nullableText(value: string | null): string {
  return value === null ? "null" : JSON.stringify(value);
}

function nullableNumber(value: number | null): string {
  return value === null ? "null" : JSON.stringify(value);
}
