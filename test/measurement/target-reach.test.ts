import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { effectiveConfiguration } from "../../src/config/fingerprint.js";
import type { HttpProbeSpec, SloConfig, Target } from "../../src/model/config.js";
import type { ProbeResult } from "../../src/model/result.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { buildMonthlyReport } from "../../src/reports/index.js";
import { verdictLine } from "../../src/reports/verdicts.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * Contract section 14, unreached targets, from the evidence log: which configuration a request
 * was sent under comes from the store's configuration records, whether its target had answered
 * from the stored results. A real SQLite store; configurations recorded as the agent records them.
 */

const MIN = 60_000;
const NOV = Date.UTC(2026, 10, 1);
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function withProbe(change: Partial<HttpProbeSpec>): SloConfig {
  const base = fixtureConfig();
  return fixtureConfig({
    probes: base.probes.map((p, i) => (i === 0 && p.kind === "http" ? { ...p, ...change } : p)),
  });
}

function request(ts: number, answered: boolean): ProbeResult {
  return {
    ts,
    probe: "payment-request-read",
    category: "payment_request",
    status: answered ? 200 : null,
    durationMs: answered ? 80 : 2,
    error: answered ? null : "connect",
    errorCode: null,
    correlationId: null,
  };
}

/**
 * Configurations recorded at their times (as the daemon records each load), results imported,
 * then the month's report with its per-record verdicts.
 */
function reportOf(steps: readonly { at: number; config?: SloConfig; results?: ProbeResult[] }[]) {
  const dir = mkdtempSync(join(tmpdir(), "slo-reach-"));
  dirs.push(dir);
  const clock = new FakeClock(NOV);
  const store = openEvidenceStore({ dataDir: join(dir, "data"), clock, logger: () => {} });
  try {
    for (const step of steps) {
      clock.advance(step.at - clock.now());
      if (step.config) store.recordInput("config", effectiveConfiguration(step.config));
      if (step.results) store.importResults(step.results);
    }
    const verdicts: string[] = [];
    const report = buildMonthlyReport({
      config: steps.findLast((s) => s.config)?.config ?? fixtureConfig(),
      store,
      month: "2026-11",
      now: NOV + 10 * 24 * 60 * MIN,
      categories: ["payment_request"],
      classify: (result, verdict) => verdicts.push(verdictLine(result, verdict)),
    });
    return { category: report.categories[0]!, report, verdicts };
  } finally {
    store.close();
  }
}

/** The probes' target "klarna" at `baseUrl`, with `change` to the first probe. */
function withTarget(baseUrl: string, change: Partial<HttpProbeSpec> = {}): SloConfig {
  const target: Target = {
    id: "klarna",
    baseUrl,
    environment: "production",
    auth: { type: "none" },
    headers: {},
    maxRequestsPerSecond: null,
    keepAlive: true,
    tlsVerify: true,
  };
  return { ...withProbe(change), targets: new Map([["klarna", target]]) };
}

const series = (from: number, n: number, answered: boolean) =>
  Array.from({ length: n }, (_, i) => request(from + i * MIN, answered));

describe("target_unreached is judged from the evidence log", { timeout: 60_000 }, () => {
  it("a changed port starts over: its failures before the first answer are target_unreached, not the provider's", () => {
    const { category, report, verdicts } = reportOf([
      {
        at: NOV + MIN,
        config: withTarget("http://127.0.0.1:8080"),
        results: series(NOV + 2 * MIN, 10, true),
      },
      {
        at: NOV + 60 * MIN,
        config: withTarget("http://127.0.0.1:9"),
        results: series(NOV + 61 * MIN, 5, false),
      },
    ]);
    expect(category.requests).toBe(10);
    expect(category.excluded).toBe(5);
    expect(category.measurement_problems).toEqual([
      expect.objectContaining({ kind: "target_unreached", requests: 5 }),
    ]);
    expect(report.automatic_exclusions).toEqual([
      expect.objectContaining({ reason: "target_unreached", requests: 5 }),
    ]);
    // Each verdict says since when the destination it was judged under held.
    expect(verdicts.filter((v) => v.includes("target_unreached"))).toHaveLength(5);
    expect(verdicts.at(-1)).toContain('"since":"2026-11-01T01:00:00.000Z"');
  });

  // Attack 24b finding 4: a cosmetic reload during an outage hid the rest of it.
  for (const [change, config] of [
    ["a changed path", () => withTarget("http://127.0.0.1:8080", { path: "/x?v=2" })],
    ["a renamed probe", () => withTarget("http://127.0.0.1:8080/", { id: "payment-request-read-v2" })],
  ] as const) {
    it(`${change} is the same destination: its target answered, failures after it stay the provider's`, () => {
      const renamed = change === "a renamed probe";
      const failures = series(NOV + 61 * MIN, 5, false).map((r) =>
        renamed ? { ...r, probe: "payment-request-read-v2" } : r,
      );
      const { category } = reportOf([
        {
          at: NOV + MIN,
          config: withTarget("http://127.0.0.1:8080"),
          results: series(NOV + 2 * MIN, 10, true),
        },
        { at: NOV + 60 * MIN, config: config(), results: failures },
      ]);
      expect(category.requests).toBe(15);
      expect(category.excluded).toBe(0);
      expect(category.measurement_problems).toEqual([]);
    });
  }

  it("a request that got a connection reached its target: a timeout after it is the provider's", () => {
    const hung = (ts: number): ProbeResult => ({
      ...request(ts, false),
      error: "timeout",
      durationMs: 500,
      phases: { dnsMs: null, connectMs: 1, tlsMs: null, requestSentMs: 1.2, ttfbMs: null, bodyEndMs: null },
    });
    const { category } = reportOf([
      {
        at: NOV + MIN,
        config: withTarget("http://localhost:8080"),
        results: [hung(NOV + 2 * MIN), hung(NOV + 3 * MIN)],
      },
    ]);
    expect(category.requests).toBe(2);
    expect(category.excluded).toBe(0);
  });

  it("a changed timeout is the same target: failures after it stay the provider's", () => {
    const { category } = reportOf([
      { at: NOV + MIN, config: fixtureConfig(), results: series(NOV + 2 * MIN, 10, true) },
      {
        at: NOV + 60 * MIN,
        config: withProbe({ timeoutMs: 3_000 }),
        results: series(NOV + 61 * MIN, 5, false),
      },
    ]);
    expect(category.requests).toBe(15);
    expect(category.excluded).toBe(0);
    expect(category.measurement_problems).toEqual([]);
  });

  it("an answer of the month before counts: failures early in the month are the provider's", () => {
    const OCT_END = NOV - 30 * MIN;
    const { category } = reportOf([
      { at: OCT_END - MIN, config: fixtureConfig(), results: series(OCT_END, 3, true) },
      { at: NOV + MIN, results: series(NOV + MIN, 5, false) },
    ]);
    expect(category.requests).toBe(5);
    expect(category.excluded).toBe(0);
  });

  it("failures until the first answer are target_unreached, those after it count", () => {
    const { category, report } = reportOf([
      {
        at: NOV + MIN,
        config: fixtureConfig(),
        results: [
          ...series(NOV + 2 * MIN, 3, false),
          ...series(NOV + 5 * MIN, 1, true),
          ...series(NOV + 6 * MIN, 4, false),
        ],
      },
    ]);
    expect(category.excluded).toBe(3);
    expect(category.requests).toBe(5);
    expect(category.successful).toBe(1);
    expect(report.automatic_exclusions.map((x) => [x.reason, x.requests])).toEqual([["target_unreached", 3]]);
  });
});
