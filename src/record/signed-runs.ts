import type Database from "better-sqlite3";
import type { EpochMs } from "../model/time.js";
import { newestCheckpoint } from "./evidence/checkpoints.js";
import { type InputRecord, inputRecordsOf } from "./evidence/input-log.js";
import { prunedBoundary } from "./evidence/pruned-boundary.js";
import { rollupsDisagree } from "./evidence/rollup-commitments.js";
import { importedRanges } from "./imported.js";
import { RollupsDisagreeError } from "./runs-error.js";

/**
 * One period the agent was up, as the evidence gives it. Since runs are input records (`run_start`,
 * `run_end`, docs/evidence-store.md "Input records") a run is signed like any other input: the
 * unsigned `runs` table decides only the runs of a store from before, up to its first `run_start`.
 */
export interface RunInterval {
  /** The seq of its `run_start` input record; for a run of the unsigned table, its row id. */
  readonly id: number;
  readonly start: EpochMs;
  /** When it stopped cleanly; null for a run still going or one that crashed. */
  readonly end: EpochMs | null;
  /**
   * The last sign of life it left: its clean end, else the last probe result this run stored itself
   * and a signed checkpoint commits (never a traffic span, an imported result or an unsigned
   * tail), or for a run of the unsigned table its last heartbeat if later.
   */
  readonly lastSeen: EpochMs;
  readonly clean: boolean;
  /** False: a run of the unsigned `runs` table, from before runs were input records. */
  readonly signed: boolean;
}

/** The seq ranges `import` stored (its input records): results no agent run measured. */
type ImportedRanges = readonly (readonly [number, number])[];

/** Where one run's own results can be: dated in [from, to), chained in (afterSeq, upToSeq]. */
interface OwnResults {
  readonly from: EpochMs;
  readonly to: EpochMs;
  readonly afterSeq: number;
  readonly upToSeq: number;
}

interface RunRow {
  readonly id: number;
  readonly started_at: number;
  readonly last_heartbeat: number;
  readonly ended_at: number | null;
}

/**
 * Every run the store knows, oldest first: the signed runs, and before the first of them the rows
 * of the unsigned `runs` table (cut at that first signed start: a row there decides nothing later).
 * A crashed run's own results are those chained after its `run_start`'s `results_head_seq` and up
 * to the next run's, and up to the newest signed checkpoint's head (an unsigned tail is no one's).
 */
