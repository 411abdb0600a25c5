import type Database from "better-sqlite3";
import type { EpochMs } from "../model/time.js";

/**
 * A record is back-dated when it was chained after a record at least this much newer: it was
 * written well after it was observed. The agent chains a result when its request completes, so
 * its own results trail the newest chained one by at most a request's duration; an import of
 * older results (a buffered file after the agent was offline, or a backfill injected into past
 * hours) and a clock set back leave records further behind.
 */
export const BACKDATED_BEHIND_MS = 15 * 60_000;

export interface BackdatedRecords {
  readonly records: number;
  /** The first back-dated record's seq. */
  readonly firstSeq: number;
  /** Back-dated records per category, in category order. */
  readonly byCategory: readonly { readonly category: string; readonly records: number }[];
}

/**
 * The records of [from, to) chained after a record BACKDATED_BEHIND_MS or more newer than they
 * are; null when none. The chain order is signed, so anyone holding the records (a bundle's
 * records.ndjson) can count them the same way.
 */
export function backdatedRecordsOf(
  db: Database.Database,
  from: EpochMs,
  to: EpochMs,
): BackdatedRecords | null {
  const span = db
    .prepare("SELECT min(seq) AS first, max(seq) AS last FROM results WHERE ts >= ? AND ts < ?")
    .get(from, to) as { first: number | null; last: number | null };
  if (span.first === null || span.last === null) return null;
  const newestBefore =
    (db.prepare("SELECT max(ts) FROM results WHERE seq < ?").pluck().get(span.first) as number | null) ??
    Number.MIN_SAFE_INTEGER;
  const rows = db
    .prepare(
      `SELECT category, count(*) AS records, min(seq) AS firstSeq FROM (
         SELECT seq, ts, category,
           max(ts) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS newest
         FROM results WHERE seq BETWEEN ? AND ?)
       WHERE ts >= ? AND ts < ? AND max(ifnull(newest, ?), ?) >= ts + ?
       GROUP BY category ORDER BY category`,
    )
    .all(span.first, span.last, from, to, newestBefore, newestBefore, BACKDATED_BEHIND_MS) as {
    category: string;
    records: number;
    firstSeq: number;
  }[];
  if (rows.length === 0) return null;
  return {
    records: rows.reduce((sum, row) => sum + row.records, 0),
    firstSeq: Math.min(...rows.map((row) => row.firstSeq)),
    byCategory: rows.map(({ category, records }) => ({ category, records })),
  };
}
