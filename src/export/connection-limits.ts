import type { Server, ServerOptions } from "node:http";
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
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
};

/** The node:http server options that enforce the timeouts. */
export function limitedServerOptions(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often node looks for connections past those timeouts (default 30 s).
    connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
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
