import type Database from "better-sqlite3";
import type { EpochMs } from "../model/time.js";

/** A notification to queue for one receiver; `payload` is opaque JSON to the store. */
export interface NotificationToQueue {
  readonly receiver: string;
  readonly alertKey: string;
  readonly kind: "firing" | "reminder" | "resolved";
  readonly payload: string;
}

export interface QueuedNotification {
  readonly id: number;
  readonly receiver: string;
  readonly payload: string;
  readonly attempts: number;
  readonly nextAttemptAt: EpochMs;
}

/** Alert states and notification-group states, each as opaque JSON keyed by its identity. */
export interface AlertStates {
  readonly alerts: readonly { readonly key: string; readonly json: string }[];
  readonly groups: readonly { readonly key: string; readonly json: string }[];
}

/** Group states share alert_states with the alerts, under this key prefix (no schema change). */
const GROUP_PREFIX = "group\u0000";

/**
 * The alert notification queue and alert states in the evidence store's file (not in the hash
 * chain). Every change is one transaction, so a crash loses nothing that was acknowledged.
 */
export class NotificationLedger {
  readonly #db: () => Database.Database;

  constructor(db: () => Database.Database) {
    this.#db = db;
  }

  /** Appends in order; a reminder replaces an undelivered reminder of the same alert (no pile-up). */
  enqueue(notifications: readonly NotificationToQueue[], now: EpochMs): void {
    this.commit(null, notifications, now);
  }

  /**
   * Stores alert and group states (all of them, replacing the stored ones; null leaves them as they are) and
   * queues notifications in one transaction: either both are written or neither is, so an alert is
   * never recorded as notified without its notification queued. Throws (a SqliteError) when the
   * store is unwritable; the caller keeps its state and tries again.
   */
  commit(states: AlertStates | null, notifications: readonly NotificationToQueue[], now: EpochMs): void {
    if (states === null && notifications.length === 0) return;
    const db = this.#db();
    const dropReminder = db.prepare(
      "DELETE FROM notifications WHERE receiver = ? AND alert_key = ? AND kind = 'reminder' AND delivered_at IS NULL",
    );
    const insert = db.prepare(
      "INSERT INTO notifications (receiver, alert_key, kind, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    const insertAlert = db.prepare("INSERT INTO alert_states (alert_key, alert) VALUES (?, ?)");
    db.transaction(() => {
      if (states !== null) {
        db.prepare("DELETE FROM alert_states").run();
        for (const a of states.alerts) insertAlert.run(a.key, a.json);
        for (const g of states.groups) insertAlert.run(GROUP_PREFIX + g.key, g.json);
      }
      for (const n of notifications) {
        if (n.kind === "reminder") dropReminder.run(n.receiver, n.alertKey);
        insert.run(n.receiver, n.alertKey, n.kind, n.payload, now, now);
      }
    }).immediate();
  }

  /** The oldest undelivered notification of a receiver: the only one it may be sent. */
  head(receiver: string): QueuedNotification | null {
    const row = this.#db()
      .prepare(
        `SELECT id, receiver, payload, attempts, next_attempt_at AS nextAttemptAt FROM notifications
         WHERE receiver = ? AND delivered_at IS NULL ORDER BY id LIMIT 1`,
      )
      .get(receiver) as QueuedNotification | undefined;
    return row ?? null;
  }

  markDelivered(id: number, now: EpochMs): void {
    this.#db()
      .prepare("UPDATE notifications SET delivered_at = ?, last_error = NULL WHERE id = ?")
      .run(now, id);
  }

  /** Records a failed attempt: `attempts` failed so far, the next one not before nextAttemptAt. */
  markFailed(id: number, nextAttemptAt: EpochMs, error: string, attempts: number): void {
    this.#db()
      .prepare(
        "UPDATE notifications SET attempts = max(attempts, ?), next_attempt_at = ?, last_error = ? WHERE id = ?",
      )
      .run(attempts, nextAttemptAt, error, id);
  }

  /** Whether any notification (delivered or not, not yet pruned) was queued under this key. */
  hasQueued(alertKey: string): boolean {
    return (
      this.#db().prepare("SELECT 1 FROM notifications WHERE alert_key = ? LIMIT 1").get(alertKey) !==
      undefined
    );
  }

  /** Undelivered notifications per receiver. */
  depth(): Map<string, number> {
    const rows = this.#db()
      .prepare(
        "SELECT receiver, count(*) AS n FROM notifications WHERE delivered_at IS NULL GROUP BY receiver",
      )
      .all() as { receiver: string; n: number }[];
    return new Map(rows.map((r) => [r.receiver, r.n]));
  }

  /** Forgets delivered notifications older than `before` (undelivered ones are kept whatever their age). */
  pruneDelivered(before: EpochMs): number {
    return this.#db()
      .prepare("DELETE FROM notifications WHERE delivered_at IS NOT NULL AND delivered_at < ?")
      .run(before).changes;
  }

  /** The stored alert and group states (JSON), as the last commit left them. */
  loadStates(): { alerts: string[]; groups: string[] } {
    const rows = this.#db()
      .prepare("SELECT alert_key AS key, alert FROM alert_states ORDER BY alert_key")
      .all() as {
      key: string;
      alert: string;
    }[];
    return {
      alerts: rows.filter((r) => !r.key.startsWith(GROUP_PREFIX)).map((r) => r.alert),
      groups: rows.filter((r) => r.key.startsWith(GROUP_PREFIX)).map((r) => r.alert),
    };
  }
}
