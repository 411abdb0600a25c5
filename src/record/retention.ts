import type Database from "better-sqlite3";
import { DAY_MS, type EpochMs, HOUR_MS, startOfDay } from "../model/time.js";
import type { ChainLink } from "./evidence/chain.js";
import { appendInput, hasInputLog } from "./evidence/input-log.js";
import { commitPrunedDays } from "./evidence/rollup-commitments.js";
import { uncommittedRollupsUnlikeRecords } from "./evidence/rollups-against-records.js";
import { COUNT_COLUMNS } from "./rollups.js";
import { describeWriteError } from "./write-queue.js";

export interface PruneOutcome {
  readonly pruned: number;
  /** The anchor written by this prune; null when nothing was old enough. */
  readonly anchor: ChainLink | null;
  /** Per-minute rollup rows merged into hour rows by this prune. */
  readonly minutesCompacted: number;
}

export interface RetentionDays {
  /** Raw results older than this are pruned. */
  readonly results: number;
  /** Minute rollups older than this are compacted into hours. */
  readonly minuteRollups: number;
}

const NOTHING_PRUNED: PruneOutcome = { pruned: 0, anchor: null, minutesCompacted: 0 };

/**
 * The daily prune, in one write transaction: the chain prefix past retention, and minute rollups
 * compacted into hours. A prune that cannot write (full disk, lock) changes nothing and says so.
 */
export function pruneEvidence(
  db: Database.Database,
  now: EpochMs,
  days: RetentionDays,
  log: (line: string) => void,
  /** Runs in the same transaction after a prune that wrote this anchor (signs it; throwing undoes the prune). */
  anchored: (anchor: ChainLink) => void = () => {},
  /** Why the chain may not be pruned now (it could not be signed); checked first, in the same transaction. */
  refusal: () => string | null = () => null,
): PruneOutcome {
  try {
    return db
      .transaction(() => {
        // Whole UTC days only: a day's figures then come from its rollups or from its records,
        // never from both, and no rollup minute straddles where the records end.
        const cutoff = startOfDay(now - days.results * DAY_MS);
        // The records would take the proof of what was done to them (or to their rollups) with them.
        const refused = refusal() ?? uncommittedRollupsUnlikeRecords(db, cutoff);
        if (refused !== null) {
          log(`evidence store: error: prune skipped, nothing was removed: ${refused}`);
          return NOTHING_PRUNED;
        }
        const chain = pruneChainPrefix(db, cutoff, now);
        if (chain.anchor) recordPrune(db, now, cutoff, chain);
        const minutesCompacted = compactMinuteRollups(db, now - days.minuteRollups * DAY_MS);
        if (chain.anchor) {
          // The pruned days' rollups now stand for their records: committed before the head is signed.
          commitPrunedDays(db, now);
          anchored(chain.anchor);
        }
        return { ...chain, minutesCompacted };
      })
      .immediate();
  } catch (error) {
    log(`evidence store: prune skipped (${describeWriteError(error)}); nothing was removed`);
    return NOTHING_PRUNED;
  }
}

/**
 * A `prune` input record: the day before which records were pruned and the anchor left. Chained
 * and signed like every input, it is where a report's rollup days end (prunedBoundary), so a
 * record a prune had to keep (imported late, chained after newer ones) never moves that boundary.
 */
function recordPrune(
  db: Database.Database,
  now: EpochMs,
  cutoff: EpochMs,
  chain: Omit<PruneOutcome, "minutesCompacted">,
): void {
  if (!hasInputLog(db) || !chain.anchor) return;
  appendInput(db, "prune", now, {
    before: new Date(cutoff).toISOString().slice(0, 10),
    anchor_seq: chain.anchor.seq,
    anchor_hash: chain.anchor.hash.toString("hex"),
    records: chain.pruned,
  });
}

/** An import holds the write transaction open; the next daily prune catches up. */
export function prunePostponed(): PruneOutcome {
  return NOTHING_PRUNED;
}

/**
 * Removes the longest prefix of the chain (by seq) whose records are all older than `cutoff`, and
 * records its last link as an anchor so that verify starts from there. Only a prefix can go: a
 * record imported late with an old ts stays until every record chained before it is old enough.
 * Must run inside a write transaction. Rollups are not touched.
 */
export function pruneChainPrefix(
  db: Database.Database,
  cutoff: EpochMs,
  now: EpochMs,
): Omit<PruneOutcome, "minutesCompacted"> {
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

const HOUR_ROLLUP_SQL = `INSERT INTO rollups (probe, minute, category, span_ms, ${COUNT_COLUMNS.join(", ")}, latency)
  SELECT probe, minute - minute % ${HOUR_MS}, min(category), ${HOUR_MS},
    ${COUNT_COLUMNS.map((c) => `sum(${c})`).join(", ")}, merge_latency_all(latency)
  FROM old_minutes WHERE true GROUP BY minute - minute % ${HOUR_MS}, probe
  ON CONFLICT (minute, probe) DO UPDATE SET
  ${COUNT_COLUMNS.map((c) => `${c} = rollups.${c} + excluded.${c}`).join(",\n  ")},
  latency = merge_latency(rollups.latency, excluded.latency)`;

/**
 * Merges the per-minute rollups of every whole hour before `cutoff` into one row per probe-hour
 * (span_ms 3 600 000, keyed by the hour's start); sums and latency lose nothing, only the minute
 * detail goes. A minute imported later into a compacted hour is merged at the next prune. Must run
 * inside a write transaction on a connection with the rollup SQL functions registered.
 */
export function compactMinuteRollups(db: Database.Database, cutoff: EpochMs): number {
  const hourCutoff = cutoff - (((cutoff % HOUR_MS) + HOUR_MS) % HOUR_MS);
  // Copied aside first: an hour row is keyed like the minute at the hour's start.
  db.prepare(
    "CREATE TEMP TABLE old_minutes AS SELECT * FROM rollups WHERE minute < ? AND span_ms = 60000",
  ).run(hourCutoff);
  try {
    const moved = db
      .prepare("DELETE FROM rollups WHERE minute < ? AND span_ms = 60000")
      .run(hourCutoff).changes;
    if (moved > 0) db.prepare(HOUR_ROLLUP_SQL).run();
    return moved;
  } finally {
    db.exec("DROP TABLE temp.old_minutes");
  }
}
