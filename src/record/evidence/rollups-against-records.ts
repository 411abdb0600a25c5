import type Database from "better-sqlite3";
import { FAILURE_REASONS, STATUS_CLASSES, statusClassOf } from "../../model/result.js";
import { DAY_MS, type EpochMs } from "../../model/time.js";
import { forEachValue } from "../latency-blob.js";
import { COUNT_COLUMNS } from "../rollups.js";
import { hasInputLog } from "./input-log.js";
import { latestCommitments, rollupDayRows } from "./rollup-commitments.js";

/**
 * Before a prune commits a day's rollups (and deletes its records), the rollups are checked
 * against the day's records, which the prune has just verified against the chain: otherwise a
 * rollup edited while the records were still kept would be committed, and signed, as the day's
 * figures. Which results were excluded (maintenance, exclusions) and the latency of an imported
 * timeout (raised to its probe's timeout) were judged by the writer that stored them with its
 * configuration, which the store does not hold; so the rollups must be what some choice of
 * excluded results gives: every result counted once, no status class or error counted more often
 * than the records hold it, and every latency a duration of the day's responses, or of no more
 * values than the day had timeouts.
 */

interface ProbeDay {
  category: string;
  results: number;
  /** In COUNT_COLUMNS order, without `excluded`. */
  counts: number[];
  /** Durations of responses, in µs (the unit the latency blob holds), with their counts. */
  responses: Map<number, number>;
  timeouts: number;
}

const EXCLUDED = COUNT_COLUMNS.length - 1;

/**
 * Inside a prune's transaction, before any record goes: the first day before `cutoff` that is not
 * committed yet and whose rollups disagree with its records, as a sentence naming it; null when none.
 */
export function uncommittedRollupsUnlikeRecords(db: Database.Database, cutoff: EpochMs): string | null {
  if (!hasInputLog(db)) return null;
  const committed = latestCommitments(db);
  const dayOf = (column: string) => `${column} - ((${column} % ${DAY_MS}) + ${DAY_MS}) % ${DAY_MS}`;
  const days = db
    .prepare(
      `SELECT ${dayOf("minute")} AS day FROM rollups WHERE minute < ?
       UNION SELECT ${dayOf("ts")} FROM results WHERE ts < ? ORDER BY day`,
    )
    .pluck()
    .all(cutoff, cutoff) as number[];
  for (const day of days) {
    if (committed.has(day)) continue;
    const problem = rollupsUnlikeRecords(db, day);
    if (problem !== null)
      return `the rollups of ${new Date(day).toISOString().slice(0, 10)} are not what its records say (${problem}): edited after they were written? They are committed, and the day's records pruned, only once they agree`;
  }
  return null;
}

/** The first way the day's rollups disagree with its records, as a sentence; null when they agree. */
export function rollupsUnlikeRecords(db: Database.Database, day: EpochMs): string | null {
  const records = recordsOf(db, day);
  for (const row of rollupDayRows(db, day)) {
    const probe = row[0] as string;
    const problem = disagreement(row, records.get(probe));
    if (problem !== null) return `probe ${probe}: ${problem}`;
    records.delete(probe);
  }
  for (const [probe, raw] of records)
    return `probe ${probe}: no rollup counts its ${raw.results} records (deleted)`;
  return null;
}

function disagreement(row: unknown[], raw: ProbeDay | undefined): string | null {
  const counts = row.slice(2, 2 + COUNT_COLUMNS.length).map(Number);
  const total = counts.slice(0, STATUS_CLASSES.length).reduce((a, b) => a + b, 0) + counts[EXCLUDED]!;
  if (raw === undefined)
    return `its rollups count ${total} results, and the day holds no record of it (inserted)`;
  if (row[1] !== raw.category) return `its rollups name category ${row[1]}, its records ${raw.category}`;
  if (total !== raw.results) return `its rollups count ${total} results, its records are ${raw.results}`;
  for (let i = 0; i < EXCLUDED; i++) {
    if (counts[i]! > raw.counts[i]!)
      return `its rollups' ${COUNT_COLUMNS[i]} is ${counts[i]}, its records hold ${raw.counts[i]}`;
  }
  let unmatched = 0;
  forEachValue(Buffer.from(row.at(-1) as string, "hex"), (us, count) => {
    unmatched += count - Math.min(count, raw.responses.get(us) ?? 0);
  });
  if (unmatched > raw.timeouts)
    return `its rollups hold ${unmatched} latencies that none of its records had (${raw.timeouts} timeouts)`;
  return null;
}

function recordsOf(db: Database.Database, day: EpochMs): Map<string, ProbeDay> {
  const byProbe = new Map<string, ProbeDay>();
  const rows = db
    .prepare("SELECT probe, category, status, error, duration_ms FROM results WHERE ts >= ? AND ts < ?")
    .raw(true)
    .iterate(day, day + DAY_MS) as Iterable<[string, string, number | null, string | null, number]>;
  for (const [probe, category, status, error, durationMs] of rows) {
    let raw = byProbe.get(probe);
    if (!raw) {
      raw = { category, results: 0, counts: new Array(EXCLUDED).fill(0), responses: new Map(), timeouts: 0 };
      byProbe.set(probe, raw);
    }
    raw.results++;
    raw.counts[STATUS_CLASSES.indexOf(statusClassOf(status))]!++;
    const reason = FAILURE_REASONS.indexOf(error as never);
    if (reason >= 0) raw.counts[STATUS_CLASSES.length + reason]!++;
    if (status !== null) {
      const us = Math.round(durationMs * 1000);
      raw.responses.set(us, (raw.responses.get(us) ?? 0) + 1);
    } else if (error === "timeout") raw.timeouts++;
  }
  return byProbe;
}
