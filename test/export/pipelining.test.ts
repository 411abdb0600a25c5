import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_CONNECTION_LIMITS } from "../../src/export/connection-limits.js";
import { createSloMetrics, type SloMetrics } from "../../src/export/metrics.js";
import { PrometheusMeter } from "../../src/export/prometheus-meter.js";
import { type MetricsServer, startMetricsServer } from "../../src/export/server.js";
import { fixtureConfig } from "../support/slo-config.js";

let metrics: SloMetrics;
let server: MetricsServer;
const sockets: Socket[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of sockets.splice(0)) s.destroy();
  await server.close();
  await metrics.shutdown();
});

/** A route that answers after `delayMs` and tracks how many of its requests were in progress at once. */
function slowRoute(delayMs: number) {
  const seen = { started: 0, inProgress: 0, maxInProgress: 0 };
  return {
    seen,
    route: {
      path: "/slow",
      method: "GET" as const,
      handle(_request: unknown, response: import("node:http").ServerResponse) {
        seen.started++;
        seen.maxInProgress = Math.max(seen.maxInProgress, ++seen.inProgress);
        setTimeout(() => {
          seen.inProgress--;
          response.end(`answer ${seen.started}\n`);
        }, delayMs);
      },
    },
  };
}

function open(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    sockets.push(socket);
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk;
    });
    socket.on("error", () => {});
    const closed = new Promise<void>((done) => socket.once("close", () => done()));
    socket.once("connect", () => resolve({ socket, received: () => text, closed }));
    socket.once("error", reject);
  });
}

const REQUEST = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

describe("the agent's HTTP server under pipelining and scrape storms", { timeout: 60_000 }, () => {
  it("serves a connection's pipelined requests one at a time, in order", async () => {
    const slow = slowRoute(50);
    metrics = await createSloMetrics({ config: fixtureConfig() });
    server = await startMetricsServer({
      host: "127.0.0.1",
      port: 0,
      metrics,
      ready: () => true,
      routes: [slow.route],
    });
    const client = await open(server.port);
    client.socket.write(REQUEST("/slow").repeat(3));
    await vi.waitFor(() => expect(client.received().match(/HTTP\/1.1 200/g)?.length).toBe(3), {
      timeout: 20_000,
    });
    expect(slow.seen.maxInProgress).toBe(1);
    expect(client.received().indexOf("answer 1")).toBeLessThan(client.received().indexOf("answer 3"));
  });

  it("closes a connection that pipelines more than a few requests, having started at most one plus the queue", async () => {
    const slow = slowRoute(200);
    metrics = await createSloMetrics({ config: fixtureConfig() });
    server = await startMetricsServer({
      host: "127.0.0.1",
      port: 0,
      metrics,
      ready: () => true,
      routes: [slow.route],
    });
    const client = await open(server.port);
    client.socket.write(REQUEST("/slow").repeat(3_000));
    await client.closed;
    await new Promise((r) => setTimeout(r, 500));
    expect(slow.seen.started).toBeLessThanOrEqual(1 + DEFAULT_CONNECTION_LIMITS.maxPipelined);
    // The server still serves everyone else.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("concurrent scrapes share one rendering and get the same bytes", async () => {
    metrics = await createSloMetrics({ config: fixtureConfig() });
    server = await startMetricsServer({ host: "127.0.0.1", port: 0, metrics, ready: () => true });
    const renders = vi.spyOn(PrometheusMeter.prototype, "write");
    const clients = await Promise.all(Array.from({ length: 50 }, () => open(server.port)));
    // Written in one go, the 50 requests arrive while the first rendering is in progress.
    for (const c of clients)
      c.socket.write(`GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    await Promise.all(clients.map((c) => c.closed));
    const bodies = new Set(clients.map((c) => c.received().split("\r\n\r\n").slice(1).join("\r\n\r\n")));
    expect(clients.every((c) => c.received().startsWith("HTTP/1.1 200"))).toBe(true);
    expect(renders.mock.calls.length).toBeLessThan(50);
    expect(bodies.size).toBeLessThanOrEqual(renders.mock.calls.length);
  });
});
