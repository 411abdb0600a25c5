import type { Dispatcher } from "undici";
import requestModule from "undici/lib/api/api-request.js";
import connectorModule from "undici/lib/core/connect.js";
import AgentModule from "undici/lib/dispatcher/agent.js";

/**
 * The parts of undici the daemon uses, each loaded from its own module instead of undici's index
 * (issue 30, RSS). The index also loads fetch, WebSocket, EventSource, the caches and the mocks,
 * and its cookies module reads the global `Headers`, which makes Node.js load the copy of undici
 * it bundles for its own fetch as well: ~8 MB in each of the agent's two threads, for code `run`
 * never calls. Same library, same code paths; test/cli/start-up-modules.test.ts keeps the rest
 * unloaded. Commands that seldom need HTTP load the whole package on first use (lazy-undici.ts).
 */

/** undici's Agent (a pool of connections per origin), as `import { Agent } from "undici"`. */
export const Agent = AgentModule;

/** undici's buildConnector (the socket factory the prober times), as exported by the index. */
export const buildConnector = connectorModule;

/** The options of undici's `request(url, options)` that the daemon passes; the dispatcher is required. */
export type RequestOptions = Omit<Dispatcher.RequestOptions, "origin" | "path" | "method"> & {
  readonly dispatcher: Dispatcher;
  readonly method?: Dispatcher.HttpMethod;
};

/**
 * undici's `request(url, options)` on the given dispatcher: what the index's wrapper does for a
 * URL (its origin, and its path with the query) before it calls the same request on the dispatcher.
 */
export function request(url: string | URL, options: RequestOptions): Promise<Dispatcher.ResponseData> {
  const target = typeof url === "string" ? new URL(url) : url;
  const { dispatcher, ...rest } = options;
  return requestModule.call(dispatcher, {
    ...rest,
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
    method: options.method ?? "GET",
  });
}
