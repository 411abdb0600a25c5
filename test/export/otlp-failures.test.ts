import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createSloMetrics, type SloMetrics } from "../../src/export/metrics.js";
import { Secret } from "../../src/model/secret.js";
import { eventually } from "../support/eventually.js";
import { fixtureConfig } from "../support/slo-config.js";

let collector: Server | null = null;
let metrics: SloMetrics | null = null;
afterEach(async () => {
  await metrics?.shutdown().catch(() => {});
  collector?.closeAllConnections();
  await new Promise((resolve) => collector?.close(resolve) ?? resolve(undefined));
});

describe("OTLP push failures", () => {
  it("are logged once when pushes start failing and once when they recover", async () => {
    let answer = 400;
    let posts = 0;
    collector = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        posts++;
        response.writeHead(answer, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector!.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/metrics`;
    const lines: string[] = [];
    metrics = await createSloMetrics({
      config: fixtureConfig(),
      otlp: { endpoint, intervalMs: 300, log: (level, message) => lines.push(`${level} ${message}`) },
    });
    // The reader pushes nothing while there is nothing to push.
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

    await eventually(() => posts >= 4, 30_000, "four refused pushes");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^warn OTLP push to ${endpoint} failed: .+ \\(logged again only once it recovers\\)$`),
    );
    answer = 200;
    await eventually(() => lines.length >= 2, 30_000, "the recovery line");
    expect(lines[1]).toBe(`info OTLP push to ${endpoint} recovered`);
  }, 60_000);

  it("never log a value the environment put into the endpoint's path", async () => {
    const token = "otlp-path-token-6c1f9e2a";
    let answer = 400;
    let posts = 0;
    collector = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        posts++;
        response.writeHead(answer, { "content-type": "application/json" }).end(`{"echo":"${token}"}`);
      });
    });
    await new Promise<void>((resolve) => collector!.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const lines: string[] = [];
    metrics = await createSloMetrics({
      config: fixtureConfig(),
      otlp: {
        endpoint: `${base}/${token}/v1/metrics`,
        intervalMs: 300,
        log: (level, message) => lines.push(`${level} ${message}`),
        environmentValues: [new Secret(token)],
      },
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
    await eventually(() => posts >= 2, 30_000, "two refused pushes");
    answer = 200;
    await eventually(() => lines.length >= 2, 30_000, "the recovery line");
    expect(lines[0]).toMatch(new RegExp(`^warn OTLP push to ${base}/\\[redacted\\]/v1/metrics failed: `));
    expect(lines[1]).toBe(`info OTLP push to ${base}/[redacted]/v1/metrics recovered`);
    for (const line of lines) expect(line.toLowerCase()).not.toContain(token);
  }, 60_000);
});
