import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createSloMetrics, type SloMetrics } from "../../src/export/metrics.js";
import { METRIC } from "../../src/export/names.js";
import { Secret } from "../../src/model/secret.js";
import { fixtureConfig } from "../support/slo-config.js";

interface Received {
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

let collector: Server | null = null;

/** A tiny loopback OTLP/HTTP receiver: records every POST and answers 200. */
async function startCollector(received: Received[]): Promise<string> {
  collector = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      received.push({ path: request.url ?? "", headers: request.headers, body });
      response.writeHead(200, { "content-type": "application/json" });
      response.end("{}");
    });
  });
  await new Promise<void>((resolve) => collector!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/metrics`;
}

afterEach(async () => {
  await new Promise((resolve) => collector?.close(resolve) ?? resolve(undefined));
  collector = null;
});

function metricNames(body: string): string[] {
  const payload = JSON.parse(body) as {
    resourceMetrics: { scopeMetrics: { metrics: { name: string }[] }[] }[];
  };
  return payload.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.name)));
}

/** One /metrics response's body, through serveScrape. */
function scrape(metrics: SloMetrics): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    const response = {
      statusCode: 0,
      setHeader: () => response,
      write: (chunk: string) => {
        body += chunk;
        return true;
      },
      end: () => resolve(body),
    };
    metrics.serveScrape({} as IncomingMessage, response as unknown as ServerResponse);
  });
}

describe("OTLP push", () => {
  it("pushes the same metrics to a collector, with the configured headers, and flushes on shutdown", async () => {
    const received: Received[] = [];
    const endpoint = await startCollector(received);
    const metrics = await createSloMetrics({
      config: fixtureConfig(),
      // A long interval: the push under test is the one shutdown() flushes.
      otlp: { endpoint, intervalMs: 600_000, headers: { "x-api-key": new Secret("k-123") } },
    });
    metrics.recordResult({
      ts: Date.UTC(2026, 9, 1),
      probe: "payment-request-read",
      category: "payment_request",
      status: 200,
      durationMs: 80,
      error: null,
      errorCode: null,
      correlationId: null,
    });
    // /metrics reads the agent's own instruments, not their OTLP twins in the SDK: each family once.
    const scraped = await scrape(metrics);
    expect(scraped.match(/^# TYPE slo_probe_requests_total counter$/gm)).toHaveLength(1);
    expect(scraped).toContain('probe="payment-request-read"');
    await metrics.shutdown();

    expect(received.length).toBeGreaterThanOrEqual(1);
    const push = received[0]!;
    expect(push.path).toBe("/v1/metrics");
    expect(push.headers["x-api-key"]).toBe("k-123");
    expect(metricNames(push.body)).toEqual(
      expect.arrayContaining([METRIC.probeRequests, METRIC.probeDuration]),
    );
  });
});
