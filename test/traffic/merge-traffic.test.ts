import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { trafficRoutesOf } from "../../src/config/traffic-wire.js";
import type { ProbeResult } from "../../src/model/result.js";
import { Secret } from "../../src/model/secret.js";
import { monthInterval } from "../../src/model/time.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { type AgentMonthSummary, SummaryCollector } from "../../src/reports/agent-summary.js";
import { checkSummary } from "../../src/reports/agent-summary-schema.js";
import { buildMonthlyReport } from "../../src/reports/index.js";
import { mergeAgentReports } from "../../src/reports/merge.js";
import { fixtureConfig } from "../support/slo-config.js";

// report --from-agents adds the agents' merchant requests (contract section 19) and checks them
// as strictly as the rest of a summary. Real stores, real reports, real summaries.

const T0 = Date.UTC(2026, 9, 1);
const NOW = Date.UTC(2026, 10, 2);
const root = mkdtempSync(join(tmpdir(), "slo-traffic-merge-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const base = fixtureConfig();
const config = {
  ...base,
  traffic: {
    token: new Secret("x".repeat(16)),
    maxBodyBytes: 1 << 20,
    routes: trafficRoutesOf([
      { method: "POST", path: "/payments/v1/sessions", target: "klarna", category: "payment_request" },
    ]),
  },
};

const request = (i: number, status: number, ms: number): ProbeResult => ({
  ts: T0 + 1_000 + i * 7,
  probe: "traffic:POST /payments/v1/sessions",
  category: "payment_request",
  status,
  durationMs: ms,
  error: null,
  errorCode: null,
  correlationId: i.toString(16).padStart(16, "0"),
  flags: [],
  source: "traffic",
});

/** An agent's summary of October over `count` requests, the first `failed` of them answered 503. */
function summaryOf(agent: string, count: number, failed: number, ms: number): AgentMonthSummary {
  const s = openEvidenceStore({ dataDir: join(root, agent), clock: new FakeClock(NOW), logger: () => {} });
  for (let i = 0; i < count; i++) s.record(request(i, i < failed ? 503 : 201, ms + i));
  s.flush();
  const collector = new SummaryCollector(config, monthInterval("2026-10"));
  const report = buildMonthlyReport({
    config,
    store: s,
    month: "2026-10",
    now: NOW,
    observeResult: (r, x) => collector.observe(r, x),
  });
  s.close();
  const summary = collector.summary(report, {
    agent,
    region: agent,
    agent_version: "test",
    sla_config_sha256: "0".repeat(64),
    credits: [],
  });
  // As it travels: JSON, checked on arrival.
  const checked = checkSummary(JSON.parse(JSON.stringify(summary)), "2026-10");
  if (typeof checked === "string") throw new Error(checked);
  return checked;
}

const merged = (...summaries: AgentMonthSummary[]) =>
  mergeAgentReports(
    summaries.map((summary) => ({ url: `http://${summary.agent}`, summary })),
    new Map(),
    NOW,
  );

describe("report --from-agents merges the traffic block (contract section 19)", () => {
  const eu = summaryOf("eu", 100, 10, 20);
  const na = summaryOf("na", 50, 5, 300);
  const idle = summaryOf("idle", 0, 0, 0);

  it("adds requests and successful and recomputes availability, per category and per day", () => {
    const report = merged(eu, na);
    const row = report.categories.find((c) => c.category === "payment_request")!;
    expect(row.traffic?.requests).toBe(150);
    expect(row.traffic?.successful).toBe(135);
    expect(row.traffic?.availability_pct).toBe(90);
    const day = report.daily.find((d) => d.date === "2026-10-01" && d.category === "payment_request")!;
    expect(day.traffic?.requests).toBe(150);
    expect(day.traffic?.successful).toBe(135);
    const next = report.daily.find((d) => d.date === "2026-10-02" && d.category === "payment_request")!;
    expect(next.traffic).toEqual({
      requests: 0,
      successful: 0,
      availability_pct: null,
      latency_p99_ms: null,
    });
  });

  it("the p99 of several agents' requests is not mergeable without their durations: null", () => {
    expect(
      merged(eu, na).categories.find((c) => c.category === "payment_request")!.traffic?.latency_p99_ms,
    ).toBeNull();
  });

  it("the p99 is the one agent's when only one had requests (the others add no duration)", () => {
    const own = eu.report.categories.find((c) => c.category === "payment_request")!.traffic!.latency_p99_ms;
    expect(own).toBe(20 + 98);
    const row = merged(eu, idle).categories.find((c) => c.category === "payment_request")!;
    expect(row.traffic).toEqual({ requests: 100, successful: 90, availability_pct: 90, latency_p99_ms: own });
  });

  it.each([
    [
      "successful over requests",
      { requests: 5, successful: 6, availability_pct: 100, latency_p99_ms: 1 },
      "successful exceeds requests",
    ],
    [
      "a fractional count",
      { requests: 5.5, successful: 5, availability_pct: 90, latency_p99_ms: 1 },
      "traffic.requests",
    ],
    [
      "a negative count",
      { requests: 5, successful: -1, availability_pct: 0, latency_p99_ms: 1 },
      "traffic.successful",
    ],
    [
      "a count as a string",
      { requests: "5", successful: 5, availability_pct: 100, latency_p99_ms: 1 },
      "traffic.requests",
    ],
    [
      "a percentage without requests",
      { requests: 0, successful: 0, availability_pct: 100, latency_p99_ms: null },
      "availability_pct does not match",
    ],
    [
      "an unknown field",
      { requests: 5, successful: 5, availability_pct: 100, latency_p99_ms: 1, extra: 1 },
      "traffic",
    ],
  ])("refuses a summary whose traffic block has %s, in a category or a day", (_, block, message) => {
    for (const list of ["categories", "daily"] as const) {
      const body = JSON.parse(JSON.stringify(eu));
      body.report[list][0].traffic = block;
      const problem = checkSummary(body, "2026-10");
      expect(typeof problem).toBe("string");
      expect(problem).toContain(message);
      expect(problem).toContain(`report.${list}.0.traffic`);
    }
  });
});
