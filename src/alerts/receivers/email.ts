import { existsSync, readFileSync } from "node:fs";
import type { ReceiverSpec } from "../../model/config.js";
import { alertsOf } from "../types.js";
import {
  type DeliveryContext,
  DeliveryError,
  isoOf,
  type OutgoingNotification,
  type Receiver,
} from "./receiver.js";

type Spec = Extract<ReceiverSpec, { type: "email" }>;

/**
 * One plain-text mail per notification through an SMTP relay, sent with nodemailer (SMTP,
 * STARTTLS and AUTH are its job, not ours). With `starttls` (the default) the connection is
 * upgraded before anything is sent and the mail is refused rather than sent in clear text.
 */
export class EmailReceiver implements Receiver {
  readonly type = "email";
  readonly id: string;
  readonly #spec: Spec;

  constructor(spec: Spec) {
    this.id = spec.id;
    this.#spec = spec;
  }

  validate(): string[] {
    const { smtp } = this.#spec;
    const problems: string[] = [];
    if (smtp.caFile !== null && !existsSync(smtp.caFile))
      problems.push(`receiver ${this.id}: smtp.ca_file ${smtp.caFile} does not exist`);
    if ((smtp.username === null) !== (smtp.password === null))
      problems.push(`receiver ${this.id}: smtp.username and smtp.password go together`);
    return problems;
  }

  async send(n: OutgoingNotification, context: DeliveryContext): Promise<void> {
    const { smtp } = this.#spec;
    // nodemailer is loaded at the first mail, not with every agent that might send one.
    const { createTransport } = await import("nodemailer");
    const transport = createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      requireTLS: smtp.starttls,
      ignoreTLS: !smtp.starttls,
      connectionTimeout: this.#spec.timeoutMs,
      greetingTimeout: this.#spec.timeoutMs,
      socketTimeout: this.#spec.timeoutMs,
      tls: smtp.caFile === null ? {} : { ca: readFileSync(smtp.caFile) },
      ...(smtp.username !== null && smtp.password !== null
        ? { auth: { user: smtp.username, pass: smtp.password.reveal() } }
        : {}),
    });
    try {
      await transport.sendMail({
        from: smtp.from,
        to: [...smtp.to],
        subject: emailSubject(n),
        text: emailText(n, context),
        headers: { "X-Slo-Agent-Notification": String(n.id) },
      });
    } catch (error) {
      throw new DeliveryError(smtpFailure(error));
    } finally {
      transport.close();
    }
  }
}

export function emailSubject(n: OutgoingNotification): string {
  const head = n.status === "resolved" ? "RESOLVED" : n.reminder ? "STILL FIRING" : "FIRING";
  const count = alertsOf(n).length;
  const what = count === 1 ? n.labels.alertname : `${n.labels.alertname} and ${count - 1} more`;
  return `[${head}] ${what} ${n.labels.category} (${n.labels.severity})`;
}

/** Every alert of the group, each with its summary, description, hints, times, labels and runbook. */
export function emailText(n: OutgoingNotification, context: DeliveryContext): string {
  const alerts = alertsOf(n);
  return [
    ...alerts.flatMap((alert, i) => {
      const a = alert.annotations;
      return [
        ...(alerts.length === 1
          ? []
          : [`${i + 1}/${alerts.length} ${alert.labels.alertname} (${alert.status})`, ""]),
        a.summary,
        "",
        a.description,
        ...(a.hints === undefined ? [] : ["", a.hints]),
        "",
        `Since: ${isoOf(alert.startsAt)}${alert.endsAt === null ? "" : `, resolved ${isoOf(alert.endsAt)}`}`,
        ...Object.entries(alert.labels).map(([k, v]) => `${k}: ${v}`),
        ...(a.runbook_url === undefined ? [] : [`Runbook: ${a.runbook_url}`]),
        "",
      ];
    }),
    `Alerts: ${context.generatorUrl}`,
    "",
  ].join("\n");
}

/** nodemailer's error code and the relay's reply code: never the credentials or the message. */
function smtpFailure(error: unknown): string {
  const e = error as { code?: unknown; responseCode?: unknown };
  const code = typeof e.code === "string" ? e.code : "request failed";
  return typeof e.responseCode === "number" ? `${code} (SMTP ${e.responseCode})` : code;
}
