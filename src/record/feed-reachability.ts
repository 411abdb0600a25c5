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
  /**
   * For `readable`: the entries of the reading the agent left out, one line each naming the entry
   * and why (an unmapped component, a malformed entry); absent when none. A readable record is
   * also written when this list changes, so the log says from when each entry was left out.
   */
  readonly left_out?: readonly string[];
  /**
   * For `readable`: the well-formed entries among left_out (no component mapped) with their
   * schedule; absent when none. Mapped later, such an entry is first seen when the log first
   * listed it here with the same schedule (FeedWindowLedger.observe).
   */
  readonly left_out_windows?: readonly LeftOutWindow[];
}

/** A provider's entry left out of a readable reading, with the schedule it had. */
export interface LeftOutWindow {
  readonly provider_id: string;
  readonly start: EpochMs;
  readonly end: EpochMs;
}

/** An entry of a readable feed that the agent left out, and from when the log says so. */
export interface FeedLeftOut {
  readonly feed: string;
  readonly entry: string;
  readonly from: EpochMs;
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

/** The entries the feed's newest readable (or stopped) record says were left out; none when none. */
export function latestLeftOut(
  db: Database.Database,
  feed: string,
): Pick<FeedReachability, "left_out" | "left_out_windows"> {
  let leftOut: Pick<FeedReachability, "left_out" | "left_out_windows"> = {};
  for (const { payload } of reachabilityRecords(db))
    if (payload.feed === feed && payload.state !== "unreadable")
      leftOut = {
        ...(payload.left_out ? { left_out: payload.left_out } : {}),
        ...(payload.left_out_windows ? { left_out_windows: payload.left_out_windows } : {}),
      };
  return leftOut;
}

/**
 * For each entry that the newest readable record of some feed lists as left out, when the log began
 * listing it (with the same schedule) without a break: keyed by leftOutKey.
 */
export function leftOutSince(db: Database.Database): Map<string, EpochMs> {
  const byFeed = new Map<string, Map<string, EpochMs>>();
  for (const { ts, payload } of reachabilityRecords(db)) {
    if (payload.state === "unreadable") continue;
    const before = byFeed.get(payload.feed) ?? new Map<string, EpochMs>();
    const now = new Map<string, EpochMs>();
    for (const w of payload.left_out_windows ?? []) now.set(leftOutKey(w), before.get(leftOutKey(w)) ?? ts);
    byFeed.set(payload.feed, now);
  }
  const since = new Map<string, EpochMs>();
  for (const entries of byFeed.values())
    for (const [key, ts] of entries) since.set(key, Math.min(ts, since.get(key) ?? ts));
  return since;
}

/** An entry's key in leftOutSince: its provider id and schedule. */
export function leftOutKey(w: LeftOutWindow): string {
  return JSON.stringify([w.provider_id, w.start, w.end]);
}

/**
 * The entries left out while [from, to) (each feed's list in force at `from` and each one recorded
 * before `to`), each feed and entry once, with the time of the record that first listed it.
 */
export function feedLeftOut(db: Database.Database, from: EpochMs, to: EpochMs): FeedLeftOut[] {
  const current = new Map<string, Map<string, EpochMs>>();
  const shown = new Map<string, FeedLeftOut>();
  const show = (feed: string) => {
    for (const [entry, since] of current.get(feed) ?? [])
      if (!shown.has(`${feed}\u0000${entry}`))
        shown.set(`${feed}\u0000${entry}`, { feed, entry, from: since });
  };
  for (const { ts, payload } of reachabilityRecords(db)) {
    if (ts >= to) break;
    if (payload.state === "unreadable") continue;
    const before = current.get(payload.feed) ?? new Map<string, EpochMs>();
    if (ts > from) show(payload.feed);
    current.set(payload.feed, new Map((payload.left_out ?? []).map((e) => [e, before.get(e) ?? ts])));
  }
  for (const feed of current.keys()) show(feed);
  return [...shown.values()].sort((a, b) => a.from - b.from || (a.entry < b.entry ? -1 : 1));
}

function reachabilityRecords(db: Database.Database): { ts: EpochMs; payload: FeedReachability }[] {
  if (!hasInputLog(db)) return [];
  return inputRecordsOf(db, "feed_reachability").map((r) => ({
    ts: r.ts,
    payload: JSON.parse(r.payload) as FeedReachability,
  }));
}
