import { createHash, hash } from "node:crypto";
import canonicalize from "canonicalize";
import type { Observed, Phases, ProbeResult } from "../../model/result.js";

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
    `${classificationJson(result)}${identityJson(result)}${sourceJson(result)}${observedField(result)}}`
  );
}

/** `,"observed":{…}` only when present: records of plain HTTP probes hash as they always did. */
function observedField(result: ProbeResult): string {
  return result.observed ? `,"observed":${observedJson(result.observed)}` : "";
}

/** A kind's detail in its one form (RFC 8785 JCS): the column and the hashed form hold the same text. */
export function observedJson(observed: Observed): string {
  return canonicalize(observed) ?? "null";
}

/** `,"agent":…,"region":…`, each only when present: records stored before identity hash as they did. */
function identityJson(result: ProbeResult): string {
  let text = "";
  if (result.agent != null) text += `,"agent":${JSON.stringify(result.agent)}`;
  if (result.region != null) text += `,"region":${JSON.stringify(result.region)}`;
  return text;
}

/** `,"source":"traffic"` for a merchant request; "" for a probe's result, which hashes as it did before sources. */
function sourceJson(result: ProbeResult): string {
  return result.source === "traffic" ? ',"source":"traffic"' : "";
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
 * The digest of a period (the report's and statement's `sha256`): SHA-256 over the canonical forms
 * of the period's records sorted by their UTF-8 bytes, each followed by "\n" (what
 * `LC_ALL=C sort | sha256sum` gives). It covers what the records say, not how they were chained:
 * the same results give the same digest in whatever order and files they were imported; the
 * chain (seq and hashes) is what tamper detection checks. A canonical form starts with its ts in
 * fixed-width ISO-8601, so byte order is ts order first: feed records in ts order and the few that
 * share a ts are sorted here. An empty period digests "".
 */
export class PeriodDigest {
  readonly #hash = createHash("sha256");
  #records = 0;
  /** Text not yet hashed: one update per few hundred records instead of one per record. */
  #pending = "";
  #groupTs = Number.NEGATIVE_INFINITY;
  /** The canonical forms of the records at #groupTs, not yet hashed. */
  #group: string[] = [];

  /** Adds a record; records must come in ts order (throws otherwise: the digest would be wrong). */
  add(ts: number, canonical: string): void {
    if (ts !== this.#groupTs) {
      if (ts < this.#groupTs) throw new Error("period digest: records out of ts order");
      this.#hashGroup();
      this.#groupTs = ts;
    }
    this.#group.push(canonical);
  }

  finish(): { records: number; sha256: string } {
    this.#hashGroup();
    this.#hash.update(this.#pending);
    this.#pending = "";
    return { records: this.#records, sha256: this.#hash.digest("hex") };
  }

  #hashGroup(): void {
    const group = this.#group;
    if (group.length > 1 && !inOrder(group)) group.sort(compareUtf8);
    for (const canonical of group) {
      this.#pending += `${canonical}\n`;
      if (++this.#records % 256 === 0) {
        this.#hash.update(this.#pending);
        this.#pending = "";
      }
    }
    this.#group = [];
  }
}

/** Whether the canonical forms are already in byte order: the store reads a ts's records by probe. */
function inOrder(group: readonly string[]): boolean {
  for (let i = 1; i < group.length; i++) if (compareUtf8(group[i - 1]!, group[i]!) > 0) return false;
  return true;
}

/**
 * Byte order of the UTF-8 encodings (code point order; JS's < compares UTF-16 code units). Where
 * the first differing code units are no surrogates they order as their code points do, and so as
 * the bytes do: no encoding needed (two Buffers per comparison were a tenth of a report).
 */
function compareUtf8(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length);
  let i = 0;
  while (i < shorter && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  const x = i < a.length ? a.charCodeAt(i) : -1;
  const y = i < b.length ? b.charCodeAt(i) : -1;
  if (!isSurrogate(x) && !isSurrogate(y) && !(i > 0 && isSurrogate(a.charCodeAt(i - 1)))) return x - y;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function isSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdfff;
}

function nullableText(value: string | null): string {
  return value === null ? "null" : JSON.stringify(value);
}

function nullableNumber(value: number | null): string {
  return value === null ? "null" : JSON.stringify(value);
}
