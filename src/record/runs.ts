import type Database from "better-sqlite3";
import type { Clock } from "../clock/clock.js";
import type { EpochMs, Interval } from "../model/time.js";
import { statementOf } from "./statements.js";

/**
 * One period the agent was up. A run that crashed has no end: it covers up to its last heartbeat
 * or its last stored result, whichever is later.
 */
export interface RunInterval {
  readonly id: number;
  readonly start: EpochMs;
  readonly lastHeartbeat: EpochMs;
  /** When it stopped cleanly; null for a run still going or one that crashed. */
  readonly end: EpochMs | null;
  readonly clean: boolean;
}

/** A run not ended whose last heartbeat or result is this recent counts as still running (heartbeats reach disk every 30 s at most). */
export const STILL_RUNNING_WITHIN_MS = 60_000;

/**
 * A heartbeat is written on its own at most this often; between, it rides along with the next
 * batch of results. Each write is a transaction with an fsync, the largest idle cost when it came
 * every 5 s. A crash while no result is written loses at most this much coverage; while results
 * flow, the last stored result bounds the loss as before.
 */
export const HEARTBEAT_WRITE_MS = 30_000;

/** The run of this process, kept in memory and written with the next batch (so disk trouble loses none of it). */
interface LiveRun {
  id: number | null;
  start: EpochMs;
  lastHeartbeat: EpochMs;
  /** The last heartbeat a committed batch carried. */
  writtenHeartbeat: EpochMs;
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

/** What the run bookkeeping needs of the store's write queue. */
export interface RunWrites {
  /** Asks for a write soon, even with no result waiting. */
  touch(): void;
  /** Writes now. */
  flush(): void;
}

/**
 * The agent's run bookkeeping: this process's run (start, heartbeats, clean end) is written with
 * the store's batches, and the stored runs read back with it, as the intervals the agent was up.
 */
export class AgentRuns {
  readonly #clock: Clock;
  readonly #writes: RunWrites;
  #live: LiveRun | null = null;

  constructor(clock: Clock, writes: RunWrites) {
    this.#clock = clock;
    this.#writes = writes;
  }

  start(now: EpochMs): void {
    this.#live = { id: null, start: now, lastHeartbeat: now, writtenHeartbeat: now, end: null, dirty: true };
    this.#writes.touch();
    this.#writes.flush();
  }

  heartbeat(now: EpochMs): void {
    if (!this.#live) return;
    this.#live.lastHeartbeat = now;
    this.#live.dirty = true;
    if (now - this.#live.writtenHeartbeat >= HEARTBEAT_WRITE_MS) this.#writes.touch();
  }

  end(now: EpochMs): void {
    if (!this.#live) return;
    Object.assign(this.#live, { lastHeartbeat: now, end: now, dirty: true });
    this.#writes.touch();
    this.#writes.flush();
  }

  /** Writes the live run if it changed; must run inside the batch's write transaction. */
  writeIfChanged(db: Database.Database): void {
    if (this.#live?.dirty) writeRun(db, this.#live);
  }

  /** The batch that wrote the live run committed. */
  committed(): void {
    if (!this.#live?.dirty) return;
    this.#live.writtenHeartbeat = this.#live.lastHeartbeat;
    this.#live.dirty = false;
  }

  /** The store now writes to a new file: the run is written there afresh. */
  movedToNewFile(): void {
    if (this.#live) Object.assign(this.#live, { id: null, dirty: true });
  }

  /** Runs overlapping [from, to), this process's own one as up until now. */
  intervals(db: Database.Database, from: EpochMs, to: EpochMs): RunInterval[] {
    const stored = queryRuns(db, from, to);
    const live = this.#live;
    if (live === null || live.end !== null) return stored;
    // This process's run is up until now, whatever its last stored heartbeat says.
    const now = this.#clock.now();
    const others = stored.filter((r) => r.id !== live.id);
    if (live.start >= to) return others;
    return [...others, { id: live.id ?? -1, start: live.start, lastHeartbeat: now, end: null, clean: false }];
  }

  /** The parts of [from, to) when no agent run was up: not the provider's unavailability. */
  unmonitored(db: Database.Database, from: EpochMs, to: EpochMs): Interval[] {
    const runs = this.intervals(db, from, to);
    const lastResult = db.prepare("SELECT max(ts) AS ts FROM results WHERE ts >= ? AND ts < ?");
    const covered = runs.map((run, i) => {
      if (run.end !== null) return { start: run.start, end: run.end };
      const next = runs[i + 1]?.start;
      const { ts } = lastResult.get(run.start, next ?? to) as { ts: number | null };
      const lastSign = Math.max(run.lastHeartbeat, ts ?? run.lastHeartbeat);
      // The newest run, heard from lately, is still going: another process reads the store
      // between its heartbeats (and before the first one), which is not time nobody watched.
      const running = next === undefined && to - lastSign <= STILL_RUNNING_WITHIN_MS;
      return { start: run.start, end: running ? to : lastSign };
    });
    return gapsBetween(covered, from, to);
  }
}

/** Writes the live run's state; must run inside a write transaction. */
function writeRun(db: Database.Database, run: LiveRun): void {
  if (run.id === null) {
    const info = statementOf(
      db,
      "INSERT INTO runs (started_at, last_heartbeat, ended_at, clean) VALUES (?, ?, ?, ?)",
    ).run(run.start, run.lastHeartbeat, run.end, run.end === null ? 0 : 1);
    run.id = Number(info.lastInsertRowid);
  } else {
    statementOf(db, "UPDATE runs SET last_heartbeat = ?, ended_at = ?, clean = ? WHERE id = ?").run(
      run.lastHeartbeat,
      run.end,
      run.end === null ? 0 : 1,
      run.id,
    );
  }
}

/** Runs overlapping [from, to), oldest first. */
function queryRuns(db: Database.Database, from: EpochMs, to: EpochMs): RunInterval[] {
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
