import type Database from "better-sqlite3";
import type { Clock } from "../clock/clock.js";
import { type EpochMs, type Interval, isoUtc } from "../model/time.js";
import { chainTail } from "./evidence/chain.js";
import { appendInput } from "./evidence/input-log.js";
import { firstSignedRunStart, type RunInterval, storedRuns } from "./signed-runs.js";
import { statementOf } from "./statements.js";

export type { RunInterval };

/**
 * The newest run, not ended, whose last result is this recent counts as still running: another
 * process reads the store between its batches (and before its first result).
 */
export const STILL_RUNNING_WITHIN_MS = 60_000;

/**
 * A heartbeat is written to the `runs` table on its own at most this often; between, it rides along
 * with the next batch of results. The table is kept for older versions reading the store; no
 * figure reads it for a run that has a `run_start` record (signed-runs.ts).
 */
export const HEARTBEAT_WRITE_MS = 30_000;

/** The run of this process, kept in memory and written with the next batch (so disk trouble loses none of it). */
interface LiveRun {
  /** Its `runs` table row, once a batch committed it. */
  id: number | null;
  /** Its `run_start` input record's seq in this file, once a batch committed it. */
  startSeq: number | null;
  /** Whether a committed batch wrote its `run_end` record. */
  endWritten: boolean;
  start: EpochMs;
  lastHeartbeat: EpochMs;
  /** The last heartbeat a committed batch carried. */
  writtenHeartbeat: EpochMs;
  end: EpochMs | null;
  dirty: boolean;
  /** What the batch being written wrote, made the run's once it commits. */
  pending: { id: number | null; startSeq: number | null; endWritten: boolean } | null;
}

/** What the run bookkeeping needs of the store's write queue. */
export interface RunWrites {
  /** Asks for a write soon, even with no result waiting. */
  touch(): void;
  /** Writes now. */
  flush(): void;
}

/**
 * The agent's run bookkeeping: this process's run is written with the store's batches, its start
 * and clean end as signed input records (`run_start`, `run_end`), and the stored runs read back
 * with it, as the intervals the agent was up.
 */
export class AgentRuns {
  readonly #clock: Clock;
  readonly #writes: RunWrites;
  readonly #agent: string | null;
  #live: LiveRun | null = null;

  constructor(clock: Clock, writes: RunWrites, agent: string | null = null) {
    this.#clock = clock;
    this.#writes = writes;
    this.#agent = agent;
  }

  start(now: EpochMs): void {
    this.#live = {
      id: null,
      startSeq: null,
      endWritten: false,
      start: now,
      lastHeartbeat: now,
      writtenHeartbeat: now,
      end: null,
      dirty: true,
      pending: null,
    };
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

  /**
   * Writes the live run if it changed; must run inside the batch's write transaction, before it
   * is signed (the run's input records are signed with the batch) and before the batch's results
   * are appended (its `run_start` names the results chain head before them; store.ts, #writeBatch).
   */
  writeIfChanged(db: Database.Database): void {
    const live = this.#live;
    if (!live?.dirty) return;
    const startSeq =
      live.startSeq ??
      appendInput(db, "run_start", live.start, {
        started_at: isoUtc(live.start),
        agent: this.#agent,
        // The results this run stores itself come after this seq (signed-runs.ts, ownResultsOf).
        results_head_seq: chainTail(db).seq,
        // The rows an older version wrote before runs were signed: only these may decide anything.
        unsigned_runs_up_to_id: statementOf(db, "SELECT ifnull(max(id), 0) FROM runs")
          .pluck()
          .get() as number,
      });
    const writeEnd = live.end !== null && !live.endWritten;
    if (writeEnd)
      appendInput(db, "run_end", live.end!, { run_start_seq: startSeq, ended_at: isoUtc(live.end!) });
    live.pending = { id: writeRunRow(db, live), startSeq, endWritten: live.endWritten || writeEnd };
  }

  /** The batch that wrote the live run committed. */
  committed(): void {
    const live = this.#live;
    if (!live?.dirty) return;
    if (live.pending) Object.assign(live, live.pending);
    live.pending = null;
    live.writtenHeartbeat = live.lastHeartbeat;
    live.dirty = false;
  }

  /** The store now writes to a new file: the run is written there afresh. */
  movedToNewFile(): void {
    if (this.#live)
      Object.assign(this.#live, { id: null, startSeq: null, endWritten: false, pending: null, dirty: true });
  }

  /** Runs overlapping [from, to), this process's own one as up until now. */
  intervals(db: Database.Database, from: EpochMs, to: EpochMs): RunInterval[] {
    const runs = this.#withLive(storedRuns(db));
    const newest = runs.at(-1);
    return runs.filter(
      (run) => run.start < to && (run.lastSeen >= from || (run === newest && run.end === null)),
    );
  }

  /**
   * Where the runs of [from, to) rest on the unsigned `runs` table (a store from before runs were
   * input records): the end of that part, or null when no such run touches the period.
   */
  unsignedUntil(db: Database.Database, from: EpochMs, to: EpochMs): EpochMs | null {
    const unsigned = this.intervals(db, from, to).filter((run) => !run.signed);
    if (unsigned.length === 0) return null;
    return Math.min(to, firstSignedRunStart(db) ?? to);
  }

  /** The parts of [from, to) when no agent run was up: not the provider's unavailability. */
  unmonitored(db: Database.Database, from: EpochMs, to: EpochMs): Interval[] {
    const runs = this.#withLive(storedRuns(db));
    const now = this.#clock.now();
    const covered = runs.map((run, i) => {
      if (run.end !== null) return { start: run.start, end: run.end };
      // The newest run, heard from lately, is still going: another process reads the store
      // between its batches (and before its first result), which is not time nobody watched.
      const running = i === runs.length - 1 && now - run.lastSeen <= STILL_RUNNING_WITHIN_MS;
      return { start: run.start, end: running ? Math.max(now, run.lastSeen) : run.lastSeen };
    });
    return gapsBetween(covered, from, to);
  }

  /** The stored runs, with this process's own run (not ended) up until now whatever is stored of it. */
  #withLive(stored: RunInterval[]): RunInterval[] {
    const live = this.#live;
    if (live === null || live.end !== null) return stored;
    const others = stored.filter((r) => !(r.signed && r.id === live.startSeq));
    const now = this.#clock.now();
    return [
      ...others,
      { id: live.startSeq ?? -1, start: live.start, end: null, lastSeen: now, clean: false, signed: true },
    ];
  }
}

/** Writes the live run's `runs` table row (kept for older readers); returns its id. Inside a write transaction. */
function writeRunRow(db: Database.Database, run: LiveRun): number {
  if (run.id === null) {
    const info = statementOf(
      db,
      "INSERT INTO runs (started_at, last_heartbeat, ended_at, clean) VALUES (?, ?, ?, ?)",
    ).run(run.start, run.lastHeartbeat, run.end, run.end === null ? 0 : 1);
    return Number(info.lastInsertRowid);
  }
  statementOf(db, "UPDATE runs SET last_heartbeat = ?, ended_at = ?, clean = ? WHERE id = ?").run(
    run.lastHeartbeat,
    run.end,
    run.end === null ? 0 : 1,
    run.id,
  );
  return run.id;
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
