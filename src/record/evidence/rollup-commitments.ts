import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import { DAY_MS, type EpochMs } from "../../model/time.js";
import { COUNT_COLUMNS, registerRollupFunctions } from "../rollups.js";
import { appendInput, hasInputLog } from "./input-log.js";
import { prunedBoundary, startOfDay } from "./pruned-boundary.js";

/**
 * Per-day commitments of the rollups that outlive pruned raw records: before a prune removes a
 * day's records, the day's rollups are digested into a `rollup_commitment` input record, so a
 * pruned month's figures (taken from rollups) rest on the signed log too. The digest is over each
 * probe's sums and merged latency for the day, which compacting minutes into hours leaves as it
 * was (sums and the exact latency distribution lose nothing).
 */

/** SHA-256 (hex) over the day's per-probe sums and latency, one JSON line per probe; null: no rollups. */
export function rollupDayDigest(db: Database.Database, day: EpochMs): string | null {
  ensureMerge(db);
  const rows = db
    .prepare(
      `SELECT probe, min(category), ${COUNT_COLUMNS.map((c) => `sum(${c})`).join(", ")},
       lower(hex(merge_latency_all(latency))) FROM rollups WHERE minute >= ? AND minute < ?
       GROUP BY probe ORDER BY probe`,
    )
    .raw(true)
    .all(day, day + DAY_MS) as unknown[][];
  if (rows.length === 0) return null;
  const hash = createHash("sha256");
  for (const row of rows) hash.update(`${JSON.stringify(row)}\n`);
  return hash.digest("hex");
}

/** A reader connection has no rollup functions registered. */
function ensureMerge(db: Database.Database): void {
  try {
    db.prepare("SELECT merge_latency_all(NULL)").get();
  } catch {
    registerRollupFunctions(db);
  }
}

/** Days whose raw records are all gone: before the pruned boundary; none if nothing was pruned. */
function prunedBefore(db: Database.Database): EpochMs | null {
  return prunedBoundary(db);
}

function latestCommitments(db: Database.Database): Map<number, string> {
  const latest = new Map<number, string>();
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
 * records are all gone and whose rollups are not what its newest commitment says (new, or
 * changed by a late import). Also run once when a writer opens a store pruned before commitments.
 */
export function commitPrunedDays(db: Database.Database, now: EpochMs): number {
  if (!hasInputLog(db)) return 0;
  const bound = prunedBefore(db);
  if (bound === null) return 0;
  const latest = latestCommitments(db);
  let written = 0;
  for (const day of prunedDays(db, Number.MIN_SAFE_INTEGER, Math.min(bound, Number.MAX_SAFE_INTEGER))) {
    if (day + DAY_MS > bound) continue;
    const digest = rollupDayDigest(db, day);
    if (digest === null || latest.get(day) === digest) continue;
    appendInput(db, "rollup_commitment", now, {
      day: new Date(day).toISOString().slice(0, 10),
      sha256: digest,
    });
    written++;
  }
  return written;
}

/**
 * Whether the rollups of [from, to)'s pruned days are what their newest commitments say: an
 * edited, inserted or deleted rollup row of a pruned day is a sentence here.
 */
export function rollupsDisagree(db: Database.Database, from: EpochMs, to: EpochMs): string | null {
  if (!hasInputLog(db)) return null;
  const bound = prunedBefore(db);
  if (bound === null) return null;
  const latest = latestCommitments(db);
  const days = new Set(prunedDays(db, from, Math.min(to, bound)));
  for (const day of latest.keys()) if (day >= from && day < to && day + DAY_MS <= bound) days.add(day);
  for (const day of [...days].sort((a, b) => a - b)) {
    if (day + DAY_MS > bound) continue;
    const iso = new Date(day).toISOString().slice(0, 10);
    const committed = latest.get(day);
    if (committed === undefined)
      return `the rollups of ${iso} (records pruned) are not committed by any rollup commitment in the log (inserted)`;
    if (rollupDayDigest(db, day) !== committed)
      return `the rollups of ${iso} (records pruned) are not what its rollup commitment in the log says (edited or deleted)`;
  }
  return null;
}

/**
 * A late import into pruned days (audit finding 6): the import adds to those days' rollups, so
 * each such day is committed again in the import's transaction. Only from rollups that were
 * still what the day's newest commitment says before the import touched them: an edited day is
 * refused (nothing imported), never committed over.
 */
export class PrunedDayImport {
  readonly #db: Database.Database;
  readonly #boundary: EpochMs | null;
  readonly #touched = new Set<EpochMs>();

  constructor(db: Database.Database) {
    this.#db = db;
    this.#boundary = hasInputLog(db) ? prunedBoundary(db) : null;
  }

  /** Before an imported result's rollup is added (and so before any is written for its day). */
  see(ts: EpochMs): void {
    if (this.#boundary === null || ts >= this.#boundary) return;
    const day = startOfDay(ts);
    if (this.#touched.has(day)) return;
    const committed = latestCommitments(this.#db).get(day) ?? null;
    const digest = rollupDayDigest(this.#db, day);
    if (digest !== committed) {
      const iso = new Date(day).toISOString().slice(0, 10);
      throw new Error(
        `the rollups of ${iso} (records pruned) are not what its rollup commitment in the log says (edited or deleted): nothing imported into that day`,
      );
    }
    this.#touched.add(day);
  }

  /** After the import's rollups are written, inside its transaction. */
  commit(now: EpochMs): void {
    for (const day of [...this.#touched].sort((a, b) => a - b)) {
      const digest = rollupDayDigest(this.#db, day);
      if (digest === null) continue;
      appendInput(this.#db, "rollup_commitment", now, {
        day: new Date(day).toISOString().slice(0, 10),
        sha256: digest,
      });
    }
  }
}
