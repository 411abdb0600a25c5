import type Database from "better-sqlite3";
import { type EpochMs, startOfDay } from "../../model/time.js";
import { hasInputLog } from "./input-log.js";

/**
 * Where the rollup days end and the raw days begin: the newest `prune` record's day (records of
 * every day before it were pruned; its rollups stand for them, late imports included). A store
 * pruned before prune records were written: the ts of the record chained right after the newest
 * chain anchor (the first one that prune kept), so a record imported later with an older ts does
 * not move it. Null when nothing was ever pruned; +Infinity when nothing after the anchor is kept.
 */
export function prunedBoundary(db: Database.Database): EpochMs | null {
  const anchor = db.prepare("SELECT max(seq) FROM chain_anchors").pluck().get() as number | null;
  if (anchor === null) return null;
  if (hasInputLog(db)) {
    const before = db
      .prepare("SELECT max(json_extract(payload, '$.before')) FROM input_records WHERE kind = 'prune'")
      .pluck()
      .get() as string | null;
    if (before !== null) return Date.parse(before);
  }
  const firstKept = db
    .prepare("SELECT ts FROM results WHERE seq = ?")
    .pluck()
    .get(anchor + 1) as number | undefined;
  return firstKept ?? Number.POSITIVE_INFINITY;
}

/**
 * Whether a ts falls on a day whose figures are its rollups (its records pruned): before the
 * pruned boundary (a store pruned before prune records with nothing kept has none), or on a
 * day that has a rollup commitment.
 */
export function inPrunedDay(db: Database.Database): (ts: EpochMs) => boolean {
  const bound = prunedBoundary(db);
  if (bound === null) return () => false;
  const days = hasInputLog(db)
    ? (db
        .prepare(
          "SELECT DISTINCT json_extract(payload, '$.day') FROM input_records WHERE kind = 'rollup_commitment'",
        )
        .pluck()
        .all() as string[])
    : [];
  const committed = new Set(days.map((day) => Date.parse(day)));
  return (ts) => (Number.isFinite(bound) && ts < bound) || committed.has(startOfDay(ts));
}
