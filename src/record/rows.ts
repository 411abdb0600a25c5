import type { FailureReason, Phases, ProbeResult } from "../model/result.js";
import { phasesJson } from "./canonical.js";

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
  readonly prev_hash: Buffer;
  readonly hash: Buffer;
}

export const RESULT_COLUMNS =
  "seq, ts, probe, category, status, duration_ms, error, error_code, correlation_id, phases, server_ms, prev_hash, hash";

export const INSERT_RESULT_SQL = `INSERT OR IGNORE INTO results (${RESULT_COLUMNS})
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export function resultOfRow(row: ResultRow): ProbeResult {
  return {
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
  };
}

/** The INSERT_RESULT_SQL parameters, in RESULT_COLUMNS order (positional binding is the fastest). */
export function rowValues(result: ProbeResult, seq: number, prevHash: Buffer, hash: Buffer): unknown[] {
  const phases = result.phases ?? null;
  return [
    seq,
    result.ts,
    result.probe,
    result.category,
    result.status,
    result.durationMs,
    result.error,
    result.errorCode,
    result.correlationId,
    phases === null ? null : phasesJson(phases),
    result.serverMs ?? null,
    prevHash,
    hash,
  ];
}

/** The phases column holds the canonical snake_case JSON; a row altered into garbage reads as null phases. */
function phasesOfJson(text: string): Phases | null {
  try {
    const wire = JSON.parse(text) as Record<string, number | null> | null;
    if (wire === null || typeof wire !== "object") return null;
    return {
      dnsMs: wire.dns_ms ?? null,
      connectMs: wire.connect_ms ?? null,
      tlsMs: wire.tls_ms ?? null,
      requestSentMs: wire.request_sent_ms ?? null,
      ttfbMs: wire.ttfb_ms ?? null,
      bodyEndMs: wire.body_end_ms ?? null,
    };
  } catch {
    return null;
  }
}
