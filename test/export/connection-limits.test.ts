import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_CONNECTION_LIMITS } from "../../src/export/connection-limits.js";
import { createSloMetrics, type SloMetrics } from "../../src/export/metrics.js";
import { type MetricsServer, startMetricsServer } from "../../src/export/server.js";
import { fixtureConfig } from "../support/slo-config.js";

let metrics: SloMetrics;
let server: MetricsServer;
const clients: Socket[] = [];

afterEach(async () => {
  for (const socket of clients.splice(0)) socket.destroy();
  await server.close();
  await metrics.shutdown();
});

/** A TCP client that never sends a byte; resolves `closed` when the server drops it. */
function idleClient(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    clients.push(socket);
    socket.on("error", () => {});
    const closed = new Promise<void>((done) => socket.once("close", () => done()));
    socket.once("connect", () => resolve({ socket, closed }));
    socket.once("error", reject);
  });
}

/** Sends request headers one byte at a time, bounded; resolves true if the server dropped it. */
async function slowloris(port: number, maxBytes: number): Promise<boolean> {
  const { socket, closed } = await idleClient(port);
  let dropped = false;
  void closed.then(() => {
    dropped = true;
  });
  socket.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
  for (let i = 0; i < maxBytes && !dropped; i++) {
    socket.write("a");
    await new Promise((r) => setTimeout(r, 250));
  }
  return dropped;
}

describe("the metrics server under idle and slow clients", () => {
  it("keeps answering /metrics with 1,000 idle connections open, holding at most maxConnections", async () => {
    metrics = await createSloMetrics({ config: fixtureConfig() });
    server = await startMetricsServer({ host: "127.0.0.1", port: 0, metrics, ready: () => true });
    let droppedByServer = 0;
    for (let i = 0; i < 1000; i++) {
      const { closed } = await idleClient(server.port);
      void closed.then(() => droppedByServer++);
    }
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("# HELP");
    }
    // Every connection past the cap evicted the longest-idle one; let the closes arrive.
    const expected = 1000 - DEFAULT_CONNECTION_LIMITS.maxConnections;
    for (let i = 0; i < 100 && droppedByServer < expected; i++) await new Promise((r) => setTimeout(r, 50));
    expect(droppedByServer).toBeGreaterThanOrEqual(expected);
  }, 60_000);

  it("drops a slowloris client at its headers timeout while /metrics keeps answering", async () => {
    metrics = await createSloMetrics({ config: fixtureConfig() });
    const limits = { ...DEFAULT_CONNECTION_LIMITS, headersTimeoutMs: 1_000 };
    server = await startMetricsServer({ host: "127.0.0.1", port: 0, metrics, ready: () => true, limits });
    const slow = slowloris(server.port, 120);
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    await response.text();
    // 120 bytes at 4 a second is 30 s of headers; the 1 s headers timeout must end it long before.
    expect(await slow).toBe(true);
  }, 60_000);
});
