import { describe, expect, it } from "vitest";
import type { ProbeResult } from "../../src/model/index.js";
import { dailyFigures, monthFigures, monthlyFigures } from "../../src/slo/index.js";
import { at, configWith, result, window } from "./config.js";

const MONTH = "2026-10";

function row(results: ProbeResult[], config = configWith(), category = "payment_request") {
  return monthlyFigures({ config, month: MONTH, results }).categories.find((c) => c.category === category)!;
}

describe("month boundaries (UTC calendar month)", () => {
  const cases: [string, string, number][] = [
    ["the first millisecond of the month counts", "2026-10-01T00:00:00.000Z", 1],
    ["the last millisecond of the month counts", "2026-10-31T23:59:59.999Z", 1],
    ["the first millisecond of the next month does not", "2026-11-01T00:00:00.000Z", 0],
    ["the last millisecond of the previous month does not", "2026-09-30T23:59:59.999Z", 0],
  ];
  for (const [rule, ts, requests] of cases) {
    it(rule, () => expect(row([result(ts, 200)]).requests).toBe(requests));
  }

  it("December's year usage counts the whole year and January starts afresh", () => {
    const config = configWith([
      window("mw-1", "2026-12-31T22:00:00Z", "2027-01-01T02:00:00Z", "2026-12-01T00:00:00Z"),
    ]);
    const dec = monthlyFigures({ config, month: "2026-12", results: [] }).maintenance;
    const jan = monthlyFigures({ config, month: "2027-01", results: [] }).maintenance;
    expect([dec.year_occasions_used, dec.year_hours_used]).toEqual([1, 4]);
    expect([jan.year_occasions_used, jan.year_hours_used]).toEqual([0, 0]);
    expect(jan.windows.map((w) => [w.id, w.qualified_hours])).toEqual([["mw-1", 4]]);
  });
});

describe("maintenance and exclusions in the month's figures", () => {
  const spanning = window("mw-1", "2026-10-31T23:00:00Z", "2026-11-01T01:00:00Z", "2026-10-01T00:00:00Z");

  it("a window that starts in one month and ends in the next excludes on both sides", () => {
    const config = configWith([spanning]);
    const oct = monthlyFigures({ config, month: "2026-10", results: [result("2026-10-31T23:30:00Z", 503)] });
    const nov = monthlyFigures({ config, month: "2026-11", results: [result("2026-11-01T00:30:00Z", 503)] });
    for (const f of [oct, nov]) {
      expect(f.categories[0]!.excluded).toBe(1);
      expect(f.categories[0]!.requests).toBe(0);
      expect(f.maintenance.windows.map((w) => w.id)).toEqual(["mw-1"]);
    }
  });

  it("excluded requests leave R, SR and latency alike", () => {
    const config = configWith([
      window("mw", "2026-10-10T01:00:00Z", "2026-10-10T02:00:00Z", "2026-09-01T00:00:00Z"),
    ]);
    const r = row(
      [result("2026-10-10T01:30:00Z", 200, 9000), result("2026-10-10T03:00:00Z", 200, 100)],
      config,
    );
    expect([r.requests, r.successful, r.excluded]).toEqual([1, 1, 1]);
    expect(r.latency_p99_ms).toBeCloseTo(100, 1);
  });

  it("a window covering some categories excludes only those", () => {
    const config = configWith([
      window("mw", "2026-10-10T01:00:00Z", "2026-10-10T02:00:00Z", "2026-09-01T00:00:00Z", ["settlements"]),
    ]);
    const results = [
      result("2026-10-10T01:30:00Z", 503),
      result("2026-10-10T01:30:00Z", 503, 100, "settlements"),
    ];
    const f = monthlyFigures({ config, month: MONTH, results });
    expect(f.categories.map((c) => [c.category, c.requests, c.excluded])).toEqual([
      ["payment_request", 1, 0],
      ["settlements", 0, 1],
      ["webhooks", 0, 0],
    ]);
    expect(f.maintenance.windows[0]!.excluded_requests).toBe(1);
  });

  it("declared exclusions are listed and counted", () => {
    const fm = {
      id: "fm-1",
      start: at("2026-10-20T10:00:00Z"),
      end: at("2026-10-20T11:00:00Z"),
      reason: "acquirer outage",
      categories: "all" as const,
    };
    const f = monthlyFigures({
      config: configWith([], [fm]),
      month: MONTH,
      results: [result("2026-10-20T10:15:00Z", null), result("2026-10-20T11:15:00Z", 200)],
    });
    expect(f.exclusions).toEqual([
      {
        id: "fm-1",
        start: "2026-10-20T10:00:00.000Z",
        end: "2026-10-20T11:00:00.000Z",
        reason: "acquirer outage",
        categories: ["all"],
        excluded_requests: 1,
      },
    ]);
    expect(f.categories[0]!.availability_pct).toBe(100);
  });
});

