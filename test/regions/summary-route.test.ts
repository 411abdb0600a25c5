import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summaryRoute } from "../../src/agent/summary-route.js";
import { FakeClock } from "../../src/clock/fake.js";
import { type MetricsServer, startMetricsServer } from "../../src/export/server.js";
import type { SloConfig } from "../../src/model/config.js";
import { Secret } from "../../src/model/secret.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/store.js";
import { type AgentMonthSummary, type LatencyTail, TAIL_KIND } from "../../src/reports/agent-summary.js";
import { fixtureConfig } from "../support/slo-config.js";

const NOW = Date.parse("2026-11-20T12:00:00.000Z");
const TOKEN = "summary-route-token-5e1d";
const SCRAPE = { serveScrape: () => undefined };

let dir: string;
let store: EvidenceStore;
let config: SloConfig;
let server: MetricsServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-summary-"));
  store = openEvidenceStore({
    dataDir: dir,
    clock: new FakeClock(NOW),
    identity: { agent: "a-eu", region: "eu" },
  });
  for (let i = 0; i < 200; i++) {
    store.record({
      ts: NOW - 3_600_000 + i * 1000,
      probe: "payment-request-read",
      category: "payment_request",
      status: i % 50 === 0 ? 503 : 200,
      durationMs: i + 1,
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  store.flush();
  config = fixtureConfig();
  const route = summaryRoute({ config: () => config, store, now: () => NOW });
  server = await startMetricsServer({
    host: "127.0.0.1",
    port: 0,
    metrics: SCRAPE,
    ready: () => true,
    routes: [route],
  });
});
afterAll(async () => {
  await server?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, token?: string) =>
  fetch(`${server.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe("GET /api/v1/months/M/summary", () => {
  it("answers 403 while no agent.api_token is configured, 401 to a wrong token", async () => {
    config = fixtureConfig();
    expect((await get("/api/v1/months/2026-11/summary", TOKEN)).status).toBe(403);
    config = fixtureConfig({ agent: { ...fixtureConfig().agent, apiToken: new Secret(TOKEN) } });
    const wrong = await get("/api/v1/months/2026-11/summary", "x".repeat(24));
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain(TOKEN);
  });

  it("serves the month's counts and, on request, the category's largest durations", async () => {
    config = fixtureConfig({ agent: { ...fixtureConfig().agent, apiToken: new Secret(TOKEN) } });
    const summary = (await (await get("/api/v1/months/2026-11/summary", TOKEN)).json()) as AgentMonthSummary;
    const row = summary.report.categories.find((c) => c.category === "payment_request");
    expect(row).toMatchObject({ requests: 200, successful: 196, latency_p99_ms: 198 });
    expect(summary.latency_counts.payment_request?.month).toBe(200);
    expect(summary.report.evidence.statement?.agent).toBe("test-agent");
    // n = 200: rank ceil(198) is the 3rd largest; the top 3 suffice.
    const answer = await get("/api/v1/months/2026-11/summary?category=payment_request&top=3", TOKEN);
    const tail = (await answer.json()) as LatencyTail;
    expect(tail.month_ms).toEqual([200, 199, 198]);
    // The question is part of the signed answer: the merge checks it answers what it asked.
    expect(tail).toMatchObject({ kind: TAIL_KIND, month: "2026-11", agent: "test-agent", top: 3, days: [] });
    expect((await get("/api/v1/months/2026-11/summary?category=nope&top=3", TOKEN)).status).toBe(400);
    expect((await get("/api/v1/months/2026-13/summary", TOKEN)).status).toBe(400);
    expect((await get("/api/v1/months/2026-11/other", TOKEN)).status).toBe(404);
  });
});
