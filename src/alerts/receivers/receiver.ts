import type { Dispatcher } from "undici";
import type { ReceiverSpec } from "../../model/config.js";
import type { EpochMs } from "../../model/time.js";
import { request } from "../../undici-parts.js";
import type { AlertNotification } from "../types.js";

/** A queued notification on its way out: `id` is its place in the receiver's queue. */
export interface OutgoingNotification extends AlertNotification {
  readonly id: number;
}

export interface DeliveryContext {
  /** When this attempt is made (signatures and Alertmanager's endsAt are relative to it). */
  readonly now: EpochMs;
  /** The agent's /alerts page: where an alert came from. */
  readonly generatorUrl: string;
}

/** One delivery channel (docs/alerts.md). A new channel is one new file and one registry line. */
export interface Receiver {
  readonly id: string;
  readonly type: ReceiverSpec["type"];
  /** Problems that make the receiver unusable, each one line without secrets; empty when usable. */
  validate(): string[];
  /** Delivers one notification or throws a DeliveryError whose message is safe to log. */
  send(notification: OutgoingNotification, context: DeliveryContext): Promise<void>;
  /**
   * For receivers that forget a firing alert unless told again (Alertmanager's resolve_timeout):
   * how often the firing alerts are re-sent while the receiver's queue is empty.
   */
  readonly refreshMs?: number;
  /** Re-sends the firing alerts (best effort, not queued); only for receivers with refreshMs. */
  refresh?(firing: readonly OutgoingNotification[], context: DeliveryContext): Promise<void>;
}

/** A failed attempt, described without the URL or anything else that may hold a secret. */
export class DeliveryError extends Error {}

export interface PostOptions {
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** POSTs a JSON body; any answer but 2xx, and any transport failure, is a DeliveryError. */
export async function postJson(url: string, body: string, options: PostOptions): Promise<void> {
  let status: number;
  try {
    const response = await request(url, {
      method: "POST",
      dispatcher: options.dispatcher,
      headers: { "content-type": "application/json", ...options.headers },
      body,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    status = response.statusCode;
    await response.body.dump();
  } catch (error) {
    throw new DeliveryError(transportFailure(error));
  }
  if (status < 200 || status > 299) throw new DeliveryError(`HTTP ${status}`);
}

function transportFailure(error: unknown): string {
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } }).code ??
    (error as { cause?: { code?: unknown } }).cause?.code;
  if (typeof code === "string") return code === "UND_ERR_ABORTED" || code === "ABORT_ERR" ? "timeout" : code;
  if ((error as Error).name === "TimeoutError" || (error as Error).name === "AbortError") return "timeout";
  return "request failed";
}

export function isoOf(ms: EpochMs): string {
  return new Date(ms).toISOString();
}
