import type { EpochMs } from "../model/time.js";
import type { AgentAlert, AlertAnnotations, AlertCondition, AlertNotification } from "./types.js";

export interface AlertMachineOptions {
  /** How long a condition must hold before its alert fires. */
  readonly forMs: number;
  /** How often a firing alert is notified again. */
  readonly repeatIntervalMs: number;
  /** How long a resolved alert stays listed (on /alerts) before it is forgotten. Default 1 h. */
  readonly keepResolvedMs?: number;
  /** Alerts of a previous run (persisted), so a restart neither repeats nor loses a transition. */
  readonly restored?: readonly AgentAlert[];
}

export interface Evaluation {
  /** In the order they must be delivered. */
  readonly notifications: readonly AlertNotification[];
  /** Whether any alert changed (so the persisted state needs writing). */
  readonly changed: boolean;
}

const DEFAULT_KEEP_RESOLVED_MS = 3_600_000;

/**
 * Pending -> firing -> resolved, per alert identity (its labels), on the times it is given:
 * a condition must hold `forMs` before it fires; a firing alert is notified once and again
 * every `repeatIntervalMs`; a firing alert whose condition is gone resolves, once. While a
 * qualifying maintenance window inhibits it an alert still moves through its states but is not
 * notified; a firing alert never notified resolves silently.
 */
export class AlertStateMachine {
  #options: AlertMachineOptions;
  readonly #alerts = new Map<string, AgentAlert>();

  constructor(options: AlertMachineOptions) {
    this.#options = options;
    for (const alert of options.restored ?? []) this.#alerts.set(alert.key, alert);
  }

  /** New timings from a reloaded configuration; every alert keeps its state and times. */
  retime(timing: Pick<AlertMachineOptions, "forMs" | "repeatIntervalMs">): void {
    this.#options = { ...this.#options, forMs: timing.forMs, repeatIntervalMs: timing.repeatIntervalMs };
  }

  /** The alerts listed now: pending, firing, and recently resolved, oldest first. */
  alerts(): AgentAlert[] {
    return [...this.#alerts.values()].sort((a, b) => a.activeAt - b.activeAt || (a.key < b.key ? -1 : 1));
  }

  /** `resolution` gives a resolving alert's annotations (the figures at resolution); default: kept. */
  evaluate(
    conditions: readonly AlertCondition[],
    now: EpochMs,
    resolution: (alert: AgentAlert) => AlertAnnotations = (alert) => alert.annotations,
  ): Evaluation {
    const holding = new Map(conditions.map((c) => [c.key, c]));
    const notifications: AlertNotification[] = [];
    let changed = false;
    const put = (next: AgentAlert | null, key: string) => {
      changed = true;
      if (next === null) this.#alerts.delete(key);
      else this.#alerts.set(key, next);
    };
    for (const [key, alert] of [...this.#alerts]) {
      if (holding.has(key)) continue;
      if (alert.state === "pending") put(null, key);
      else if (alert.state === "firing") {
        const resolved: AgentAlert = {
          ...alert,
          annotations: resolution(alert),
          state: "resolved",
          resolvedAt: now,
          inhibitedBy: null,
        };
        put(resolved, key);
        if (alert.notifiedAt !== null) notifications.push(notification(resolved, "resolved", false, now));
      } else if (
        now - (alert.resolvedAt ?? now) >=
        (this.#options.keepResolvedMs ?? DEFAULT_KEEP_RESOLVED_MS)
      ) {
        put(null, key);
      }
    }
    for (const condition of conditions) {
      const before = this.#alerts.get(condition.key);
      const { alert, notify } = this.#step(before, condition, now);
      if (alert !== before) put(alert, condition.key);
      if (notify) notifications.push(notification(alert, "firing", notify === "reminder", now));
    }
    return { notifications, changed };
  }

  #step(
    before: AgentAlert | undefined,
    condition: AlertCondition,
    now: EpochMs,
  ): { alert: AgentAlert; notify: "first" | "reminder" | null } {
    const fresh = before === undefined || before.state === "resolved";
    let alert: AgentAlert = fresh
      ? {
          key: condition.key,
          labels: condition.labels,
          annotations: condition.annotations,
          state: "pending",
          activeAt: now,
          firedAt: null,
          resolvedAt: null,
          notifiedAt: null,
          inhibitedBy: condition.inhibitedBy,
        }
      : before;
    if (
      !fresh &&
      (alert.inhibitedBy !== condition.inhibitedBy ||
        alert.annotations.summary !== condition.annotations.summary)
    ) {
      alert = { ...alert, inhibitedBy: condition.inhibitedBy, annotations: condition.annotations };
    }
    if (alert.state === "pending" && now - alert.activeAt >= this.#options.forMs) {
      alert = { ...alert, state: "firing", firedAt: now };
    }
    if (alert.state !== "firing" || alert.inhibitedBy !== null) return { alert, notify: null };
    if (alert.notifiedAt === null) return { alert: { ...alert, notifiedAt: now }, notify: "first" };
    if (now - alert.notifiedAt >= this.#options.repeatIntervalMs) {
      return { alert: { ...alert, notifiedAt: now }, notify: "reminder" };
    }
    return { alert, notify: null };
  }
}

function notification(
  alert: AgentAlert,
  status: "firing" | "resolved",
  reminder: boolean,
  at: EpochMs,
): AlertNotification {
  return {
    key: alert.key,
    status,
    reminder,
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: alert.activeAt,
    endsAt: status === "resolved" ? at : null,
    at,
  };
}
