import type Database from "better-sqlite3";
import type { CategoryScope, FeedWindow, WindowVersion } from "../model/config.js";
import type { EpochMs } from "../model/time.js";

/** A feed window as read now, before the store knows when it was first seen. */
export interface FeedWindowReading extends Omit<FeedWindow, "firstSeenAt" | "cancelledAt"> {
  /** The provider called the window off (see parseScheduledMaintenances). */
  readonly cancelled: boolean;
  /** SHA-256 (hex) of the canonical form of the provider's entry. */
  readonly digest: string;
}

export interface FeedObservation {
  /** Provider ids seen for the first time. */
  readonly added: readonly string[];
  /** Provider ids whose entry changed since last seen. */
  readonly changed: readonly string[];
}

interface Row {
  provider_id: string;
  name: string;
  start: number;
  end: number;
  provider_created_at: number;
  first_seen_at: number;
  categories: string;
  last_digest: string;
  /** Absent in a store not yet migrated (read-only). */
  cancelled_at?: number | null;
}

/**
 * The windows of the maintenance feed (outside the hash chain). first_seen_at is written once;
 * later readings update the schedule, name, categories and digest, never the first sighting.
 * cancelled_at is when a reading first showed the window cancelled (cleared if reinstated).
 */
export class FeedWindowLedger {
  readonly #db: () => Database.Database;

  constructor(db: () => Database.Database) {
    this.#db = db;
  }

  observe(readings: readonly FeedWindowReading[], now: EpochMs): FeedObservation {
    const db = this.#db();
    const find = db.prepare("SELECT last_digest FROM feed_windows WHERE provider_id = ?");
    const insert = db.prepare(
      `INSERT INTO feed_windows (provider_id, name, start, end, provider_created_at, first_seen_at,
         last_seen_at, categories, last_digest, cancelled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const update = db.prepare(
      `UPDATE feed_windows SET name = ?, start = ?, end = ?, provider_created_at = ?, last_seen_at = ?,
         categories = ?, last_digest = ?,
         cancelled_at = CASE WHEN ? THEN coalesce(cancelled_at, ?) ELSE NULL END WHERE provider_id = ?`,
    );
    const added: string[] = [];
    const changed: string[] = [];
    db.transaction(() => {
      for (const r of readings) {
        const categories = JSON.stringify(r.categories);
        const row = find.get(r.providerId) as { last_digest: string } | undefined;
        appendWindowVersion(db, r, now);
        if (row === undefined) {
          insert.run(
            r.providerId,
            r.name,
            r.start,
            r.end,
            r.providerCreatedAt,
            now,
            now,
            categories,
            r.digest,
            r.cancelled ? now : null,
          );
          added.push(r.providerId);
          continue;
        }
        if (row.last_digest !== r.digest) changed.push(r.providerId);
        update.run(
          r.name,
          r.start,
          r.end,
          r.providerCreatedAt,
          now,
          categories,
          r.digest,
          r.cancelled ? 1 : 0,
          now,
          r.providerId,
        );
      }
    }).immediate();
    return { added, changed };
  }

  /** Every window the feed ever showed, in start order, each with the versions observed. */
  all(): FeedWindow[] {
    const db = this.#db();
    // A read-only store written by an older agent has no such table: no feed windows.
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    if (table.get("feed_windows") === undefined) return [];
    const rows = db.prepare("SELECT * FROM feed_windows ORDER BY start, provider_id").all() as Row[];
    const history = table.get("feed_window_history") === undefined ? null : versionsById(db);
    return rows.map((r) => ({
      ...(history?.has(r.provider_id) ? { history: history.get(r.provider_id)! } : {}),
      providerId: r.provider_id,
      name: r.name,
      start: r.start,
      end: r.end,
      providerCreatedAt: r.provider_created_at,
      firstSeenAt: r.first_seen_at,
      categories: JSON.parse(r.categories) as CategoryScope,
      ...(r.cancelled_at ? { cancelledAt: r.cancelled_at } : {}),
    }));
  }
}

/**
 * Appends the window as read now to its history when its schedule, scope or status differs from
 * the last version kept (append-only: a version is never updated). Called for every reading.
 */
export function appendWindowVersion(db: Database.Database, r: FeedWindowReading, now: EpochMs): void {
  const last = db
    .prepare(
      "SELECT start, end, categories, status FROM feed_window_history WHERE provider_id = ? ORDER BY seen_at DESC LIMIT 1",
    )
    .get(r.providerId) as { start: number; end: number; categories: string; status: string } | undefined;
  const categories = JSON.stringify(r.categories);
  const status = r.cancelled ? "cancelled" : "scheduled";
  if (
    last &&
    last.start === r.start &&
    last.end === r.end &&
    last.categories === categories &&
    last.status === status
  ) {
    return;
  }
  db.prepare(
    "INSERT OR IGNORE INTO feed_window_history (provider_id, seen_at, start, end, categories, status) VALUES (?, ?, ?, ?, ?, ?)",
  ).run(r.providerId, now, r.start, r.end, categories, status);
}

/** Each window's scheduled versions, oldest first (a cancellation is judged by cancelled_at instead). */
function versionsById(db: Database.Database): Map<string, WindowVersion[]> {
  const rows = db
    .prepare(
      "SELECT provider_id, seen_at, start, end, categories FROM feed_window_history WHERE status = 'scheduled' ORDER BY provider_id, seen_at",
    )
    .all() as { provider_id: string; seen_at: number; start: number; end: number; categories: string }[];
  const byId = new Map<string, WindowVersion[]>();
  for (const row of rows) {
    const list = byId.get(row.provider_id) ?? [];
    list.push({
      seenAt: row.seen_at,
      start: row.start,
      end: row.end,
      categories: JSON.parse(row.categories) as CategoryScope,
    });
    byId.set(row.provider_id, list);
  }
  return byId;
}
