import type { Dispatcher } from "undici";
import type { Clock } from "../clock/clock.js";
import { connectionTimingOf } from "./connection.js";
import { type Exchange, type ExchangeRequest, exchange } from "./exchange.js";
import { errorCodeOf, failureReasonOf, misbehaviourOf } from "./failure.js";

/** RFC 9110 section 9.2.2: the methods a client may repeat on its own. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

export interface LiveExchange extends Exchange {
  /** Why the first attempt was repeated (a stale kept-alive connection), else null. */
  readonly staleRetry: string | null;
}

/**
 * One exchange, repeated once when it failed on a stale kept-alive connection: the server closed
 * an idle socket just as the agent reused it, so the request never reached a live server and the
 * failure is a race in the connection pool, not the provider's. Browsers and Node's http client
 * do the same. Only the retry's outcome is kept (one run, one result).
 */
export async function exchangeOnLiveConnection(
  dispatcher: Dispatcher,
  clock: Clock,
  req: ExchangeRequest,
): Promise<LiveExchange> {
  const first = await exchange(dispatcher, clock, req);
  const stale = staleConnectionOf(first, req.method);
  if (stale === null || req.signal.aborted) return { ...first, staleRetry: null };
  const retry = await exchange(dispatcher, clock, req);
  return {
    ...retry,
    staleRetry: `retried once: the reused idle connection was closed before any response (${stale})`,
  };
}

/**
 * The error code when `seen` failed on a stale connection, else null. All of these must hold: an
 * idempotent method; no response; a reused connection (opened before this request); not one byte
 * read from it after the request was written; and the connection reset or closed (not a timeout,
 * not a server that broke HTTP). A fresh connection that fails the same way is the server's.
 */
export function staleConnectionOf(seen: Exchange, method: string): string | null {
  if (seen.status !== null || seen.error === null || seen.error === undefined) return null;
  if (!IDEMPOTENT_METHODS.has(method)) return null;
  const { socket, bytesReadAtSend, startedAt } = seen.trace;
  const timing = socket ? connectionTimingOf(socket) : undefined;
  if (!socket || !timing || timing.startedAt >= startedAt) return null;
  if (bytesReadAtSend === null || socket.bytesRead !== bytesReadAtSend) return null;
  if (misbehaviourOf(seen.error) !== null || failureReasonOf(seen.error, true) !== "reset") return null;
  return errorCodeOf(seen.error) ?? "reset";
}