describe("latency", () => {
  it("a timeout is recorded at its timeout value, so timing out never improves p99", () => {
    const results = [
      ...Array.from({ length: 98 }, (_, i) => result(at("2026-10-02T00:00:00Z") + i * 1000, 200, 200)),
      result("2026-10-03T00:00:00Z", null, 10_000, "payment_request", "timeout"),
      result("2026-10-03T00:01:00Z", null, 10_000, "payment_request", "timeout"),
    ];
    const r = row(results);
    expect(r.latency_p99_ms).toBeGreaterThanOrEqual(10_000);
    expect(r.latency_p99_ms).toBeLessThanOrEqual(10_010);
    expect(r.latency_met).toBe(false);
  });

  it("a connection error has no duration to record", () => {
    const r = row([
      result("2026-10-02T00:00:00Z", 200, 100),
      result("2026-10-02T00:01:00Z", null, 5, undefined, "connect"),
    ]);
    expect(r.requests).toBe(2);
    expect(r.latency_p99_ms).toBeCloseTo(100, 1);
  });

  // HDR reports a p99 as the top of its 3-digit step (1500 ms reads 1500.159 ms); the objective is
  // compared at that same precision, so a p99 of exactly the objective meets it (contract: p99 <= objective).
  const objectiveCases: [string, string, number, boolean][] = [
    ["a p99 of exactly the 1500 ms objective meets it", "payment_request", 1500, true],
    ["a p99 below the 1500 ms objective meets it", "payment_request", 1400, true],
    ["a p99 one HDR step above the 1500 ms objective misses it", "payment_request", 1500.2, false],
    ["a p99 of exactly the 800 ms objective meets it", "webhooks", 800, true],
    ["a p99 one HDR step above the 800 ms objective misses it", "webhooks", 800.6, false],
    ["a p99 of exactly the 3000 ms objective meets it", "settlements", 3000, true],
  ];
  for (const [rule, category, ms, met] of objectiveCases) {
    it(rule, () => {
      const results = Array.from({ length: 100 }, (_, i) =>
        result(at("2026-10-02T00:00:00Z") + i * 1000, 200, ms, category),
      );
      expect(row(results, configWith(), category).latency_met).toBe(met);
    });
  }

  it("5xx responses count for latency (any status)", () => {
    const p99 = row([result("2026-10-02T00:00:00Z", 503, 2500)]).latency_p99_ms!;
    expect(p99).toBeGreaterThanOrEqual(2500);
    expect(p99).toBeLessThanOrEqual(2500 * 1.001);
  });
});

