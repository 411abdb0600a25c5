import { createHash } from "node:crypto";
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

type Spec = Extract<ReceiverSpec, { type: "pagerduty" }>;

/** PagerDuty's limit on payload.summary. */
const MAX_SUMMARY = 1024;

/**
 * PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/):
 * a firing notification is a `trigger`, a resolved one a `resolve` with the same `dedup_key`, so
 * PagerDuty opens one incident per episode of an alert group (a category and severity) and closes
 * it. A later or repeated notification re-triggers the same key, which PagerDuty folds into the
 * open incident.
 */
export class PagerDutyReceiver implements Receiver {
  readonly type = "pagerduty";
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
    if (this.#spec.routingKey.reveal() === "") problems.push(`receiver ${this.id}: routing_key is empty`);
    return problems;
  }

  send(n: OutgoingNotification, context: DeliveryContext): Promise<void> {
    return postJson(
      this.#spec.url,
      JSON.stringify(pagerDutyEvent(this.#spec.routingKey.reveal(), n, context)),
      {
        dispatcher: this.#dispatcher,
        timeoutMs: this.#spec.timeoutMs,
      },
    );
  }
}

/** One group episode's key: the same for its trigger, reminders and resolve; new when it fires again. */
export function dedupKeyOf(n: Pick<OutgoingNotification, "key" | "startsAt">): string {
  return `slo-agent-${createHash("sha256").update(`${n.key}\u0000${n.startsAt}`).digest("hex").slice(0, 32)}`;
}

export function pagerDutyEvent(routingKey: string, n: OutgoingNotification, context: DeliveryContext) {
  const dedup_key = dedupKeyOf(n);
  if (n.status === "resolved") return { routing_key: routingKey, event_action: "resolve", dedup_key };
  const { alertname, category, region, severity } = n.labels;
  const alerts = alertsOf(n);
  const more = alerts.length > 1 ? ` (+${alerts.length - 1} more)` : "";
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key,
    client: "slo-agent",
    client_url: context.generatorUrl,
    payload: {
      summary: `${n.annotations.summary.slice(0, MAX_SUMMARY - more.length)}${more}`,
      source: `slo-agent region ${region}`,
      severity: severity === "page" ? "critical" : severity === "info" ? "info" : "warning",
      timestamp: isoOf(n.startsAt),
      component: category,
      group: n.labels.service_class,
      class: alertname,
      custom_details: {
        labels: n.labels,
        ...n.annotations,
        alerts: alerts.map((a) => ({ status: a.status, labels: a.labels, ...a.annotations })),
      },
    },
    ...(n.annotations.runbook_url === undefined
      ? {}
      : { links: [{ href: n.annotations.runbook_url, text: "Runbook" }] }),
  };
}
