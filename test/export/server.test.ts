import { afterEach, describe, expect, it } from "vitest";
import { createSloMetrics, type SloMetrics } from "../../src/export/metrics.js";
import { type MetricsServer, startMetricsServer } from "../../src/export/server.js";
import { fixtureConfig } from "../support/slo-config.js";

let metrics: SloMetrics;
let server: MetricsServer | null;

async function start(ready: () => boolean): Promise<void> {
  metrics = await createSloMetrics({ config: fixtureConfig() });
  server = await startMetricsServer({ host: "127.0.0.1", port: 0, metrics, ready });
}

afterEach(async () => {
  await server?.close();
  await metrics.shutdown();
});

describe("the metrics server", () => {
  it("port 0 picks a free port and the url names it", async () => {
    await start(() => true);
    expect(server!.port).toBeGreaterThan(0);
    expect(server!.url).toBe(`http://127.0.0.1:${server!.port}`);
  });

  const routes: [string, string, string, boolean, number][] = [
    ["/healthz answers 200 while the process serves, ready or not", "GET", "/healthz", false, 200],
    ["/readyz answers 503 until the agent is ready", "GET", "/readyz", false, 503],
    ["/readyz answers 200 once the agent is ready", "GET", "/readyz", true, 200],
    ["/metrics answers 200 even before the agent is ready", "GET", "/metrics", false, 200],
    ["/metrics ignores a query string", "GET", "/metrics?x=1", true, 200],
    ["an unknown path is 404", "GET", "/nope", true, 404],
    ["a write method is 405", "POST", "/metrics", true, 405],
  ];
  for (const [rule, method, path, isReady, status] of routes) {
    it(rule, async () => {
      await start(() => isReady);
      const response = await fetch(`${server!.url}${path}`, { method });
      await response.text();
      expect(response.status).toBe(status);
    });
  }

  it("readiness is asked at every request, not once at start", async () => {
    let ready = false;
    await start(() => ready);
    expect((await fetch(`${server!.url}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${server!.url}/readyz`)).status).toBe(200);
  });

  it("a port already in use is reported, not swallowed", async () => {
    await start(() => true);
    const second = startMetricsServer({ host: "127.0.0.1", port: server!.port, metrics, ready: () => true });
    await expect(second).rejects.toThrow(/EADDRINUSE/);
  });

  it("close() returns while a scraper still holds a keep-alive connection", async () => {
    await start(() => true);
    await (await fetch(`${server!.url}/metrics`, { keepalive: true })).text();
    await expect(server!.close()).resolves.toBeUndefined();
    server = null;
  });
});
