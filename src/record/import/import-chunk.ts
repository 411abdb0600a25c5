import type { FailureReason, Observed, Phases, ProbeResult, ResultFlag } from "../../model/result.js";
import { chainHashHex, observedJson } from "../evidence/canonical.js";
import type { LineChunk, RejectedLine } from "./line-chunks.js";

/**
 * A LineChunk as the import's parse worker posts it: columns of numbers in typed arrays (moved, not
 * copied) and every text of the chunk once in a table, instead of some 2,400 result objects and
 * their canonical forms. Cloning the objects, and rebuilding them on the main thread, cost both
 * threads more than anything but the parsing and the SQLite writes.
 */
export interface PackedChunk {
  /** Every distinct text of the chunk (ids, reasons, codes, flags joined by ","), by index. */
  readonly texts: string[];
  /** Per result, TEXT_FIELDS.length indexes into texts; -1 for null or absent. */
  readonly textIndexes: Int32Array;
  /** Per result, NUMBER_FIELDS.length numbers; NaN for null. */
  readonly numbers: Float64Array;
  /** Per result, its six phases (PHASES order, NaN for null); all NaN with hasPhases 0 for no phases. */
  readonly phases: Float64Array;
  readonly hasPhases: Uint8Array;
  readonly lines: Float64Array;
  /** The canonical forms, result for result. */
  readonly canonicals: string[];
  /** The chain hashes the results would have if all were appended after the tail given; null if not asked. */
  readonly hashes: string[] | null;
  readonly rejected: RejectedLine[];
  readonly bytesRead: number;
  readonly totalBytes: number;
}

/** Hashes the worker computed ahead: valid for a result only while the chain's tail is `prevs[i]`. */
export interface SpeculativeHashes {
  readonly prevs: readonly string[];
  readonly hashes: readonly string[];
}

const TEXT_FIELDS = [
  "probe",
  "category",
  "error",
  "errorCode",
  "correlationId",
  "bodyError",
  "detail",
  "agent",
  "region",
  "flags",
  "source",
  "observed",
] as const;
const NUMBER_FIELDS = ["ts", "status", "durationMs", "serverMs"] as const;
const PHASES = ["dnsMs", "connectMs", "tlsMs", "requestSentMs", "ttfbMs", "bodyEndMs"] as const;
const T = TEXT_FIELDS.length;
const N = NUMBER_FIELDS.length;
const P = PHASES.length;

/**
 * Packs a chunk for postMessage; its typed arrays' buffers go in the transfer list. With `tail`,
 * the chunk also carries each result's chain hash as if all were appended after `tail`; the
 * returned tail is the last one (unchanged when there is none).
 */
export function packChunk(
  chunk: LineChunk,
  tail: string | null,
): { packed: PackedChunk; tail: string | null } {
  const count = chunk.results.length;
  const texts = new TextTable();
  const textIndexes = new Int32Array(count * T);
  const numbers = new Float64Array(count * N);
  const phases = new Float64Array(count * P).fill(Number.NaN);
  const hasPhases = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const r = chunk.results[i]!;
    const t = i * T;
    textIndexes[t] = texts.indexOf(r.probe);
    textIndexes[t + 1] = texts.indexOf(r.category);
    textIndexes[t + 2] = texts.indexOf(r.error);
    textIndexes[t + 3] = texts.indexOf(r.errorCode);
    textIndexes[t + 4] = texts.indexOf(r.correlationId);
    textIndexes[t + 5] = texts.indexOf(r.bodyError);
    textIndexes[t + 6] = texts.indexOf(r.detail);
    textIndexes[t + 7] = texts.indexOf(r.agent);
    textIndexes[t + 8] = texts.indexOf(r.region);
    textIndexes[t + 9] = r.flags !== undefined && r.flags.length > 0 ? texts.indexOf(r.flags.join(",")) : -1;
    // Only a merchant request's: a probe's result carries no source, as the parser gives it.
    textIndexes[t + 10] = r.source === "traffic" ? texts.indexOf("traffic") : -1;
    textIndexes[t + 11] = r.observed ? texts.indexOf(observedJson(r.observed)) : -1;
    numbers[i * N] = r.ts;
    numbers[i * N + 1] = r.status ?? Number.NaN;
    numbers[i * N + 2] = r.durationMs;
    numbers[i * N + 3] = r.serverMs ?? Number.NaN;
    if (r.phases != null) {
      hasPhases[i] = 1;
      for (let p = 0; p < P; p++) phases[i * P + p] = r.phases[PHASES[p]!] ?? Number.NaN;
    }
  }
  const canonicals = chunk.canonicals ?? [];
  let hashes: string[] | null = null;
  let last = tail;
  if (tail !== null) {
    let previous = tail;
    hashes = canonicals.map((canonical) => {
      previous = chainHashHex(previous, canonical);
      return previous;
    });
    last = previous;
  }
  const packed: PackedChunk = {
    texts: texts.texts,
    textIndexes,
    numbers,
    phases,
    hasPhases,
    lines: Float64Array.from(chunk.lines),
    canonicals,
    hashes,
    rejected: chunk.rejected,
    bytesRead: chunk.bytesRead,
    totalBytes: chunk.totalBytes,
  };
  return { packed, tail: last };
}

