import type { Dispatcher } from "undici";
import type { ReceiverSpec } from "../../model/config.js";
import { AlertmanagerReceiver } from "./alertmanager.js";
import { EmailReceiver } from "./email.js";
import { PagerDutyReceiver } from "./pagerduty.js";
import type { Receiver } from "./receiver.js";
import { SlackReceiver } from "./slack.js";
import { WebhookReceiver } from "./webhook.js";

export { type DeliveryContext, DeliveryError, type OutgoingNotification, type Receiver } from "./receiver.js";
export { SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from "./webhook.js";

/** The receiver for one configured channel, keyed by its `type`. */
export function createReceiver(spec: ReceiverSpec, dispatcher: Dispatcher): Receiver {
  switch (spec.type) {
    case "alertmanager":
      return new AlertmanagerReceiver(spec, dispatcher);
    case "webhook":
      return new WebhookReceiver(spec, dispatcher);
    case "slack":
      return new SlackReceiver(spec, dispatcher);
    case "pagerduty":
      return new PagerDutyReceiver(spec, dispatcher);
    case "email":
      return new EmailReceiver(spec);
  }
}
