import type { Dispatcher } from "undici";
import type { ReceiverSpec } from "../../model/config.js";
import { alertsOf } from "../types.js";
import { type DeliveryContext, type OutgoingNotification, postJson, type Receiver } from "./receiver.js";
import { isHttpUrlText } from "./urls.js";

type Spec = Extract<ReceiverSpec, { type: "slack" }>;

/** Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat): one `text` message each. */
export class SlackReceiver implements Receiver {
  readonly type = "slack";
  readonly id: string;
  readonly #spec: Spec;
  readonly #dispatcher: Dispatcher;

  constructor(spec: Spec, dispatcher: Dispatcher) {
    this.id = spec.id;
    this.#spec = spec;
    this.#dispatcher = dispatcher;
  }

  validate(): string[] {
    // The URL is the credential: never repeat it.
    return isHttpUrlText(this.#spec.url.reveal()) ? [] : [`receiver ${this.id}: url must be an http(s) URL`];
  }

  send(n: OutgoingNotification, context: DeliveryContext): Promise<void> {
    return postJson(this.#spec.url.reveal(), JSON.stringify({ text: slackText(n, context) }), {
      dispatcher: this.#dispatcher,
      timeoutMs: this.#spec.timeoutMs,
    });
  }
}

export function slackText(n: OutgoingNotification, context: DeliveryContext): string {
  const { category, severity } = n.labels;
  const head = n.status === "resolved" ? "RESOLVED" : n.reminder ? "STILL FIRING" : "FIRING";
  const alerts = alertsOf(n);
  return [
    `*[${head}] ${category} (${severity})*: ${alerts.length === 1 ? n.labels.alertname : `${alerts.length} alerts`}`,
    ...alerts.map(
      (a) =>
        `• ${a.status === "resolved" && n.status !== "resolved" ? "resolved: " : ""}${a.labels.alertname}: ${a.annotations.summary}${a.annotations.runbook_url === undefined ? "" : ` (runbook: ${a.annotations.runbook_url})`}`,
    ),
    `alerts: ${context.generatorUrl}`,
  ].join("\n");
}
