import type { EpochMs } from "../model/time.js";

/** Labels every agent alert carries (contract section 9), plus a few that tell alerts apart. */
export type AlertLabels = Readonly<Record<string, string>> & {
  readonly alertname: string;
  readonly category: string;
  readonly service_class: string;
  readonly region: string;
  readonly severity: string;
};

export interface AlertAnnotations {
  readonly summary: string;
  readonly description: string;
  /** Absent without alerting.runbook_base_url. */
  readonly runbook_url?: string;
  /** What to check: the vendor error codes that burn the budget and what each one asks for. */
  readonly hints?: string;
}

/** A condition that holds at one evaluation: the input of the state machine. */
export interface AlertCondition {
  /** Identity of the alert across evaluations: its labels, sorted. */
  readonly key: string;
  readonly labels: AlertLabels;
  readonly annotations: AlertAnnotations;
  /** The qualifying maintenance window that mutes it right now, or null. */
  readonly inhibitedBy: string | null;
}

export type AlertState = "pending" | "firing" | "resolved";

/** One alert's episode as the state machine tracks it (persisted, so a restart resumes it). */
export interface AgentAlert {
  readonly key: string;
  readonly labels: AlertLabels;
  readonly annotations: AlertAnnotations;
  readonly state: AlertState;
  /** When the condition started to hold (the episode's startsAt). */
  readonly activeAt: EpochMs;
  readonly firedAt: EpochMs | null;
  readonly resolvedAt: EpochMs | null;
  /** When the last firing notification (first or reminder) was queued; null while none was. */
  readonly notifiedAt: EpochMs | null;
  readonly inhibitedBy: string | null;
}

/** One alert as a notification carries it: firing, or resolved with the figures at resolution. */
export interface NotifiedAlert {
  readonly key: string;
  readonly status: "firing" | "resolved";
  readonly labels: AlertLabels;
  readonly annotations: AlertAnnotations;
  readonly startsAt: EpochMs;
  /** When it resolved; null while firing. */
  readonly endsAt: EpochMs | null;
}

/**
 * What is queued for every receiver when a group of alerts (one category and severity) is first
 * notified, changes, is reminded of, or resolves. `labels`, `annotations` are the group's headline
 * alert (its first firing one, else its first resolved one); `alerts` lists them all.
 */
export interface AlertNotification {
  /** The group's identity (its category and severity), or an alert's in notifications queued before grouping. */
  readonly key: string;
  /** firing while any alert of the group fires; resolved when all that were notified have resolved. */
  readonly status: "firing" | "resolved";
  /** A repeat of a firing notification (repeat_interval); a newer one replaces an undelivered one. */
  readonly reminder: boolean;
  readonly labels: AlertLabels;
  readonly annotations: AlertAnnotations;
  /** When the group's episode began: the same for its first, later and resolved notifications. */
  readonly startsAt: EpochMs;
  /** When the group resolved; null while firing. */
  readonly endsAt: EpochMs | null;
  /** When it was produced. */
  readonly at: EpochMs;
  /** Every alert of the group, firing ones first. Absent in notifications queued before grouping. */
  readonly alerts?: readonly NotifiedAlert[];
}

/** The alerts a notification carries: its list, or the one alert of a notification queued before grouping. */
export function alertsOf(n: AlertNotification): readonly NotifiedAlert[] {
  return (
    n.alerts ?? [
      {
        key: n.key,
        status: n.status,
        labels: n.labels,
        annotations: n.annotations,
        startsAt: n.startsAt,
        endsAt: n.endsAt,
      },
    ]
  );
}

/** The identity of an alert: its labels in name order. */
export function alertKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
