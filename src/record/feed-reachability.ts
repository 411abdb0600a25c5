import type Database from "better-sqlite3";
import type { EpochMs } from "../model/time.js";
import { appendInput, hasInputLog, inputHead, inputRecordsOf } from "./evidence/input-log.js";

/**
 * Whether the maintenance feed could be read, as input records of its own (`feed_reachability`,
 * docs/evidence-store.md "Input records"): a window the provider announced while the agent could
 * not read its feed is not known to any report, so the report must say when that was. Written
 * only when the state changes (the first failed reading after a readable one or with none before,
 * and the first readable one after failures), and when a poller that is failing stops: the log
 * then carries the state across reloads and restarts, and the number of failed readings.
 */
export interface FeedReachability {
  /** The feed's URL as shown (no user:password). */
  readonly feed: string;
  /**
   * `unreadable`: readings fail from this record on; `readable`: one succeeded (the failures end);
   * `stopped`: the agent stopped reading this feed (a reload changed or removed it).
   */
  readonly state: "unreadable" | "readable" | "stopped";
  /** Failed readings since this feed's previous record (this one's own included for `unreadable`). */
  readonly attempts: number;
  /** What the first failed reading said (for `unreadable`). */
  readonly problem?: string;
}

/** A stretch of time in which a feed could not be read. */
export interface FeedOutage {
  readonly feed: string;
  readonly from: EpochMs;
  /** When a reading succeeded again (or the feed was no longer read); null: still unreadable. */
  readonly to: EpochMs | null;
  /** Failed readings recorded in it. */
  readonly attempts: number;
  readonly problem: string | null;
}

export function appendFeedReachability(
  db: Database.Database,
  now: EpochMs,
  record: FeedReachability,
  signed: (inputsBefore: number) => void,
): void {
  if (!hasInputLog(db)) return;
  db.transaction(() => {
    const inputsBefore = inputHead(db).seq;
    appendInput(db, "feed_reachability", now, record);
    signed(inputsBefore);
  }).immediate();
}

/** The feed's state as the log's newest record of it says; null when there is none. */
export function latestFeedState(db: Database.Database, feed: string): FeedReachability["state"] | null {
  let state: FeedReachability["state"] | null = null;
  for (const record of reachabilityRecords(db))
    if (record.payload.feed === feed) state = record.payload.state;
  return state;
}

/** The stretches in which a feed could not be read that overlap [from, to), in order of their start. */
export function feedOutages(db: Database.Database, from: EpochMs, to: EpochMs): FeedOutage[] {
  const open = new Map<string, { from: EpochMs; attempts: number; problem: string | null }>();
  const done: FeedOutage[] = [];
  for (const { ts, payload } of reachabilityRecords(db)) {
    const current = open.get(payload.feed);
    if (payload.state === "unreadable") {
      if (current) current.attempts += payload.attempts;
      else open.set(payload.feed, { from: ts, attempts: payload.attempts, problem: payload.problem ?? null });
    } else if (current) {
      done.push({ feed: payload.feed, ...current, attempts: current.attempts + payload.attempts, to: ts });
      open.delete(payload.feed);
    }
  }
  for (const [feed, current] of open) done.push({ feed, ...current, to: null });
  return done
    .filter((o) => o.from < to && (o.to === null || o.to > from))
    .sort((a, b) => a.from - b.from || (a.feed < b.feed ? -1 : 1));
}

function reachabilityRecords(db: Database.Database): { ts: EpochMs; payload: FeedReachability }[] {
  if (!hasInputLog(db)) return [];
  return inputRecordsOf(db, "feed_reachability").map((r) => ({
    ts: r.ts,
    payload: JSON.parse(r.payload) as FeedReachability,
  }));
}
