import type { Clock, TimerHandle } from "../clock/clock.js";
import type { EpochMs } from "../model/time.js";
import { describeWriteError, type NotificationLedger, type NotificationToQueue } from "../record/index.js";
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
  /** Receivers pumped while in a round: they get another one when it ends. */
  readonly #again = new Set<string>();
  readonly #timers = new Map<string, TimerHandle>();
  readonly #refreshedAt = new Map<string, EpochMs>();
  /** Per receiver: the last delivery its endpoint accepted that the store has not recorded yet. */
  readonly #deliveredUnsaved = new Map<string, { readonly id: number; readonly at: EpochMs }>();
  /** By notification id: failed attempts the store has not recorded yet. */
  readonly #failuresUnsaved = new Map<
    number,
    {
      readonly receiver: string;
      readonly attempts: number;
      readonly nextAttemptAt: EpochMs;
      readonly reason: string;
    }
  >();
  #storeError: string | null = null;
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
    this.#options.ledger.enqueue(this.rowsOf(notifications), this.#options.clock.now());
    this.pump();
  }

  /** The queue rows of these notifications: one per notification and receiver, in order. */
  rowsOf(notifications: readonly AlertNotification[]): NotificationToQueue[] {
    return notifications.flatMap((n) =>
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
  }

  /**
   * Starts a delivery round for every receiver that is not already in one; a receiver in one gets
   * another right after it, since what was just queued may have come after its last look.
   */
  pump(): void {
    for (const id of this.#receivers.keys()) this.#startRound(id);
  }

  /** Only this receiver's next round: re-pumping every receiver here would bounce rounds between them forever. */
  #startRound(id: string): void {
    if (this.#closed) return;
    if (this.#busy.has(id)) {
      this.#again.add(id);
      return;
    }
    const round = this.#drain(id).finally(() => {
      this.#busy.delete(id);
      if (this.#again.delete(id)) this.#startRound(id);
    });
    this.#busy.set(id, round);
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
    // A last try at recording what was delivered: what stays unrecorded is sent again after a restart.
    for (const receiver of new Set([
      ...this.#deliveredUnsaved.keys(),
      ...[...this.#failuresUnsaved.values()].map((f) => f.receiver),
    ])) {
      try {
        this.#recordUnsaved(receiver);
      } catch (error) {
        this.#storeTrouble(error);
      }
    }
  }

  async #drain(id: string): Promise<void> {
    try {
      await this.#deliver(id);
    } catch (error) {
      // The store could not be read or written (disk full, another writer holding the lock): what
      // is queued stays queued, and what was delivered is remembered until it can be recorded.
      const receiver = this.#receivers.get(id);
      this.#storeTrouble(error);
      if (receiver) this.#retryIn(receiver, this.#options.baseRetryMs ?? DEFAULT_BASE_RETRY_MS);
    }
  }

  async #deliver(id: string): Promise<void> {
    const { ledger, clock } = this.#options;
    for (let sent = 0; sent < MAX_PER_DRAIN && !this.#closed; sent++) {
      // Looked up at every send: a reload may have changed or removed the receiver meanwhile.
      const receiver = this.#receivers.get(id);
      if (receiver === undefined) return;
      this.#recordUnsaved(receiver.id);
      const head = ledger.head(receiver.id);
      if (head === null) return this.#refresh(receiver);
      const unsavedFailure = this.#failuresUnsaved.get(head.id);
      const attempts = Math.max(head.attempts, unsavedFailure?.attempts ?? 0);
      const wait = Math.max(head.nextAttemptAt, unsavedFailure?.nextAttemptAt ?? 0) - clock.now();
      if (wait > 0) return this.#retryIn(receiver, wait);
      const notification: OutgoingNotification = {
        ...(JSON.parse(head.payload) as AlertNotification),
        id: head.id,
      };
      try {
        await receiver.send(notification, this.#context());
      } catch (error) {
        const reason = error instanceof DeliveryError ? error.message : "request failed";
        const delay = this.#backoff(attempts + 1);
        this.#failuresUnsaved.set(head.id, {
          receiver: receiver.id,
          attempts: attempts + 1,
          nextAttemptAt: clock.now() + delay,
          reason,
        });
        this.#options.onDelivery?.(receiver.id, "failure");
        this.#options.log(
          "warn",
          `alerts: delivery to ${receiver.id} failed (${reason}), attempt ${attempts + 1}; retrying in ${Math.round(delay / 1000)} s`,
        );
        this.#retryIn(receiver, delay);
        this.#recordUnsaved(receiver.id);
        return;
      }
      this.#failuresUnsaved.delete(head.id);
      this.#deliveredUnsaved.set(receiver.id, { id: head.id, at: clock.now() });
      this.#options.onDelivery?.(receiver.id, "success");
      this.#recordUnsaved(receiver.id);
    }
    const receiver = this.#receivers.get(id);
    if (!this.#closed && receiver) this.#retryIn(receiver, 0);
  }

  /**
   * Records in the store what was delivered or failed. A delivery the store cannot record yet
   * throws and stays here, and the receiver gets nothing more until it is recorded: a delivered
   * notification is never sent again. A failed attempt the store cannot record is kept here and
   * counts all the same.
   */
  #recordUnsaved(receiver: string): void {
    const { ledger } = this.#options;
    const delivered = this.#deliveredUnsaved.get(receiver);
    if (delivered) {
      ledger.markDelivered(delivered.id, delivered.at);
      this.#deliveredUnsaved.delete(receiver);
      this.#storeWorks();
    }
    for (const [id, failure] of this.#failuresUnsaved) {
      if (failure.receiver !== receiver) continue;
      try {
        ledger.markFailed(id, failure.nextAttemptAt, failure.reason, failure.attempts);
        this.#failuresUnsaved.delete(id);
        this.#storeWorks();
      } catch (error) {
        this.#storeTrouble(error);
      }
    }
  }

  /** Logs once when the store fails and once when it works again, not at every retry. */
  #storeTrouble(error: unknown): void {
    const text = describeWriteError(error);
    if (text === this.#storeError) return;
    this.#storeError = text;
    this.#options.log(
      "warn",
      `alerts: the evidence store cannot record deliveries (${text}); notifications stay queued and are retried`,
    );
  }

  #storeWorks(): void {
    if (this.#storeError === null) return;
    this.#storeError = null;
    this.#options.log("info", "alerts: the evidence store records deliveries again");
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