export function storedRuns(db: Database.Database): RunInterval[] {
  const starts = inputRecordsOf(db, "run_start");
  const ends = new Map<number, EpochMs>();
  for (const record of inputRecordsOf(db, "run_end")) ends.set(runStartSeqOf(record.payload), record.ts);
  const imported = importedRanges(db, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  // No checkpoint at all: the store is unsigned, which verify and report refuse on their own.
  const committed = newestCheckpoint(db)?.headSeq ?? Number.MAX_SAFE_INTEGER;
  const unsigned = unsignedRuns(db, olderVersionRuns(starts[0]), imported, committed);
  const signed = starts.map((record, i): RunInterval => {
    const end = ends.get(record.seq) ?? null;
    const next = starts[i + 1];
    const own: OwnResults = {
      from: record.ts,
      to: next?.ts ?? Number.MAX_SAFE_INTEGER,
      // A `run_start` from before it named the results head: its run is bounded by dates alone.
      afterSeq: resultsHeadOf(record.payload) ?? Number.MIN_SAFE_INTEGER,
      upToSeq: Math.min(committed, (next && resultsHeadOf(next.payload)) ?? Number.MAX_SAFE_INTEGER),
    };
    const lastResult = end === null ? lastOwnResult(db, own, imported) : null;
    const lastSeen = end ?? Math.max(record.ts, lastResult ?? record.ts);
    return { id: record.seq, start: record.ts, end, lastSeen, clean: end !== null, signed: true };
  });
  return [...unsigned, ...signed];
}

/** Where the unsigned `runs` table stops deciding: the first signed run's start; null when there is none yet. */
export function firstSignedRunStart(db: Database.Database): EpochMs | null {
  return inputRecordsOf(db, "run_start")[0]?.ts ?? null;
}

/** The results chain head a `run_start` names (its run's results come after it); null when it names none. */
function resultsHeadOf(payload: string): number | null {
  try {
    const seq = (JSON.parse(payload) as { results_head_seq?: unknown }).results_head_seq;
    return typeof seq === "number" ? seq : null;
  } catch {
    return null;
  }
}

/** The `run_start` seq a `run_end` names; -1 for a payload that names none (no run then ends). */
function runStartSeqOf(payload: string): number {
  try {
    const seq = (JSON.parse(payload) as { run_start_seq?: unknown }).run_start_seq;
    return typeof seq === "number" ? seq : -1;
  } catch {
    return -1;
  }
}

/**
 * Which rows of the unsigned table an older version wrote: those the first `run_start` found there
 * (by row id), started before it. Without a `run_start` (no agent of this version ran yet) all.
 */
function olderVersionRuns(first: InputRecord | undefined): { before: EpochMs; upToId: number } {
  if (first === undefined) return { before: Number.MAX_SAFE_INTEGER, upToId: Number.MAX_SAFE_INTEGER };
  let upToId = 0;
  try {
    const id = (JSON.parse(first.payload) as { unsigned_runs_up_to_id?: unknown }).unsigned_runs_up_to_id;
    if (typeof id === "number") upToId = id;
  } catch {
    // An unreadable payload names no older row: none decides anything.
  }
  return { before: first.ts, upToId };
}

/** The unsigned table's runs an older version wrote, none reaching past the first signed run. */
function unsignedRuns(
  db: Database.Database,
  older: { before: EpochMs; upToId: number },
  imported: ImportedRanges,
  committed: number,
): RunInterval[] {
  const { before } = older;
  // Row ids start at 1: a row numbered 0 or below was put there by hand, never by an agent.
  const rows = db
    .prepare(
      "SELECT id, started_at, last_heartbeat, ended_at FROM runs WHERE started_at < ? AND id BETWEEN 1 AND ? ORDER BY started_at, id",
    )
    .all(before, older.upToId) as RunRow[];
  return rows.map((r, i) => {
    const end = r.ended_at === null ? null : Math.min(r.ended_at, before);
    const until = Math.min(rows[i + 1]?.started_at ?? before, before);
    const own = { from: r.started_at, to: until, afterSeq: Number.MIN_SAFE_INTEGER, upToSeq: committed };
    const lastResult = end === null ? lastOwnResult(db, own, imported) : null;
    const lastSeen = end ?? Math.min(Math.max(r.last_heartbeat, lastResult ?? r.started_at), before);
    return { id: r.id, start: r.started_at, end, lastSeen, clean: end !== null, signed: false };
  });
}

/**
 * The newest of a run's own probe results (not a traffic span, not imported), or null. Where
 * retention pruned the raw results, the start of the newest minute the rollups count, once those
 * days' rollups are checked against their rollup commitments (a disagreement is thrown: no run
 * can be worked out from them), leaving out the routes' rollups (traffic); imports there can no
 * longer be told apart (docs/evidence-store.md, "Restart and unmonitored time").
 */
function lastOwnResult(db: Database.Database, own: OwnResults, imported: ImportedRanges): EpochMs | null {
  const raw = lastOwnRawResult(db, own, imported);
  const pruned = prunedBoundary(db);
  if (raw !== null || pruned === null || pruned <= own.from) return raw;
  const to = Math.min(own.to, pruned);
  const disagree = rollupsDisagree(db, own.from, to);
  if (disagree !== null) throw new RollupsDisagreeError(disagree);
  return (
    db
      // A merchant request's rollups are its route's (`traffic:` ids, model/traffic.ts): never a run's.
      .prepare(
        "SELECT max(minute) FROM rollups WHERE minute >= ? AND minute < ? AND substr(probe, 1, 8) <> 'traffic:'",
      )
      .pluck()
      .get(own.from, to) as EpochMs | null
  );
}

function lastOwnRawResult(db: Database.Database, own: OwnResults, imported: ImportedRanges): EpochMs | null {
  const probeOnly = hasSourceColumn(db) ? " AND source IS NULL" : "";
  const rows = db
    .prepare(
      `SELECT seq, ts FROM results WHERE ts >= ? AND ts < ? AND seq > ? AND seq <= ?${probeOnly} ORDER BY ts DESC`,
    )
    .raw(true)
    .iterate(own.from, own.to, own.afterSeq, own.upToSeq) as IterableIterator<[number, number]>;
  for (const [seq, ts] of rows) {
    if (imported.some(([first, last]) => seq >= first && seq <= last)) continue;
    return ts;
  }
  return null;
}

/** A store opened read-only may predate merchant traffic (the `source` column): all its results are probes'. */
function hasSourceColumn(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM pragma_table_info('results') WHERE name = 'source'").get() !== undefined;
}
