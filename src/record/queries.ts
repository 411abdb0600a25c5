import type Database from "better-sqlite3";
import type { ProbeResult } from "../model/result.js";
import type { EpochMs } from "../model/time.js";
import { canonicalForm, PeriodDigest } from "./evidence/canonical.js";
import { chainTail } from "./evidence/chain.js";
import { RESULT_VALUE_COLUMNS, resultOfValues } from "./rows.js";

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
      `SELECT ${RESULT_VALUE_COLUMNS} FROM results WHERE ts >= ? AND ts < ?
       AND (? IS NULL OR probe IN (SELECT value FROM json_each(?)))
       AND (? IS NULL OR category IN (SELECT value FROM json_each(?)))
       ORDER BY ts, probe`,
    )
    .raw(true)
    .iterate(query.from, query.to, probes, probes, categories, categories);
  for (const row of rows as Iterable<unknown[]>) yield resultOfValues(row);
}

/**
 * Without a period: every stored record and the last one's hash (the anchor's or genesis's when
 * none is stored). With a period: its records and their digest (see PeriodDigest), made from the
 * records' content as stored.
 */
export function chainHeadOf(
  db: Database.Database,
  period: { from?: EpochMs; to?: EpochMs },
): { records: number; sha256: string } {
  if (period.from === undefined && period.to === undefined) {
    const records = db.prepare("SELECT count(*) FROM results").pluck().get() as number;
    return { records, sha256: chainTail(db).hash.toString("hex") };
  }
  const from = period.from ?? Number.MIN_SAFE_INTEGER;
  const to = period.to ?? Number.MAX_SAFE_INTEGER;
  const digest = new PeriodDigest();
  const rows = db
    .prepare(`SELECT ${RESULT_VALUE_COLUMNS} FROM results WHERE ts >= ? AND ts < ? ORDER BY ts, probe`)
    .raw(true)
    .iterate(from, to) as Iterable<unknown[]>;
  for (const row of rows) digest.add(row[0] as number, canonicalForm(resultOfValues(row)));
  return digest.finish();
}