/** The distinct texts of a chunk, each with its index. */
class TextTable {
  readonly texts: string[] = [];
  readonly #indexes = new Map<string, number>();

  /** The text's index (added if new), or -1 for null or absent. */
  indexOf(value: string | null | undefined): number {
    if (value == null) return -1;
    let index = this.#indexes.get(value);
    if (index === undefined) {
      index = this.texts.push(value) - 1;
      this.#indexes.set(value, index);
    }
    return index;
  }
}

/** The buffers packChunk's chunk can hand over rather than copy. */
export function transferablesOf(packed: PackedChunk): ArrayBuffer[] {
  return [packed.textIndexes, packed.numbers, packed.phases, packed.hasPhases, packed.lines].map(
    (array) => array.buffer as ArrayBuffer,
  );
}

/** The chunk back, result for result as the worker parsed it. */
export function unpackChunk(packed: PackedChunk): LineChunk & { canonicals: string[] } {
  const { texts, textIndexes, numbers } = packed;
  const count = packed.hasPhases.length;
  const text = (at: number): string | null => {
    const index = textIndexes[at]!;
    return index === -1 ? null : texts[index]!;
  };
  const results: ProbeResult[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const t = i * T;
    const status = numbers[i * N + 1]!;
    const serverMs = numbers[i * N + 3]!;
    const flags = text(t + 9);
    const result: { -readonly [K in keyof ProbeResult]: ProbeResult[K] } = {
      ts: numbers[i * N]!,
      probe: text(t)!,
      category: text(t + 1)!,
      status: Number.isNaN(status) ? null : status,
      durationMs: numbers[i * N + 2]!,
      error: text(t + 2) as FailureReason | null,
      errorCode: text(t + 3),
      correlationId: text(t + 4),
      phases: packed.hasPhases[i] === 1 ? phasesAt(packed.phases, i * P) : null,
      serverMs: Number.isNaN(serverMs) ? null : serverMs,
      flags: flags === null ? [] : (flags.split(",") as ResultFlag[]),
      bodyError: text(t + 5) as FailureReason | null,
      detail: text(t + 6),
    };
    // Only when given, as the parser sets them: a result without an agent has none at all.
    const agent = text(t + 7);
    const region = text(t + 8);
    if (agent !== null) result.agent = agent;
    if (region !== null) result.region = region;
    if (text(t + 10) === "traffic") result.source = "traffic";
    const observed = text(t + 11);
    if (observed !== null) result.observed = JSON.parse(observed) as Observed;
    results[i] = result;
  }
  return {
    results,
    canonicals: packed.canonicals,
    lines: Array.from(packed.lines),
    rejected: packed.rejected,
    bytesRead: packed.bytesRead,
    totalBytes: packed.totalBytes,
  };
}

/**
 * The chunk's speculative hashes with, for each, the tail it assumed: the one before it, and
 * `before` (the last hash of the previous chunk, or the chain's tail) for the first.
 */
export function speculativeHashesOf(packed: PackedChunk, before: string): SpeculativeHashes | null {
  const hashes = packed.hashes;
  if (hashes === null || hashes.length === 0) return null;
  const prevs = hashes.map((_, i) => (i === 0 ? before : hashes[i - 1]!));
  return { prevs, hashes };
}

function phasesAt(values: Float64Array, at: number): Phases {
  const value = (p: number): number | null => {
    const v = values[at + p]!;
    return Number.isNaN(v) ? null : v;
  };
  return {
    dnsMs: value(0),
    connectMs: value(1),
    tlsMs: value(2),
    requestSentMs: value(3),
    ttfbMs: value(4),
    bodyEndMs: value(5),
  };
}
