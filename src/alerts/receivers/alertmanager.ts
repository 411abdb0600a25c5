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

type Spec = Extract<ReceiverSpec, { type: "alertmanager" }>;

/** How often firing alerts are re-posted, like Prometheus' resend delay. */
const REFRESH_MS = 60_000;
/** A firing alert's endsAt: Alertmanager resolves it by itself if the agent stops re-posting. */
const HOLD_MS = 4 * REFRESH_MS;

/** Alertmanager API v2: `POST /api/v2/alerts` with a list of postable alerts. */
export class AlertmanagerReceiver implements Receiver {
  readonly type = "alertmanager";
  readonly id: string;
  readonly refreshMs = REFRESH_MS;
  readonly #spec: Spec;
  readonly #dispatcher: Dispatcher;

  constructor(spec: Spec, dispatcher: Dispatcher) {
    this.id = spec.id;
    this.#spec = spec;
    this.#dispatcher = dispatcher;
  }

  validate(): string[] {
    return isHttpUrlText(this.#spec.url) ? [] : [`receiver ${this.id}: url must be an http(s) URL`];
  }

  send(notification: OutgoingNotification, context: DeliveryContext): Promise<void> {
    return this.#post([notification], context);
  }

  refresh(firing: readonly OutgoingNotification[], context: DeliveryContext): Promise<void> {
    return firing.length === 0 ? Promise.resolve() : this.#post(firing, context);
  }

  #post(notifications: readonly OutgoingNotification[], context: DeliveryContext): Promise<void> {
    // Each alert of a group on its own: Alertmanager groups them again by its own routes.
    const alerts = notifications.flatMap(alertsOf).map((a) => ({
      labels: a.labels,
      annotations: a.annotations,
      startsAt: isoOf(a.startsAt),
      endsAt: isoOf(a.endsAt ?? context.now + HOLD_MS),
      generatorURL: context.generatorUrl,
    }));
    return postJson(`${this.#spec.url}/api/v2/alerts`, JSON.stringify(alerts), {
      dispatcher: this.#dispatcher,
      timeoutMs: this.#spec.timeoutMs,
    });
  }
}
