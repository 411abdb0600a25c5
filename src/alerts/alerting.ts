import type { Dispatcher } from "undici";
import type { Clock } from "../clock/clock.js";
import type { SloConfig } from "../model/config.js";
import { DAY_MS } from "../model/time.js";
import { describeWriteError, type NotificationLedger } from "../record/index.js";
import { type AlertInput, alertConditions } from "./conditions.js";
import { type AlertGroup, AlertGroups, type GroupTiming, groupKeyOf } from "./grouping.js";
import { AlertStateMachine } from "./machine.js";
import { AlertOutbox, type DeliveryResult } from "./outbox.js";
import { createReceiver } from "./receivers/index.js";
import { resolvedAnnotations } from "./resolution.js";
import type { AgentAlert, AlertNotification, NotifiedAlert } from "./types.js";

export interface AgentAlertingOptions {
  readonly config: SloConfig;
  readonly clock: Clock;
  readonly ledger: NotificationLedger;
  readonly dispatcher: Dispatcher;
  /** Uniform in [0, 1), for retry jitter. */
  readonly random: () => number;
  readonly log: (level: "info" | "warn" | "error", message: string) => void;
  /** The agent's /alerts URL, once it listens. */
  readonly generatorUrl: () => string;
  /** Retry delays (tests shorten them). */
  readonly baseRetryMs?: number;
  readonly maxRetryMs?: number;
}

/** What /alerts and the alert metrics show. */
export interface AlertingView {
  readonly alerts: readonly AgentAlert[];
  /** Undelivered notifications per configured receiver (0 included). */
  readonly queueDepth: ReadonlyMap<string, number>;
  /** Delivery attempts since start, per receiver and result. */
  readonly deliveries: ReadonlyMap<string, Readonly<Record<DeliveryResult, number>>>;
}

const KEEP_DELIVERED_MS = 7 * DAY_MS;

/**
 * The agent's own alerting: conditions from each SLO snapshot -> state machine -> notifications
 * queued in the evidence store -> receivers. States and queue survive a restart.
 */
export class AgentAlerting {
  readonly #options: AgentAlertingOptions;
  /** The configuration in force: the start-up one until a reload hands over another. */
  #config: SloConfig;
  readonly #machine: AlertStateMachine;
  readonly #groups: AlertGroups;
  readonly #outbox: AlertOutbox;
  readonly #deliveries = new Map<string, Record<DeliveryResult, number>>();
  #storeError: string | null = null;
  /** Notifications made while the store could not take them, in order, and whether states wait too. */
  #unstored: AlertNotification[] = [];
  #statesUnstored = false;
  /** The queue depths last read, shown while the store cannot be read. */
  #depth = new Map<string, number>();

