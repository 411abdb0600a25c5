import type Database from "better-sqlite3";
import type { ProbeResult } from "../model/result.js";
import type { EpochMs } from "../model/time.js";
import { PeriodDigest } from "./canonical.js";
import { chainTail } from "./chain.js";
import { RESULT_COLUMNS, type ResultRow, resultOfRow } from "./rows.js";

export interface ResultQuery {
  readonly from: EpochMs;
  readonly to: EpochMs;
  readonly categories?: readonly string[];
  readonly probes?: readonly string[];
}

/** Results with from <= ts < to in (ts, probe) order, one row at a time off the (ts, probe) index. */
export function* queryResults(db: Database.Database, query: ResultQuery): Generator<ProbeResult> {
  const probes = query.probes ? JSON.stringify(query.probes) : null;
  const categories = query.categories ? JSON.stringify(query.categories) : null;
  const rows = db
    .prepare(
      `SELECT ${RESULT_COLUMNS} FROM results WHERE ts >= ? AND ts < ?
       AND (? IS NULL OR probe IN (SELECT value FROM json_each(?)))
       AND (? IS NULL OR category IN (SELECT value FROM json_each(?)))
       ORDER BY ts, probe`,
    )
    .iterate(query.from, query.to, probes, probes, categories, categories);
  for (const row of rows as Iterable<ResultRow>) yield resultOfRow(row);
}

/**
 * Without a period: every stored record and the last one's hash (the anchor's or genesis's when
 * none is stored). With a period: its records and their digest (see PeriodDigest).
 */
export function chainHeadOf(
  db: Database.Database,
  period: { from?: EpochMs; to?: EpochMs },
): { records: number; sha256: string } {
  if (period.from === undefined && period.to === undefined) {
    const records = db.prepare("SELECT count(*) FROM results").pluck().get() as number;
    return { records, sha256: chainTail(db).hash.toString("hex") };
  }
  const digest = new PeriodDigest();
  const hashes = db
    .prepare("SELECT hash FROM results WHERE ts >= ? AND ts < ? ORDER BY seq")
    .pluck()
    .iterate(period.from ?? Number.MIN_SAFE_INTEGER, period.to ?? Number.MAX_SAFE_INTEGER);
  for (const hash of hashes as Iterable<Buffer>) digest.add(hash);
  return digest.finish();
}
