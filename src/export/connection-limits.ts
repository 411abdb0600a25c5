import type { IncomingMessage, Server, ServerOptions, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * What one client may hold of the agent's HTTP server. Without these, ~1,000 idle connections
 * exhausted the daemon's file descriptors and /metrics went dark for 40 s.
 */
export interface ConnectionLimits {
  /** Open connections at most; past it the longest-idle one is closed to admit the new one. */
  readonly maxConnections: number;
  /** A client must finish its request headers within this (slowloris). */
  readonly headersTimeoutMs: number;
  /** ... and its whole request within this. */
  readonly requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /**
   * Requests pipelined behind the one in flight on a connection at most; one more closes the
   * connection. Each connection has one request in flight: the next is served once it is answered.
   */
  readonly maxPipelined: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxPipelined: 4,
};

/** The node:http server options that enforce the timeouts. */
export function limitedServerOptions(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often node looks for connections past those timeouts (its default, 30 s, let a slowloris
    // hold a connection for 40 s): a quarter of the headers timeout, so one is cut within 1.25x
    // of it (12.5 s at the default). Every second, as it was, this timer alone cost an idle agent
    // ~0.2 ms of CPU a second, a twentieth of its idle cost (issue 30).
    connectionsCheckingInterval: Math.max(100, limits.headersTimeoutMs / 4),
  };
}

/**
 * Caps the server's connections. Refusing new ones at the cap would let idle clients lock the
 * scraper out, so the connection idle the longest (no request in flight) is closed instead; a new
 * one is refused only when every connection is busy serving a request.
 */
export function capConnections(server: Server, maxConnections: number): void {
  const open = new Set<Socket>();
  const idle = new Set<Socket>(); // insertion order: longest idle first
  const forget = (socket: Socket) => {
    open.delete(socket);
    idle.delete(socket);
  };
  server.on("connection", (socket: Socket) => {
    socket.once("close", () => forget(socket));
    if (open.size >= maxConnections) {
      const oldest = idle.values().next().value;
      const evicted = oldest ?? socket;
      forget(evicted);
      evicted.destroy();
      if (evicted === socket) return;
    }
    open.add(socket);
    idle.add(socket);
  });
  server.on("request", (request, response) => {
    const socket: Socket = request.socket;
    idle.delete(socket);
    response.once("close", () => {
      if (open.has(socket) && !socket.destroyed) idle.add(socket);
    });
  });
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface ConnectionTurns {
  busy: boolean;
  readonly waiting: (() => void)[];
}

/**
 * One request in flight per connection, at most `maxPipelined` waiting behind it, then the
 * connection is closed. node:http hands every request of a pipelined burst to the handler at
 * once: three connections each sending 3,000 `GET /metrics` without reading the replies had
 * 9,000 renderings in progress, took RSS from 107 to 788 MB and stalled the agent for seconds.
 * Served in turn, a client that does not read its replies stops being read itself (node pauses
 * a socket whose writes do not drain); one that pipelines more than a few is closed.
 */
export function oneRequestInFlight(handler: Handler, maxPipelined: number): Handler {
  const turns = new WeakMap<Socket, ConnectionTurns>();
  return (request, response) => {
    const socket = request.socket;
    let connection = turns.get(socket);
    if (!connection) {
      connection = { busy: false, waiting: [] };
      turns.set(socket, connection);
    }
    const current = connection;
    const serve = () => {
      current.busy = true;
      response.once("close", () => {
        current.busy = false;
        current.waiting.shift()?.();
      });
      handler(request, response);
    };
    if (!current.busy) {
      serve();
      return;
    }
    if (current.waiting.length >= maxPipelined) {
      current.waiting.length = 0;
      socket.destroy();
      return;
    }
    current.waiting.push(serve);
  };
}
