import type { Clock, TimerHandle } from "../clock/clock.js";
import type { EpochMs } from "../model/time.js";
import type { NotificationLedger } from "../record/index.js";
import {
  type DeliveryContext,
  DeliveryError,
  type OutgoingNotification,
  type Receiver,
} from "./receivers/index.js";
import type { AlertNotification } from "./types.js";

export type DeliveryResult = "success" | "failure";

export interface OutboxOptions {
  readonly ledger: NotificationLedger;
  readonly receivers: readonly Receiver[];
  readonly clock: Clock;
  /** Uniform in [0, 1): the jitter of retry delays. */
  readonly random: () => number;
  readonly log: (level: "info" | "warn", message: string) => void;
  readonly generatorUrl: () => string;
  /** The firing alerts, for receivers that need them re-sent (Alertmanager). */
  readonly firing: () => readonly AlertNotification[];
  readonly onDelivery?: (receiver: string, result: DeliveryResult) => void;
  /** First retry delay; doubles per failed attempt up to maxRetryMs. Default 1 s. */
  readonly baseRetryMs?: number;
  /** Default 5 min. */
  readonly maxRetryMs?: number;
}

const DEFAULT_BASE_RETRY_MS = 1_000;
const DEFAULT_MAX_RETRY_MS = 5 * 60_000;
/** Notifications sent in a row before yielding to other work. */
const MAX_PER_DRAIN = 100;

/**
 * Delivers queued notifications to every receiver in order, one at a time per receiver: the next
 * is sent only once the previous one was accepted, so a receiver down for an hour gets them all,
 * in order, when it returns. A failed attempt is retried with exponential back-off and jitter;
 * a delivered one is marked in the same store and never sent again, across restarts too.
 */
export class AlertOutbox {
  readonly #options: OutboxOptions;
  /** By id, in configuration order; replaced by a reload (setReceivers). */
  #receivers: ReadonlyMap<string, Receiver>;
  readonly #busy = new Map<string, Promise<void>>();
  readonly #timers = new Map<string, TimerHandle>();
  readonly #refreshedAt = new Map<string, EpochMs>();
  #closed = false;

  constructor(options: OutboxOptions) {
    this.#options = options;
    this.#receivers = new Map(options.receivers.map((r) => [r.id, r]));
  }

  /**
   * The receivers of a reloaded configuration. What is queued stays queued: a kept id (even with a
   * new URL) delivers its queue to the new settings; a removed id gets nothing more (its rows stay
   * in the store, as after a restart without it); a new id receives what is queued from now on.
   */
  setReceivers(receivers: readonly Receiver[]): void {
    this.#receivers = new Map(receivers.map((r) => [r.id, r]));
    for (const [id, timer] of this.#timers) {
      if (this.#receivers.has(id)) continue;
      timer.cancel();
      this.#timers.delete(id);
    }
    for (const id of this.#refreshedAt.keys()) if (!this.#receivers.has(id)) this.#refreshedAt.delete(id);
    this.pump();
  }

  /** Queues each notification for every receiver (in one transaction) and starts delivering. */
  enqueue(notifications: readonly AlertNotification[]): void {
    if (notifications.length === 0 || this.#receivers.size === 0) return;
    const rows = notifications.flatMap((n) =>
      [...this.#receivers.values()].map((r) => ({
        receiver: r.id,
        alertKey: n.key,
        kind:
          n.status === "resolved"
            ? ("resolved" as const)
            : n.reminder
              ? ("reminder" as const)
              : ("firing" as const),
        payload: JSON.stringify(n),
      })),
    );
    this.#options.ledger.enqueue(rows, this.#options.clock.now());
    this.pump();
  }

  /** Starts a delivery round for every receiver that is not already in one. */
  pump(): void {
    if (this.#closed) return;
    for (const id of this.#receivers.keys()) {
      if (this.#busy.has(id)) continue;
      const round = this.#drain(id).finally(() => this.#busy.delete(id));
      this.#busy.set(id, round);
    }
  }

  /** Resolves when no delivery round is running (rounds started meanwhile included). */
  async idle(): Promise<void> {
    while (this.#busy.size > 0) await Promise.all(this.#busy.values());
  }

  /** Waits for attempts in flight; later ones stay queued for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers.values()) timer.cancel();
    await Promise.all(this.#busy.values());
  }

  async #drain(id: string): Promise<void> {
    const { ledger, clock } = this.#options;
    for (let sent = 0; sent < MAX_PER_DRAIN && !this.#closed; sent++) {
      // Looked up at every send: a reload may have changed or removed the receiver meanwhile.
      const receiver = this.#receivers.get(id);
      if (receiver === undefined) return;
      const head = ledger.head(receiver.id);
      if (head === null) return this.#refresh(receiver);
      const wait = head.nextAttemptAt - clock.now();
      if (wait > 0) return this.#retryIn(receiver, wait);
      const notification: OutgoingNotification = {
        ...(JSON.parse(head.payload) as AlertNotification),
        id: head.id,
      };
      try {
        await receiver.send(notification, this.#context());
      } catch (error) {
        const reason = error instanceof DeliveryError ? error.message : "request failed";
        const delay = this.#backoff(head.attempts + 1);
        ledger.markFailed(head.id, clock.now() + delay, reason);
        this.#options.onDelivery?.(receiver.id, "failure");
        this.#options.log(
          "warn",
          `alerts: delivery to ${receiver.id} failed (${reason}), attempt ${head.attempts + 1}; retrying in ${Math.round(delay / 1000)} s`,
        );
        return this.#retryIn(receiver, delay);
      }
      ledger.markDelivered(head.id, clock.now());
      this.#options.onDelivery?.(receiver.id, "success");
    }
    const receiver = this.#receivers.get(id);
    if (!this.#closed && receiver) this.#retryIn(receiver, 0);
  }

  /** Re-sends the firing alerts to receivers that forget them otherwise, when nothing is queued. */
  async #refresh(receiver: Receiver): Promise<void> {
    if (receiver.refresh === undefined || receiver.refreshMs === undefined) return;
    const now = this.#options.clock.now();
    const last = this.#refreshedAt.get(receiver.id) ?? Number.NEGATIVE_INFINITY;
    if (now - last < receiver.refreshMs) return;
    this.#refreshedAt.set(receiver.id, now);
    const firing = this.#options.firing().map((n) => ({ ...n, id: 0 }));
    if (firing.length === 0) return;
    try {
      await receiver.refresh(firing, this.#context());
    } catch (error) {
      // The queue is empty: what Alertmanager missed is re-sent at the next refresh.
      const reason = error instanceof DeliveryError ? error.message : "request failed";
      this.#options.log("warn", `alerts: refreshing firing alerts at ${receiver.id} failed (${reason})`);
    }
  }

  /** Full jitter over the upper half: exponential, capped, and never in lock-step with others. */
  #backoff(attempt: number): number {
    const base = this.#options.baseRetryMs ?? DEFAULT_BASE_RETRY_MS;
    const cap = this.#options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS;
    const exponential = Math.min(cap, base * 2 ** Math.min(attempt - 1, 30));
    return Math.round(exponential * (0.5 + 0.5 * this.#options.random()));
  }

  #retryIn(receiver: Receiver, delayMs: number): void {
    if (this.#closed) return;
    this.#timers.get(receiver.id)?.cancel();
    this.#timers.set(
      receiver.id,
      this.#options.clock.setTimeout(() => {
        this.#timers.delete(receiver.id);
        this.pump();
      }, delayMs),
    );
  }

  #context(): DeliveryContext {
    return { now: this.#options.clock.now(), generatorUrl: this.#options.generatorUrl() };
  }
}
