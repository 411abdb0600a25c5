import type Database from "better-sqlite3";
import type { ProbeResult } from "../model/result.js";
import type { EpochMs } from "../model/time.js";
import { PeriodDigest } from "./canonical.js";
import { chainTail } from "./chain.js";
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
  const from = period.from ?? Number.MIN_SAFE_INTEGER;
  const to = period.to ?? Number.MAX_SAFE_INTEGER;
  return db.transaction(() => {
    const digest = new PeriodDigest();
    // Hex made by SQLite: a Buffer per row, then its hex, cost more than reading the rows.
    const { statement, args } = periodInChainOrder(db, "lower(hex(hash))", from, to);
    for (const hex of statement.pluck().iterate(...args) as Iterable<string>) digest.addHex(hex);
    return digest.finish();
  })();
}

/** A period's records spread over at most this many times their number of seqs are read by seq. */
const SEQ_SCAN_SPREAD = 4;

/** A statement and its arguments; iterate them inside one read transaction (see periodInChainOrder). */
export interface BoundQuery {
  readonly statement: Database.Statement;
  readonly args: readonly unknown[];
}

/**
 * The query for the records with from <= ts < to in seq order. It is chosen by a first statement,
 * so iterate it in the same read transaction, where both see the same records.
 *
 * Records mostly arrive in ts order, so a period is mostly one run of seqs: walking the table by
 * seq over that run, ts filtered, spares sorting the period in a temporary b-tree (most of a
 * month's digest). A period scattered over a much longer run (a backfill imported long after)
 * is still read by ts and sorted.
 */
export function periodInChainOrder(
  db: Database.Database,
  columns: string,
  from: EpochMs,
  to: EpochMs,
): BoundQuery {
  const [records, first, last] = db
    .prepare("SELECT count(*), min(seq), max(seq) FROM results WHERE ts >= ? AND ts < ?")
    .raw(true)
    .get(from, to) as [number, number | null, number | null];
  if (first !== null && last !== null && last - first + 1 <= records * SEQ_SCAN_SPREAD) {
    // The unary + keeps the planner off the ts index, whose order would need that sort again.
    const statement = db.prepare(
      `SELECT ${columns} FROM results WHERE seq >= ? AND seq <= ? AND +ts >= ? AND +ts < ? ORDER BY seq`,
    );
    return { statement, args: [first, last, from, to] };
  }
  const statement = db.prepare(`SELECT ${columns} FROM results WHERE ts >= ? AND ts < ? ORDER BY seq`);
  return { statement, args: [from, to] };
}
