import type { Socket } from "node:net";
import type { ConnectionOptions } from "node:tls";
import type { buildConnector as BuildConnector, Dispatcher } from "undici";
import type { Clock } from "../clock/clock.js";
import type { Target } from "../model/config.js";
import { Agent, buildConnector } from "../undici-parts.js";

/**
 * Connection set-up timing of one socket, on the clock's monotonic scale. undici's
 * `undici:client:beforeConnect`/`connected` channels carry no socket or request identity to pair
 * them under concurrency, so the connector records the socket's own lookup/connect/secureConnect
 * events instead; requests find their socket through `undici:client:sendHeaders` (see phases.ts).
 */
export interface ConnectionTiming {
  readonly startedAt: number;
  lookupAt: number | null;
  connectedAt: number | null;
  secureAt: number | null;
}

const timings = new WeakMap<Socket, ConnectionTiming>();

export function connectionTimingOf(socket: Socket): ConnectionTiming | undefined {
  return timings.get(socket);
}

/** The TCP handshake of the connection: one round trip, the RTT estimate for edge normalisation. */
export function roundTripOf(timing: ConnectionTiming): number | null {
  if (timing.connectedAt === null) return null;
  return timing.connectedAt - (timing.lookupAt ?? timing.startedAt);
}

export interface TargetDispatcherOptions {
  readonly clock: Clock;
  /** Longer than any probe timeout, so that the harness deadline decides (default 60 s). */
  readonly connectTimeoutMs?: number;
  /** Extra TLS settings, e.g. a private CA for a test or an internal gateway. */
  readonly tls?: ConnectionOptions;
  /** How long an idle kept-alive connection stays open (default 30 s). */
  readonly keepAliveTimeoutMs?: number;
}

/** A connector that records connection phases of every socket it opens. */
export function timedConnector(clock: Clock, options: BuildConnector.BuildOptions): BuildConnector.connector {
  const base = buildConnector(options) as (
    opts: BuildConnector.Options,
    callback: BuildConnector.Callback,
  ) => Socket;
  return (opts, callback) => {
    const timing: ConnectionTiming = {
      startedAt: clock.monotonic(),
      lookupAt: null,
      connectedAt: null,
      secureAt: null,
    };
    const socket = base(opts, callback);
    timings.set(socket, timing);
    // Prepended: undici's own listener writes the request synchronously, so ours must run first.
    // With happy eyeballs 'lookup' may fire once per address tried; the first one ends DNS.
    socket.prependOnceListener("lookup", () => {
      timing.lookupAt = clock.monotonic();
    });
    socket.prependOnceListener("connect", () => {
      timing.connectedAt = clock.monotonic();
    });
    socket.prependOnceListener("secureConnect", () => {
      timing.secureAt = clock.monotonic();
    });
    return socket;
  };
}

/**
 * The dispatcher of one target: one undici Agent, so connections are reused per target like a
 * real client (unless the target says keepAlive: false), TLS verified unless tlsVerify: false.
 */
export function createTargetDispatcher(target: Target, options: TargetDispatcherOptions): Dispatcher {
  const connect = timedConnector(options.clock, {
    ...options.tls,
    rejectUnauthorized: target.tlsVerify,
    timeout: options.connectTimeoutMs ?? 60_000,
  });
  return new Agent({
    connect,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    // The harness owns the deadline; undici's own 300 s timers only guard against leaks.
    headersTimeout: 0,
    bodyTimeout: 0,
    pipelining: target.keepAlive ? 1 : 0,
  });
}
