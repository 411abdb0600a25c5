import type { Dispatcher } from "undici";
import type { Clock } from "../clock/clock.js";
import { expectRequestOf, RequestTrace } from "./phases.js";

export interface ExchangeRequest {
  readonly origin: string;
  readonly path: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  /**
   * Body bytes kept at most. The rest is read and discarded so the connection stays usable, up to
   * DISCARDED_BYTES_MAX more: a longer body is cut there and its connection closed.
   */
  readonly maxBodyBytes: number;
  /** Close the connection after this exchange (target keepAlive: false). */
  readonly reset: boolean;
  readonly signal: AbortSignal;
  /** The prober thread's run-queue wait so far (ProbeContext.queuedMs): read at the response headers. */
  readonly queuedMs?: (() => number | null) | undefined;
}

/** What one request/response observed. Errors are kept raw; the harness classifies them. */
export interface Exchange {
  readonly status: number | null;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly bodyBytes: number;
  /** Failure before the response headers: no response at all. */
  readonly error: unknown;
  /** Failure after the headers, while reading the body. */
  readonly bodyError: unknown;
  readonly trace: RequestTrace;
}

/**
 * How much of a body past its kept bytes is read only to reuse the connection. An endless body
 * (a hostile or broken server) was read at loopback speed until the probe's deadline: gigabytes
 * a run, a third of the prober thread's time in garbage collection in test/reliability/
 * hostile-soak.test.ts. Reading 8 MiB costs a few milliseconds; opening a new connection less.
 */
export const DISCARDED_BYTES_MAX = 8 * 1024 * 1024;

/** Why a body was not read to its end (the cause of the connection's abort, never recorded). */
class BodyCut extends Error {}

/**
 * Sends one request through the dispatcher and settles exactly once: at the end of the body, on
 * an error, or at once when the signal aborts (the harness's deadline), with what was seen so far.
 */
export function exchange(dispatcher: Dispatcher, clock: Clock, req: ExchangeRequest): Promise<Exchange> {
  const trace = new RequestTrace(clock, clock.monotonic());
  return new Promise<Exchange>((resolve) => {
    let status: number | null = null;
    let headers: Record<string, string> = {};
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let bodyBytes = 0;
    let controller: Dispatcher.DispatchController | null = null;
    let settled = false;

    const settle = (failure: unknown) => {
      if (settled) return;
      settled = true;
      req.signal.removeEventListener("abort", onAbort);
      const body = Buffer.concat(kept, keptBytes);
      const error = status === null ? failure : null;
      const bodyError = status === null ? null : failure;
      resolve({ status, headers, body, bodyBytes, error, bodyError, trace });
    };
    const onAbort = () => {
      // undici's own abort destroys the socket with an "informational" error, which puts the
      // request back in its queue: it then opened one extra, empty connection per timed-out run.
      // Failing the request's own socket fails the request in place and leaves the queue empty.
      const socket = trace.socket;
      if (socket && !socket.destroyed) socket.destroy(req.signal.reason as Error);
      else controller?.abort(req.signal.reason);
      settle(req.signal.reason);
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (settled) {
          c.abort(req.signal.reason);
          return;
        }
        expectRequestOf(trace);
      },
      onResponseStart(_c, statusCode, responseHeaders) {
        if (settled) return;
        if (trace.headersAt === null) {
          trace.headersAt = trace.now();
          trace.queuedAtHeaders = req.queuedMs?.() ?? null;
        }
        status = statusCode;
        headers = flattenHeaders(responseHeaders);
      },
      onResponseData(c, chunk) {
        if (settled) return;
        bodyBytes += chunk.length;
        const room = req.maxBodyBytes - keptBytes;
        if (room > 0) {
          const piece = chunk.length <= room ? chunk : chunk.subarray(0, room);
          kept.push(Buffer.from(piece));
          keptBytes += piece.length;
        }
        if (bodyBytes > req.maxBodyBytes + DISCARDED_BYTES_MAX) {
          // The response is what it is up to here: its status and kept bytes; the rest is unread.
          trace.endAt ??= trace.now();
          settle(null);
          c.abort(new BodyCut(`body longer than ${req.maxBodyBytes + DISCARDED_BYTES_MAX} bytes: cut`));
        }
      },
      onResponseEnd() {
        trace.endAt ??= trace.now();
        settle(null);
      },
      onResponseError(_c, err) {
        settle(err);
      },
    };

    if (req.signal.aborted) {
      settle(req.signal.reason);
      return;
    }
    req.signal.addEventListener("abort", onAbort, { once: true });
    try {
      dispatcher.dispatch(
        {
          origin: req.origin,
          path: req.path,
          method: req.method as Dispatcher.HttpMethod,
          headers: req.headers,
          body: req.body,
          reset: req.reset,
        },
        handler,
      );
    } catch (err) {
      settle(err);
    }
  });
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}
