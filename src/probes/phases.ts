import { subscribe } from "node:diagnostics_channel";
import type { Socket } from "node:net";
import type { Clock } from "../clock/clock.js";
import type { Phases } from "../model/result.js";
import { noteRemote } from "./address.js";
import { connectionTimingOf, roundTripOf } from "./connection.js";

/**
 * The timeline of one HTTP exchange, on the injected clock's monotonic scale. From undici's
 * diagnostics channels:
 * - `undici:client:sendHeaders` ({request, socket}) ties undici's request to our trace and socket;
 * - `undici:request:bodySent` marks the request fully written.
 * The response headers (TTFB) and the end of the body are marked by the exchange's own handler
 * (exchange.ts), called in the same synchronous step as undici's `request:headers` and
 * `request:trailers` channels: subscribing to those too cost a message object per event and
 * per request for the same reading.
 */
export class RequestTrace {
  readonly #clock: Clock;
  readonly startedAt: number;
  socket: Socket | null = null;
  /** The socket's bytesRead when this request was written: a response byte moves it. */
  bytesReadAtSend: number | null = null;
  /** The request's head was handed to the socket (`undici:client:sendHeaders`). */
  writtenAt: number | null = null;
  sentAt: number | null = null;
  headersAt: number | null = null;
  /** The thread's run-queue wait (ExchangeRequest.queuedMs) read at headersAt. */
  queuedAtHeaders: number | null = null;
  endAt: number | null = null;

  constructor(clock: Clock, startedAt: number) {
    this.#clock = clock;
    this.startedAt = startedAt;
  }

  now(): number {
    return this.#clock.monotonic();
  }

  /** The connection's RTT estimate: its TCP handshake, when this trace saw the connection made. */
  get roundTripMs(): number | null {
    const timing = this.socket ? connectionTimingOf(this.socket) : undefined;
    return timing ? roundTripOf(timing) : null;
  }

  /**
   * Time (ms) that was plainly the agent's: from `origin` (the run's start, or this exchange's
   * own start) until the request was handed to the socket, less the connection's set-up when this
   * exchange opened one. Nothing in it waits on the network: undici opens a connection of its own
   * for a request rather than queueing it behind another (pipelining 1, no connection cap), so a
   * reused connection's whole span is the agent's work. Null when the request was never written
   * or the connection's set-up is unknown.
   */
  agentSideMs(origin: number): number | null {
    // A connector that does not record its timing (an injected dispatcher's) leaves the set-up
    // unknown, and with it what was the agent's.
    const timing = this.socket ? connectionTimingOf(this.socket) : undefined;
    if (this.writtenAt === null || timing === undefined) return null;
    const fresh = timing.startedAt >= this.startedAt;
    const setUpEnd = timing.secureAt ?? timing.connectedAt ?? this.writtenAt;
    const setUp = fresh ? Math.max(0, setUpEnd - timing.startedAt) : 0;
    return Math.max(0, this.writtenAt - origin - setUp);
  }

  /** Offsets from `origin` (the probe's start); connection phases only for a fresh connection. */
  phases(origin: number): Phases {
    const timing = this.socket ? connectionTimingOf(this.socket) : undefined;
    const fresh = timing !== undefined && timing.startedAt >= this.startedAt;
    const since = (t: number | null | undefined) => (t === null || t === undefined ? null : t - origin);
    return {
      dnsMs: fresh ? since(timing.lookupAt) : null,
      connectMs: fresh ? since(timing.connectedAt) : null,
      tlsMs: fresh ? since(timing.secureAt) : null,
      requestSentMs: since(this.sentAt),
      ttfbMs: since(this.headersAt),
      bodyEndMs: since(this.endAt),
    };
  }
}

const traces = new WeakMap<object, RequestTrace>();
/**
 * undici calls the handler's onRequestStart and publishes sendHeaders in one synchronous step
 * (client-h1 writeH1), so the trace waiting here is the one the published request belongs to.
 */
let attaching: RequestTrace | null = null;
let subscribed = false;

interface RequestMessage {
  readonly request: object;
  readonly socket?: Socket;
}

function on(channel: string, handle: (message: RequestMessage, trace: RequestTrace) => void): void {
  subscribe(channel, (message) => {
    const m = message as RequestMessage;
    const trace = traces.get(m.request);
    if (trace) handle(m, trace);
  });
}

function subscribeOnce(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe("undici:client:sendHeaders", (message) => {
    const m = message as RequestMessage;
    if (!attaching) return;
    traces.set(m.request, attaching);
    attaching.socket = m.socket ?? null;
    if (m.socket) noteRemote(m.socket);
    attaching.bytesReadAtSend = m.socket?.bytesRead ?? null;
    attaching.writtenAt = attaching.now();
    attaching = null;
  });
  on("undici:request:bodySent", (_, t) => {
    t.sentAt ??= t.now();
  });
}

/**
 * Called from the handler's onRequestStart: the sendHeaders published in the same synchronous
 * step belongs to this trace. Cleared at the next microtask so that a request aborted before its
 * headers were written cannot lend its trace to someone else's request.
 */
export function expectRequestOf(trace: RequestTrace): void {
  subscribeOnce();
  attaching = trace;
  queueMicrotask(() => {
    if (attaching === trace) attaching = null;
  });
}

export function ensurePhaseChannels(): void {
  subscribeOnce();
}
