import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import { DAY_MS, type EpochMs } from "../../model/time.js";
import { COUNT_COLUMNS, registerRollupFunctions } from "../rollups.js";
import { appendInput, hasInputLog } from "./input-log.js";
import { prunedBoundary } from "./pruned-boundary.js";

/**
 * Per-day commitments of the rollups that outlive pruned raw records: before a prune removes a
 * day's records, the day's rollups are digested into a `rollup_commitment` input record, so a
 * pruned month's figures (taken from rollups) rest on the signed log too. The digest is over each
 * probe's sums and merged latency for the day, which compacting minutes into hours leaves as it
 * was (sums and the exact latency distribution lose nothing).
 */

/** The rows a day's commitment digests, one per probe in probe order: [probe, category, the count sums in table order, hex of the merged latency]. */
export function rollupDayRows(db: Database.Database, day: EpochMs): unknown[][] {
  ensureMerge(db);
  return db
    .prepare(
      `SELECT probe, min(category), ${COUNT_COLUMNS.map((c) => `sum(${c})`).join(", ")},
       lower(hex(merge_latency_all(latency))) FROM rollups WHERE minute >= ? AND minute < ?
       GROUP BY probe ORDER BY probe`,
    )
    .raw(true)
    .all(day, day + DAY_MS) as unknown[][];
}

/** SHA-256 (hex) over the day's rollup rows, one JSON line per probe; null: no rollups. */
export function rollupDayDigest(db: Database.Database, day: EpochMs): string | null {
  const rows = rollupDayRows(db, day);
  if (rows.length === 0) return null;
  const hash = createHash("sha256");
  for (const row of rows) hash.update(`${JSON.stringify(row)}\n`);
  return hash.digest("hex");
}

/**
 * A bundle's rollups.ndjson: `{"day","row"}` for each rollup row of the pruned days of [from, to),
 * the rows their commitments digest, so recompute.py checks them and counts those days from them.
 */
export function prunedRollupLines(db: Database.Database, from: EpochMs, to: EpochMs): string[] {
  const bound = prunedBoundary(db);
  if (bound === null) return [];
  const lines: string[] = [];
  for (let day = from; day + DAY_MS <= Math.min(to, bound); day += DAY_MS) {
    const iso = new Date(day).toISOString().slice(0, 10);
    for (const row of rollupDayRows(db, day)) lines.push(JSON.stringify({ day: iso, row }));
  }
  return lines;
}

/** A reader connection has no rollup functions registered. */
function ensureMerge(db: Database.Database): void {
  try {
    db.prepare("SELECT merge_latency_all(NULL)").get();
  } catch {
    registerRollupFunctions(db);
  }
}

/** The newest commitment's digest of each committed day (UTC midnight, epoch ms). */
export function latestCommitments(db: Database.Database): Map<number, string> {
  const latest = new Map<number, string>();
  if (!hasInputLog(db)) return latest;
  const payloads = db
    .prepare("SELECT payload FROM input_records WHERE kind = 'rollup_commitment' ORDER BY seq")
    .pluck()
    .iterate() as Iterable<string>;
  for (const text of payloads) {
    const payload = JSON.parse(text) as { day: string; sha256: string };
    latest.set(Date.parse(payload.day), payload.sha256);
  }
  return latest;
}

function prunedDays(db: Database.Database, from: EpochMs, to: EpochMs): number[] {
  return db
    .prepare(
      `SELECT DISTINCT minute - ((minute % ${DAY_MS}) + ${DAY_MS}) % ${DAY_MS} AS day FROM rollups
       WHERE minute >= ? AND minute < ? ORDER BY day`,
    )
    .pluck()
    .all(from, to) as number[];
}

/**
 * Inside a prune's write transaction, after the records went: a commitment for every day whose
 * records are all gone and that has none yet. A day already committed is never committed again
 * here: its rollups differing from the commitment means they were edited (no import adds to a
 * pruned day: import-session.ts).
 */
export function commitPrunedDays(db: Database.Database, now: EpochMs): number {
  if (!hasInputLog(db)) return 0;
  const bound = prunedBoundary(db);
  if (bound === null) return 0;
  const latest = latestCommitments(db);
  let written = 0;
  for (const day of prunedDays(db, Number.MIN_SAFE_INTEGER, Math.min(bound, Number.MAX_SAFE_INTEGER))) {
    if (day + DAY_MS > bound || latest.has(day)) continue;
    const digest = rollupDayDigest(db, day);
    if (digest === null) continue;
    appendCommitment(db, day, digest, now);
    written++;
  }
  return written;
}

/**
 * A store pruned before rollup commitments existed: its pruned days committed once, as found, when
 * a writer first opens it; never again once the log holds any commitment.
 */
export function commitLegacyPrunedDays(db: Database.Database, now: EpochMs): number {
  if (!hasInputLog(db)) return 0;
  const any = db.prepare("SELECT 1 FROM input_records WHERE kind = 'rollup_commitment' LIMIT 1").get();
  return any === undefined ? commitPrunedDays(db, now) : 0;
}

function appendCommitment(db: Database.Database, day: EpochMs, digest: string, now: EpochMs): void {
  appendInput(db, "rollup_commitment", now, {
    day: new Date(day).toISOString().slice(0, 10),
    sha256: digest,
  });
}

/**
 * Whether the rollups of [from, to)'s pruned days are what their newest commitments say: an
 * edited, inserted or deleted rollup row of a pruned day is a sentence here.
 */
export function rollupsDisagree(db: Database.Database, from: EpochMs, to: EpochMs): string | null {
  if (!hasInputLog(db)) return null;
  const bound = prunedBoundary(db);
  if (bound === null) return null;
  const latest = latestCommitments(db);
  const days = new Set(prunedDays(db, from, Math.min(to, bound)).filter((day) => day + DAY_MS <= bound));
  // A committed day stays checked when a late import puts raw records before it again (which
  // moves the oldest kept record, and so the bound, back): its commitment still stands for it.
  for (const day of latest.keys()) if (day >= from && day < to) days.add(day);
  for (const day of [...days].sort((a, b) => a - b)) {
    const iso = new Date(day).toISOString().slice(0, 10);
    const committed = latest.get(day);
    if (committed === undefined)
      return `the rollups of ${iso} (records pruned) are not committed by any rollup commitment in the log (inserted)`;
    if (rollupDayDigest(db, day) !== committed)
      return `the rollups of ${iso} (records pruned) are not what its rollup commitment in the log says (edited or deleted)`;
  }
  return null;
}
