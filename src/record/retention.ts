import type Database from "better-sqlite3";
import type { EpochMs } from "../model/time.js";
import type { ChainLink } from "./chain.js";

export interface PruneOutcome {
  readonly pruned: number;
  /** The anchor written by this prune; null when nothing was old enough. */
  readonly anchor: ChainLink | null;
}

/**
 * Removes the longest prefix of the chain (by seq) whose records are all older than `cutoff`, and
 * records its last link as an anchor so that verify starts from there. Only a prefix can go: a
 * record imported late with an old ts stays until every record chained before it is old enough.
 * Must run inside a write transaction. Rollups are not touched.
 */
export function pruneChainPrefix(db: Database.Database, cutoff: EpochMs, now: EpochMs): PruneOutcome {
  const firstKept = db.prepare("SELECT min(seq) FROM results WHERE ts >= ?").pluck().get(cutoff) as
    | number
    | null;
  const lastPruned =
    firstKept === null
      ? (db.prepare("SELECT max(seq) FROM results").pluck().get() as number | null)
      : (db.prepare("SELECT max(seq) FROM results WHERE seq < ?").pluck().get(firstKept) as number | null);
  if (lastPruned === null) return { pruned: 0, anchor: null };
  const hash = db.prepare("SELECT hash FROM results WHERE seq = ?").pluck().get(lastPruned) as Buffer;
  const pruned = db.prepare("DELETE FROM results WHERE seq <= ?").run(lastPruned).changes;
  db.prepare("INSERT INTO chain_anchors (seq, hash, pruned_at, records) VALUES (?, ?, ?, ?)").run(
    lastPruned,
    hash,
    now,
    pruned,
  );
  return { pruned, anchor: { seq: lastPruned, hash } };
}
