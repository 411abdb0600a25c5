import { createHmac } from "node:crypto";
import type { Dispatcher } from "undici";
import type { ReceiverSpec } from "../../model/config.js";
import { alertsOf } from "../types.js";
import {
  type DeliveryContext,
  isoOf,
  type OutgoingNotification,
  postJson,
  type Receiver,
} from "./receiver.js";
import { isHttpUrlText } from "./urls.js";

type Spec = Extract<ReceiverSpec, { type: "webhook" }>;

export const SIGNATURE_HEADER = "X-Slo-Agent-Signature";
export const TIMESTAMP_HEADER = "X-Slo-Agent-Timestamp";
const MIN_SECRET_LENGTH = 16;

/**
 * `sha256=` + hex HMAC-SHA256 of `TIMESTAMP.BODY` under the secret: the timestamp (Unix seconds)
 * is signed with the body, so a receiver that refuses old timestamps cannot be replayed to.
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** A JSON webhook, every request signed (docs/alerts.md shows how to verify it). */
export class WebhookReceiver implements Receiver {
  readonly type = "webhook";
  readonly id: string;
  readonly #spec: Spec;
  readonly #dispatcher: Dispatcher;

  constructor(spec: Spec, dispatcher: Dispatcher) {
    this.id = spec.id;
    this.#spec = spec;
    this.#dispatcher = dispatcher;
  }

  validate(): string[] {
    const problems: string[] = [];
    if (!isHttpUrlText(this.#spec.url)) problems.push(`receiver ${this.id}: url must be an http(s) URL`);
    if (this.#spec.secret.reveal().length < MIN_SECRET_LENGTH) {
      problems.push(`receiver ${this.id}: secret must be at least ${MIN_SECRET_LENGTH} characters`);
    }
    return problems;
  }

  send(n: OutgoingNotification, context: DeliveryContext): Promise<void> {
    const body = JSON.stringify({
      version: 1,
      id: n.id,
      receiver: this.id,
      status: n.status,
      reminder: n.reminder,
      sent_at: isoOf(context.now),
      group: { category: n.labels.category, severity: n.labels.severity, startsAt: isoOf(n.startsAt) },
      // The group's headline alert, as before grouping; `alerts` has every alert of the group.
      alert: {
        labels: n.labels,
        annotations: n.annotations,
        startsAt: isoOf(alertsOf(n)[0]?.startsAt ?? n.startsAt),
        endsAt: n.endsAt === null ? null : isoOf(n.endsAt),
        generatorURL: context.generatorUrl,
      },
      alerts: alertsOf(n).map((a) => ({
        status: a.status,
        labels: a.labels,
        annotations: a.annotations,
        startsAt: isoOf(a.startsAt),
        endsAt: a.endsAt === null ? null : isoOf(a.endsAt),
        generatorURL: context.generatorUrl,
      })),
    });
    const timestamp = String(Math.floor(context.now / 1000));
    return postJson(this.#spec.url, body, {
      dispatcher: this.#dispatcher,
      timeoutMs: this.#spec.timeoutMs,
      headers: {
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: webhookSignature(this.#spec.secret.reveal(), timestamp, body),
      },
    });
  }
}
