import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ConnectionLimits,
  capConnections,
  DEFAULT_CONNECTION_LIMITS,
  limitedServerOptions,
  oneRequestInFlight,
} from "./connection-limits.js";
import type { SloMetrics } from "./metrics.js";

export interface MetricsServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly metrics: Pick<SloMetrics, "serveScrape">;
  /** Whether the agent is ready to be scraped and trusted (config loaded, store open, probes scheduled). */
  readonly ready: () => boolean;
  /** The agent's alerts as a JSON-serialisable value, served on /alerts (contract section 9). */
  readonly alerts?: () => unknown;
  /** Connection cap and timeouts (default DEFAULT_CONNECTION_LIMITS). */
  readonly limits?: ConnectionLimits;
  /** More endpoints (the reload, the status page), matched before the built-in ones. */
  readonly routes?: readonly Route[];
  /** The Host header values answered (lower case, NAME or NAME:PORT); others get 421. Absent: any. */
  readonly allowedHosts?: readonly string[];
}

/** One endpoint: an exact path (or, with prefix, every path under it) and the methods it answers (HEAD is served by a GET route). */
export interface Route {
  readonly path: string;
  /** Match every path that starts with `path` (the handler reads the rest from request.url). */
  readonly prefix?: boolean;
  readonly method: "GET" | "POST";
  handle(request: IncomingMessage, response: ServerResponse): void | Promise<void>;
}

export interface MetricsServer {
  /** http://HOST:PORT of the listening server. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** `/metrics`, `/healthz` and `/readyz` on one port (contract section 6, agent.listen). */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const limits = options.limits ?? DEFAULT_CONNECTION_LIMITS;
  const server = createServer(
    limitedServerOptions(limits),
    oneRequestInFlight((request, response) => route(options, request, response), limits.maxPipelined),
  );
  capConnections(server, limits.maxConnections);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Prometheus keeps scrape connections open; close() must not wait for them.
        server.closeAllConnections();
      }),
  };
}

function route(options: MetricsServerOptions, request: IncomingMessage, response: ServerResponse): void {
  if (hostHeaders(request.rawHeaders) > 1) {
    // RFC 9112 3.2: two Host headers are a bad request; Node keeps the first, a proxy may use another.
    reply(response, 400, "bad request: more than one Host header\n");
    return;
  }
  if (options.allowedHosts !== undefined && !hostAllowed(options.allowedHosts, request.headers.host)) {
    // DNS rebinding: a page on evil.example resolved to this address sends Host: evil.example.
    reply(response, 421, "misdirected request: this Host is not in agent.allowed_hosts\n");
    return;
  }
  const path = (request.url ?? "/").split("?")[0];
  const extra = (options.routes ?? []).filter((r) => (r.prefix ? path?.startsWith(r.path) : r.path === path));
  if (extra.length > 0) {
    serveExtra(extra, request, response);
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    reply(response, 405, "method not allowed\n", { allow: "GET, HEAD" });
    return;
  }
  switch (path) {
    case "/metrics":
      options.metrics.serveScrape(request, response);
      return;
    case "/healthz":
      reply(response, 200, "ok\n");
      return;
    case "/readyz":
      if (options.ready()) reply(response, 200, "ready\n");
      else reply(response, 503, "not ready\n");
      return;
    case "/alerts":
      reply(response, 200, `${JSON.stringify(options.alerts?.() ?? { alerts: [] }, null, 2)}\n`, {
        "content-type": "application/json",
      });
      return;
    default:
      reply(response, 404, "not found: try /metrics, /healthz, /readyz or /alerts\n");
  }
}

function hostHeaders(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === "host") n += 1;
  return n;
}

/** Whether the Host header names an allowed host, with or without its port. */
export function hostAllowed(allowed: readonly string[], host: string | undefined): boolean {
  if (host === undefined || host === "") return false;
  const full = host.toLowerCase();
  const name = full.startsWith("[") ? full.slice(0, full.indexOf("]") + 1) : full.replace(/:\d+$/, "");
  return allowed.includes(full) || allowed.includes(name);
}

function serveExtra(routes: readonly Route[], request: IncomingMessage, response: ServerResponse): void {
  const method = request.method === "HEAD" ? "GET" : request.method;
  const match = routes.find((r) => r.method === method);
  if (!match) {
    const allow = routes.map((r) => (r.method === "GET" ? "GET, HEAD" : r.method)).join(", ");
    reply(response, 405, "method not allowed\n", { allow });
    return;
  }
  Promise.resolve()
    .then(() => match.handle(request, response))
    .catch(() => {
      if (!response.headersSent) reply(response, 500, "internal error\n");
      else response.destroy();
    });
}

export function reply(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers });
  response.end(body);
}
