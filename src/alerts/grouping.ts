import type { EpochMs } from "../model/time.js";
import { type AgentAlert, type AlertNotification, alertKey, type NotifiedAlert } from "./types.js";

export interface GroupTiming {
  /** How long a new group waits before its first notification. */
  readonly groupWaitMs: number;
  /** How long after a group's last notification a change in it is notified. */
  readonly groupIntervalMs: number;
  /** How often an unchanged firing group is notified again. */
  readonly repeatIntervalMs: number;
}

/** One group's notification state (persisted with the alert states, so a restart resumes it). */
export interface AlertGroup {
  readonly key: string;
  readonly category: string;
  readonly severity: string;
  /** When the group's episode began: its first alert fired. */
  readonly startedAt: EpochMs;
  /** When it was last notified; null before its first notification. */
  readonly notifiedAt: EpochMs | null;
  /** Alerts notified as firing that have not resolved since. */
  readonly announced: readonly string[];
  /** Announced alerts that resolved since the last notification, with the figures at resolution. */
  readonly resolved: readonly NotifiedAlert[];
}

export interface GroupStep {
  /** In the order they must be delivered. */
  readonly notifications: readonly AlertNotification[];
  /** Whether any group changed (so the persisted state needs writing). */
  readonly changed: boolean;
}

/** Alerts are grouped per category and severity: one outage of one category, one page. */
export function groupKeyOf(labels: { readonly category: string; readonly severity: string }): string {
  return alertKey({ category: labels.category, severity: labels.severity });
}

/**
 * Alertmanager's grouping with its default timings, over the state machine's alerts: a group's
 * first notification waits `group_wait` after its first alert fires, so alerts firing together
 * arrive in one; a change (an alert firing or resolving) is notified `group_interval` after the
 * group's last notification; an unchanged firing group is notified again every `repeat_interval`.
 * Every notification carries all the group's firing alerts and those resolved since the last one;
 * it is `resolved` once every alert it announced has resolved, and the group's episode ends there.
 * An alert that fires and resolves before its group was notified is never sent.
 */
export class AlertGroups {
  #timing: GroupTiming;
  readonly #groups = new Map<string, AlertGroup>();

  constructor(timing: GroupTiming, restored: readonly AlertGroup[] = []) {
    this.#timing = timing;
    for (const group of restored) this.#groups.set(group.key, group);
  }

  retime(timing: GroupTiming): void {
    this.#timing = timing;
  }

  groups(): AlertGroup[] {
    return [...this.#groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * One step at `now`: `alerts` are the state machine's alerts after its evaluation, `resolvedNow`
   * the alerts it resolved at that evaluation (with their figures at resolution).
   */
  step(alerts: readonly AgentAlert[], resolvedNow: readonly NotifiedAlert[], now: EpochMs): GroupStep {
    let changed = false;
    for (const r of resolvedNow) {
      const group = this.#groups.get(groupKeyOf(r.labels));
      if (group === undefined || !group.announced.includes(r.key)) continue;
      this.#groups.set(group.key, {
        ...group,
        announced: group.announced.filter((k) => k !== r.key),
        resolved: [...group.resolved, r],
      });
      changed = true;
    }
    const firing = firingByGroup(alerts);
    const notifications: AlertNotification[] = [];
    for (const key of new Set([...this.#groups.keys(), ...firing.keys()])) {
      const members = firing.get(key) ?? [];
      const before = this.#groups.get(key);
      if (before === undefined && members.length === 0) continue;
      const group = before ?? newGroup(key, members, now);
      if (before === undefined) changed = true;
      if (group.notifiedAt === null && members.length === 0) {
        // Everything resolved (or was muted) before the group was notified: nothing to say.
        this.#groups.delete(key);
        changed = true;
        continue;
      }
      this.#groups.set(key, group);
      const due = this.#due(group, members, now);
      if (due === null) continue;
      notifications.push(groupNotification(group, members, due === "reminder", now));
      changed = true;
      const announced = [...new Set([...group.announced, ...members.map((a) => a.key)])];
      if (members.length === 0 && announced.length === 0) this.#groups.delete(key);
      else this.#groups.set(key, { ...group, notifiedAt: now, announced, resolved: [] });
    }
    return { notifications, changed };
  }

  /** Every notified group's firing alerts now, as a first notification (for a receiver added by reload). */
  firing(alerts: readonly AgentAlert[], now: EpochMs): AlertNotification[] {
    const firing = firingByGroup(alerts);
    return this.groups().flatMap((group) => {
      const members = (firing.get(group.key) ?? []).filter((a) => group.announced.includes(a.key));
      if (group.notifiedAt === null || members.length === 0) return [];
      return [groupNotification({ ...group, resolved: [] }, members, false, now)];
    });
  }

  #due(
    group: AlertGroup,
    members: readonly AgentAlert[],
    now: EpochMs,
  ): "first" | "change" | "reminder" | null {
    const { groupWaitMs, groupIntervalMs, repeatIntervalMs } = this.#timing;
    if (group.notifiedAt === null) return now - group.startedAt >= groupWaitMs ? "first" : null;
    const since = now - group.notifiedAt;
    const changedSince = group.resolved.length > 0 || members.some((a) => !group.announced.includes(a.key));
    if (changedSince) return since >= groupIntervalMs ? "change" : null;
    return members.length > 0 && since >= repeatIntervalMs ? "reminder" : null;
  }
}

/** Firing alerts that are not muted, by group, oldest first. */
function firingByGroup(alerts: readonly AgentAlert[]): Map<string, AgentAlert[]> {
  const byGroup = new Map<string, AgentAlert[]>();
  for (const a of alerts) {
    if (a.state !== "firing" || a.inhibitedBy !== null) continue;
    const key = groupKeyOf(a.labels);
    byGroup.set(key, [...(byGroup.get(key) ?? []), a]);
  }
  return byGroup;
}

function newGroup(key: string, members: readonly AgentAlert[], now: EpochMs): AlertGroup {
  const first = members[0]!;
  return {
    key,
    category: first.labels.category,
    severity: first.labels.severity,
    startedAt: Math.min(now, ...members.map((a) => a.firedAt ?? now)),
    notifiedAt: null,
    announced: [],
    resolved: [],
  };
}

function groupNotification(
  group: AlertGroup,
  members: readonly AgentAlert[],
  reminder: boolean,
  now: EpochMs,
): AlertNotification {
  const alerts: NotifiedAlert[] = [
    ...members.map((a) => ({
      key: a.key,
      status: "firing" as const,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.activeAt,
      endsAt: null,
    })),
    ...group.resolved,
  ];
  const headline = alerts[0]!;
  const resolved = members.length === 0;
  return {
    key: group.key,
    status: resolved ? "resolved" : "firing",
    reminder,
    labels: headline.labels,
    annotations: headline.annotations,
    startsAt: group.startedAt,
    endsAt: resolved ? now : null,
    at: now,
    alerts,
  };
}
