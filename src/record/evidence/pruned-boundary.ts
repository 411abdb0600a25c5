import type Database from "better-sqlite3";
import { DAY_MS, type EpochMs } from "../../model/time.js";
import { hasInputLog } from "./input-log.js";

export function startOfDay(ts: EpochMs): EpochMs {
  return ts - (((ts % DAY_MS) + DAY_MS) % DAY_MS);
}

/**
 * Where the rollup days end and the raw days begin: the newest `prune` record's day (records of
 * every day before it were pruned; its rollups stand for them, late imports included). Stores
 * pruned before prune records: the day after the newest rollup commitment, else the oldest kept
 * record's day. Null when nothing was ever pruned.
 */
export function prunedBoundary(db: Database.Database): EpochMs | null {
  if (db.prepare("SELECT 1 FROM chain_anchors LIMIT 1").get() === undefined) return null;
  if (hasInputLog(db)) {
    const days = db
      .prepare("SELECT payload FROM input_records WHERE kind IN ('prune', 'rollup_commitment')")
      .pluck()
      .all() as string[];
    let pruned: EpochMs | null = null;
    let committed: EpochMs | null = null;
    for (const text of days) {
      const payload = JSON.parse(text) as { before?: string; day?: string };
      if (payload.before !== undefined) pruned = Math.max(pruned ?? -Infinity, Date.parse(payload.before));
      if (payload.day !== undefined)
        committed = Math.max(committed ?? -Infinity, Date.parse(payload.day) + DAY_MS);
    }
    if (pruned !== null) return pruned;
    if (committed !== null) return committed;
  }
  const oldest = db.prepare("SELECT min(ts) FROM results").pluck().get() as number | null;
  return oldest === null ? Number.POSITIVE_INFINITY : startOfDay(oldest);
}