  constructor(options: AgentAlertingOptions) {
    this.#options = options;
    const { config, ledger } = options;
    this.#config = config;
    const receivers = this.#receiversOf(config);
    for (const r of receivers) this.#deliveries.set(r.id, { success: 0, failure: 0 });
    const stored = ledger.loadStates();
    const restored = stored.alerts.map((json) => JSON.parse(json) as AgentAlert);
    this.#machine = new AlertStateMachine({
      forMs: config.alerting.forMs,
      repeatIntervalMs: config.alerting.repeatIntervalMs,
      restored,
    });
    this.#groups = new AlertGroups(
      timingOf(config),
      stored.groups.length > 0
        ? stored.groups.map((json) => JSON.parse(json) as AlertGroup)
        : groupsBeforeGrouping(restored),
    );
    this.#outbox = new AlertOutbox({
      ledger,
      receivers,
      clock: options.clock,
      random: options.random,
      log: options.log,
      generatorUrl: options.generatorUrl,
      firing: () => this.#firing(),
      onDelivery: (receiver, result) => {
        const counts = this.#deliveries.get(receiver);
        if (counts) counts[result]++;
      },
      ...(options.baseRetryMs === undefined ? {} : { baseRetryMs: options.baseRetryMs }),
      ...(options.maxRetryMs === undefined ? {} : { maxRetryMs: options.maxRetryMs }),
    });
  }

  /**
   * Takes a reloaded configuration: its conditions and thresholds, `for` and `repeat_interval`,
   * and receivers. Alert states and the queue are kept (see AlertOutbox.setReceivers). Throws,
   * changing nothing, when a receiver is invalid.
   */
  reconfigure(config: SloConfig): void {
    const receivers = this.#receiversOf(config);
    this.#config = config;
    this.#machine.retime({
      forMs: config.alerting.forMs,
      repeatIntervalMs: config.alerting.repeatIntervalMs,
    });
    this.#groups.retime(timingOf(config));
    const ids = new Set(receivers.map((r) => r.id));
    const added = [...ids].filter((id) => !this.#deliveries.has(id));
    for (const id of this.#deliveries.keys()) if (!ids.has(id)) this.#deliveries.delete(id);
    for (const id of added) this.#deliveries.set(id, { success: 0, failure: 0 });
    this.#outbox.setReceivers(receivers);
    this.#tellAdded(added);
  }

  /** A receiver added by a reload is told what is firing, as Alertmanager tells a new route. */
  #tellAdded(added: readonly string[]): void {
    const firing = this.#groups.firing(this.#machine.alerts(), this.#options.clock.now());
    if (added.length === 0 || firing.length === 0) return;
    const rows = this.#outbox.rowsOf(firing).filter((row) => added.includes(row.receiver));
    try {
      this.#options.ledger.commit(null, rows, this.#options.clock.now());
    } catch (error) {
      this.#storeTrouble(error, rows.length);
      this.#options.log("warn", `alerts: receivers ${added.join(", ")} were not told what is firing`);
      return;
    }
    this.#outbox.pump();
  }

  /** Starts delivering what a previous run left queued. */
  start(): void {
    try {
      this.#options.ledger.pruneDelivered(this.#options.clock.now() - KEEP_DELIVERED_MS);
    } catch (error) {
      // Delivered rows only: they are pruned at the next start.
      this.#storeTrouble(error, 0);
    }
    this.#outbox.pump();
  }

  /**
   * One evaluation at input.snapshot.at: state changes and their notifications are stored in one
   * transaction before anything is sent. When the store cannot take them (disk full, another
   * writer holding the lock), they wait here, in order, and every later evaluation stores them with
   * its own: no alert counts as notified in the store without its notification queued beside it.
   */
  evaluate(input: AlertInput): void {
    const now = input.snapshot.at;
    const config = this.#config;
    const transitions = this.#machine.evaluate(alertConditions(config, input), now, (alert) =>
      resolvedAnnotations(config, input, alert.labels, alert.annotations),
    );
    const resolvedNow: NotifiedAlert[] = [];
    for (const n of transitions.notifications) {
      if (n.reminder) continue;
      if (n.status === "resolved") {
        const { key, status, labels, annotations, startsAt, endsAt } = n;
        resolvedNow.push({ key, status, labels, annotations, startsAt, endsAt });
      }
      this.#options.log(
        n.status === "resolved" ? "info" : "warn",
        `alert ${n.status}: ${n.labels.alertname} ${n.labels.category}: ${n.annotations.summary}`,
      );
    }
    const grouped = this.#groups.step(this.#machine.alerts(), resolvedNow, now);
    for (const n of grouped.notifications) {
      const counts = countsOf(n);
      this.#options.log(
        "info",
        `alerts: notifying ${n.labels.category} (${n.labels.severity}) ${n.status}${n.reminder ? " again" : ""}: ${counts}`,
      );
    }
    this.#unstored.push(...grouped.notifications);
    if (transitions.changed || grouped.changed) this.#statesUnstored = true;
    if (this.#statesUnstored) this.#store();
    this.#outbox.pump();
  }

  /** Writes the alert states and the notifications not yet stored, together; keeps them on failure. */
  #store(): void {
    try {
      this.#options.ledger.commit(
        {
          alerts: this.#machine.alerts().map((a) => ({ key: a.key, json: JSON.stringify(a) })),
          groups: this.#groups.groups().map((g) => ({ key: g.key, json: JSON.stringify(g) })),
        },
        this.#outbox.rowsOf(this.#unstored),
        this.#options.clock.now(),
      );
    } catch (error) {
      this.#storeTrouble(error, this.#unstored.length);
      return;
    }
    this.#unstored = [];
    this.#statesUnstored = false;
    this.#storeWorks();
  }

  #storeTrouble(error: unknown, waiting: number): void {
    const text = describeWriteError(error);
    if (text === this.#storeError) return;
    this.#storeError = text;
    this.#options.log(
      "warn",
      `alerts: the evidence store cannot record alert states (${text}); ${waiting} notifications wait in memory and are stored at the next evaluation that can`,
    );
  }

  #storeWorks(): void {
    if (this.#storeError === null) return;
    this.#storeError = null;
    this.#options.log("info", "alerts: the evidence store records alert states again");
  }

  view(): AlertingView {
    try {
      this.#depth = this.#options.ledger.depth();
    } catch {
      // Keep the last depths: /metrics and /alerts must answer while the store is in trouble.
    }
    const depth = this.#depth;
    return {
      alerts: this.#machine.alerts(),
      queueDepth: new Map([...this.#deliveries.keys()].map((id) => [id, depth.get(id) ?? 0])),
      deliveries: this.#deliveries,
    };
  }

  /**
   * Queues a notice that is not an alert (no state: a scheduled report written) for some receivers,
   * delivered like any notification. Throws when the store cannot take it now; the caller retries.
   */
  announce(notice: AlertNotification, receivers: readonly string[]): void {
    const rows = this.#outbox.rowsOf([notice]).filter((row) => receivers.includes(row.receiver));
    this.#options.ledger.commit(null, rows, this.#options.clock.now());
    this.#outbox.pump();
  }

  /** Whether a notice (or notification) was queued under this key, see announce. */
  announced(key: string): boolean {
    return this.#options.ledger.hasQueued(key);
  }

  /** Resolves when no delivery round is running. */
  idle(): Promise<void> {
    return this.#outbox.idle();
  }

  close(): Promise<void> {
    return this.#outbox.close();
  }

  #receiversOf(config: SloConfig) {
    const receivers = config.alerting.receivers.map((spec) => createReceiver(spec, this.#options.dispatcher));
    const problems = receivers.flatMap((r) => r.validate());
    if (problems.length > 0) throw new Error(problems.join("; "));
    return receivers;
  }

  #firing(): AlertNotification[] {
    return this.#machine
      .alerts()
      .filter((a) => a.state === "firing" && a.notifiedAt !== null && a.inhibitedBy === null)
      .map((a) => ({
        key: a.key,
        status: "firing",
        reminder: true,
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.activeAt,
        endsAt: null,
        at: this.#options.clock.now(),
      }));
  }
}

function timingOf(config: SloConfig): GroupTiming {
  const { groupWaitMs, groupIntervalMs, repeatIntervalMs } = config.alerting;
  return { groupWaitMs, groupIntervalMs, repeatIntervalMs };
}

function countsOf(n: AlertNotification): string {
  const alerts = n.alerts ?? [];
  const firing = alerts.filter((a) => a.status === "firing").length;
  return `${firing} firing, ${alerts.length - firing} resolved`;
}

/**
 * A store written before grouping has alert states but no groups: the alerts it notified count as
 * announced in their groups, so an upgrade neither repeats them nor forgets to resolve them.
 */
function groupsBeforeGrouping(alerts: readonly AgentAlert[]): AlertGroup[] {
  const groups = new Map<string, AlertGroup>();
  for (const a of alerts) {
    if (a.state !== "firing" || a.notifiedAt === null) continue;
    const key = groupKeyOf(a.labels);
    const seen = groups.get(key);
    groups.set(key, {
      key,
      category: a.labels.category,
      severity: a.labels.severity,
      startedAt: Math.min(seen?.startedAt ?? a.activeAt, a.activeAt),
      notifiedAt: Math.max(seen?.notifiedAt ?? a.notifiedAt, a.notifiedAt),
      announced: [...(seen?.announced ?? []), a.key],
      resolved: [],
    });
  }
  return [...groups.values()];
}
