import type { FailureReason, Observed, Phases, ProbeResult, ResultFlag } from "../model/result.js";
import { observedJson, phasesJson, phasesOfWire } from "./evidence/canonical.js";

/** One row of the results table as better-sqlite3 returns it. */
export interface ResultRow {
  readonly seq: number;
  readonly ts: number;
  readonly probe: string;
  readonly category: string;
  readonly status: number | null;
  readonly duration_ms: number;
  readonly error: string | null;
  readonly error_code: string | null;
  readonly correlation_id: string | null;
  readonly phases: string | null;
  readonly server_ms: number | null;
  readonly flags: string | null;
  readonly body_error: string | null;
  readonly detail: string | null;
  readonly agent: string | null;
  readonly region: string | null;
  readonly source: string | null;
  readonly observed: string | null;
  readonly prev_hash: Buffer;
  readonly hash: Buffer;
}

export const RESULT_COLUMNS =
  "seq, ts, probe, category, status, duration_ms, error, error_code, correlation_id, phases, server_ms, flags, body_error, detail, agent, region, source, observed, prev_hash, hash";

export const RESULT_COLUMN_COUNT = 20;

/** A plain INSERT of `rows` rows: a conflict fails the whole statement, which SQLite then undoes. */
export function insertResultsSql(rows: number): string {
  const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, unhex(?), unhex(?))";
  return `INSERT INTO results (${RESULT_COLUMNS}) VALUES ${Array(rows).fill(row).join(", ")}`;
}

/** Hashes are bound as hex text and stored as 32-byte blobs: hex is what the chain computes in. */
export const INSERT_RESULT_SQL = `INSERT OR IGNORE INTO results (${RESULT_COLUMNS})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, unhex(?), unhex(?))`;

export function resultOfRow(row: ResultRow): ProbeResult {
  return withStoredIdentity(row.agent, row.region, row.source, row.observed, {
    ts: row.ts,
    probe: row.probe,
    category: row.category,
    status: row.status,
    durationMs: row.duration_ms,
    error: row.error as FailureReason | null,
    errorCode: row.error_code,
    correlationId: row.correlation_id,
    phases: row.phases === null ? null : phasesOfJson(row.phases),
    serverMs: row.server_ms,
    // Split as stored, never filtered: an altered flags column must change the canonical form.
    flags: row.flags === null ? [] : (row.flags.split(",") as ResultFlag[]),
    bodyError: row.body_error as FailureReason | null,
    detail: row.detail,
  });
}

/**
 * Sets agent, region, source and observed only when stored: a record from before identity reads as
 * it always did, and a probe's result (source NULL) carries no source, as before sources were kept.
 */
function withStoredIdentity(
  agent: string | null,
  region: string | null,
  source: string | null,
  observed: string | null,
  result: ProbeResult,
): ProbeResult {
  const r = result as { agent?: string; region?: string; source?: string; observed?: Observed | null };
  if (agent !== null) r.agent = agent;
  if (region !== null) r.region = region;
  // Kept as stored, never checked: an altered source column must change the canonical form.
  if (source !== null) r.source = source;
  if (observed !== null) r.observed = observedOfJson(observed);
  return result;
}

/** The observed column as stored; a value altered into garbage reads as null (and fails its hash). */
function observedOfJson(text: string): Observed | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Observed) : null;
  } catch {
    return null;
  }
}

/**
 * Fills `into` with the INSERT_RESULT_SQL parameters in RESULT_COLUMNS order: positional binding
 * is the fastest, and reusing one array spares the garbage collector an 18-slot array per record.
 */
export function fillRowValues(
  into: unknown[],
  result: ProbeResult,
  seq: number,
  prevHashHex: string,
  hashHex: string,
): unknown[] {
  const phases = result.phases ?? null;
  into[0] = seq;
  into[1] = result.ts;
  into[2] = result.probe;
  into[3] = result.category;
  into[4] = result.status;
  into[5] = result.durationMs;
  into[6] = result.error;
  into[7] = result.errorCode;
  into[8] = result.correlationId;
  into[9] = phases === null ? null : phasesJson(phases);
  into[10] = result.serverMs ?? null;
  into[11] = result.flags !== undefined && result.flags.length > 0 ? result.flags.join(",") : null;
  into[12] = result.bodyError ?? null;
  into[13] = result.detail ?? null;
  into[14] = result.agent ?? null;
  into[15] = result.region ?? null;
  into[16] = result.source === "traffic" ? "traffic" : null;
  into[17] = result.observed ? observedJson(result.observed) : null;
  into[18] = prevHashHex;
  into[19] = hashHex;
  return into;
}

/**
 * What a ProbeResult is made of, in the order resultOfValues reads them: the hashes stay on disk,
 * since reading two 32-byte blobs per row was a third of a month's read.
 */
export const RESULT_VALUE_COLUMNS =
  "ts, probe, category, status, duration_ms, error, error_code, correlation_id, phases, server_ms, flags, body_error, detail, agent, region, source, observed";

/** resultOfRow for a row of RESULT_VALUE_COLUMNS read as an array (stmt.raw()): no object per row to build. */
export function resultOfValues(v: readonly unknown[]): ProbeResult {
  const phases = v[8] as string | null;
  const flags = v[10] as string | null;
  return withStoredIdentity(
    v[13] as string | null,
    v[14] as string | null,
    v[15] as string | null,
    v[16] as string | null,
    {
      ts: v[0] as number,
      probe: v[1] as string,
      category: v[2] as string,
      status: v[3] as number | null,
      durationMs: v[4] as number,
      error: v[5] as FailureReason | null,
      errorCode: v[6] as string | null,
      correlationId: v[7] as string | null,
      phases: phases === null ? null : phasesOfJson(phases),
      serverMs: v[9] as number | null,
      flags: flags === null ? [] : (flags.split(",") as ResultFlag[]),
      bodyError: v[11] as FailureReason | null,
      detail: v[12] as string | null,
    },
  );
}

/** The phases column holds the canonical snake_case JSON; a row altered into garbage reads as null phases. */
function phasesOfJson(text: string): Phases | null {
  try {
    const wire = JSON.parse(text) as Record<string, number | null> | null;
    return typeof wire === "object" ? phasesOfWire(wire) : null;
  } catch {
    return null;
  }
}