describe("every category and class appears, and classes pool requests", () => {
  it("a category without traffic has R = 0 and null figures, never 100", () => {
    const w = monthlyFigures({ config: configWith(), month: MONTH, results: [] }).categories[2]!;
    expect(w).toMatchObject({
      category: "webhooks",
      requests: 0,
      availability_pct: null,
      availability_met: null,
      latency_p99_ms: null,
      latency_met: null,
      error_budget_requests: 0,
      error_budget_used_ratio: null,
    });
  });

  it("a service class pools requests, which differs from the mean of its categories' availabilities", () => {
    // payment_request: 1 of 2 served (50%); settlements: 98 of 98 (100%). Mean of means 75%, pooled 99%.
    const results = [
      result("2026-10-02T00:00:00Z", 200),
      result("2026-10-02T00:00:01Z", 500),
      ...Array.from({ length: 98 }, (_, i) =>
        result(at("2026-10-03T00:00:00Z") + i, 200, 100, "settlements"),
      ),
    ];
    const cls = monthlyFigures({ config: configWith(), month: MONTH, results }).service_classes[0]!;
    expect([cls.requests, cls.successful, cls.availability_pct, cls.availability_met]).toEqual([
      100,
      99,
      99,
      true,
    ]);
  });

  it("results of categories the configuration does not know are ignored", () => {
    const f = monthlyFigures({
      config: configWith(),
      month: MONTH,
      results: [result("2026-10-02T00:00:00Z", 200, 1, "x")],
    });
    expect(f.categories.reduce((s, c) => s + c.requests, 0)).toBe(0);
  });
});

describe("daily figures", () => {
  it("every category on every UTC day of the month, days without traffic included", () => {
    const rows = dailyFigures({
      config: configWith(),
      month: MONTH,
      results: [result("2026-10-02T23:59:59.999Z", 200, 300), result("2026-10-03T00:00:00.000Z", 500, 400)],
    });
    expect(rows).toHaveLength(31 * 3);
    const pr = rows.filter((r) => r.category === "payment_request");
    expect(pr[1]).toMatchObject({ date: "2026-10-02", requests: 1, served: 1, availability_pct: 100 });
    expect(pr[2]).toMatchObject({ date: "2026-10-03", requests: 1, served: 0, availability_pct: 0 });
    expect(pr[0]).toMatchObject({
      date: "2026-10-01",
      requests: 0,
      availability_pct: null,
      latency_p99_ms: null,
    });
  });
});

describe("month and days in one pass (monthFigures)", () => {
  // Day 1: 100 fast requests; day 2: two slow ones; day 3: a maintenance window's requests only.
  const results = [
    ...Array.from({ length: 100 }, (_, i) => result(at("2026-10-01T00:00:00Z") + i * 30_000, 200, 10)),
    result("2026-10-02T12:00:00Z", 200, 500),
    result("2026-10-02T12:00:30Z", 503, 500),
    result("2026-10-03T01:30:00Z", 503, 900),
  ];
  const config = configWith([
    window("mw-1", "2026-10-03T01:00:00Z", "2026-10-03T02:00:00Z", "2026-09-01T00:00:00Z"),
  ]);
  const { monthly, daily } = monthFigures({ config, month: MONTH, results });
  const day = (date: string) => daily.find((r) => r.date === date && r.category === "payment_request")!;

  it("the month's figures are those of monthlyFigures over the same results", () => {
    expect(monthly).toEqual(monthlyFigures({ config, month: MONTH, results }));
  });

  it("the month's p99 ranks over every day (rank 101 of 102 is a slow request of day 2)", () => {
    const pr = monthly.categories.find((c) => c.category === "payment_request")!;
    expect(pr.latency_p99_ms).toBe(500);
    expect(pr.requests).toBe(102);
  });

  it("each day's p99 ranks over that day alone; a day of excluded requests has none", () => {
    expect(day("2026-10-01").latency_p99_ms).toBe(10);
    expect(day("2026-10-02").latency_p99_ms).toBe(500);
    expect(day("2026-10-03")).toMatchObject({ requests: 0, excluded: 1, latency_p99_ms: null });
  });

  it("every result of the month is observed once, with whether it was excluded", () => {
    const seen: boolean[] = [];
    monthFigures({ config, month: MONTH, results, observe: (_, excluded) => seen.push(excluded) });
    expect(seen).toEqual([...Array(102).fill(false), true]);
  });

  it("results that go back to an earlier day are refused (the daily series would be wrong)", () => {
    const backwards = [result("2026-10-02T00:00:00Z", 200), result("2026-10-01T23:59:59Z", 200)];
    expect(() => monthFigures({ config, month: MONTH, results: backwards })).toThrow(/ts order/);
  });

  it("dailyFigures takes results in any order", () => {
    expect(dailyFigures({ config, month: MONTH, results: [...results].reverse() })).toEqual(daily);
  });
});
