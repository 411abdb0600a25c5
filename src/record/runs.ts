import type Database from "better-sqlite3";
import type { EpochMs, Interval } from "../model/time.js";

/** One period the agent was up. A run that crashed has no end: it covers up to its last heartbeat. */
export interface RunInterval {
  readonly id: number;
  readonly start: EpochMs;
  readonly lastHeartbeat: EpochMs;
  /** When it stopped cleanly; null for a run still going or one that crashed. */
  readonly end: EpochMs | null;
  readonly clean: boolean;
}

/** The run of this process, kept in memory and written with the next batch (so disk trouble loses none of it). */
export interface LiveRun {
  id: number | null;
  start: EpochMs;
  lastHeartbeat: EpochMs;
  end: EpochMs | null;
  dirty: boolean;
}

interface RunRow {
  readonly id: number;
  readonly started_at: number;
  readonly last_heartbeat: number;
  readonly ended_at: number | null;
  readonly clean: number;
}

/** Writes the live run's state; must run inside a write transaction. */
export function writeRun(db: Database.Database, run: LiveRun): void {
  if (run.id === null) {
    const info = db
      .prepare("INSERT INTO runs (started_at, last_heartbeat, ended_at, clean) VALUES (?, ?, ?, ?)")
      .run(run.start, run.lastHeartbeat, run.end, run.end === null ? 0 : 1);
    run.id = Number(info.lastInsertRowid);
  } else {
    db.prepare("UPDATE runs SET last_heartbeat = ?, ended_at = ?, clean = ? WHERE id = ?").run(
      run.lastHeartbeat,
      run.end,
      run.end === null ? 0 : 1,
      run.id,
    );
  }
}

/** Runs overlapping [from, to), oldest first. */
export function queryRuns(db: Database.Database, from: EpochMs, to: EpochMs): RunInterval[] {
  const rows = db
    .prepare(
      `SELECT * FROM runs WHERE started_at < ? AND coalesce(ended_at, last_heartbeat) >= ?
       ORDER BY started_at, id`,
    )
    .all(to, from) as RunRow[];
  return rows.map((r) => ({
    id: r.id,
    start: r.started_at,
    lastHeartbeat: r.last_heartbeat,
    end: r.ended_at,
    clean: r.clean === 1,
  }));
}

/** The parts of [from, to) that no covered interval touches, in order. */
export function gapsBetween(covered: readonly Interval[], from: EpochMs, to: EpochMs): Interval[] {
  const ordered = [...covered].filter((c) => c.end > c.start).sort((a, b) => a.start - b.start);
  const gaps: Interval[] = [];
  let cursor = from;
  for (const c of ordered) {
    if (c.end <= cursor) continue;
    if (c.start >= to) break;
    if (c.start > cursor) gaps.push({ start: cursor, end: c.start });
    cursor = Math.max(cursor, c.end);
  }
  if (cursor < to) gaps.push({ start: cursor, end: to });
  return gaps;
}
