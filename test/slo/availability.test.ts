import { describe, expect, it } from "vitest";
import {
  availabilityPct,
  BURN_RATE_WINDOWS,
  burnRate,
  errorBudget,
  MULTI_WINDOW_ALERTS,
  meetsAvailabilityTarget,
  monthlyFigures,
  projectedExhaustion,
} from "../../src/slo/index.js";
import { configWith, result } from "./config.js";

const TS = "2026-10-05T12:00:00.000Z";

describe("a request's status decides whether it was served (contract section 1)", () => {
  const cases: [string, number | null, boolean][] = [
    ["200 OK is served", 200, true],
    ["204 No Content is served", 204, true],
    ["302 redirect is served", 302, true],
    ["400 Bad Request is served (the caller's fault)", 400, true],
    ["404 Not Found is served", 404, true],
    ["429 Too Many Requests is served", 429, true],
    ["499 is the last served status", 499, true],
    ["500 Internal Server Error fails", 500, false],
    ["503 Service Unavailable fails", 503, false],
    ["no response at all fails", null, false],
  ];
  for (const [rule, status, served] of cases) {
    it(rule, () => {
      const figures = monthlyFigures({
        config: configWith(),
        month: "2026-10",
        results: [result(TS, status)],
      });
      const row = figures.categories.find((c) => c.category === "payment_request")!;
      expect(row.requests).toBe(1);
      expect(row.successful).toBe(served ? 1 : 0);
      expect(row.availability_pct).toBe(served ? 100 : 0);
    });
  }
});

describe("availability arithmetic", () => {
  it("R = 0 gives null (no traffic), never 100", () => {
    expect(availabilityPct({ requests: 0, served: 0 })).toBeNull();
    expect(meetsAvailabilityTarget({ requests: 0, served: 0 }, 0.99)).toBeNull();
  });

  it("is SR / R * 100 at full precision", () => {
    expect(availabilityPct({ requests: 8928, served: 8920 })).toBe((8920 * 100) / 8928);
    expect(availabilityPct({ requests: 3, served: 2 })).toBe((2 * 100) / 3);
  });

  it("is the correctly rounded percentage, with no noise in the last digit", () => {
    expect(availabilityPct({ requests: 625, served: 619 })).toBe(99.04);
    expect(availabilityPct({ requests: 50, served: 29 })).toBe(58);
    expect(availabilityPct({ requests: 1000, served: 995 })).toBe(99.5);
  });

  const targetCases: [string, number, number, number, boolean][] = [
    ["exactly 99% meets a 99.0% target", 9900, 10000, 0.99, true],
    ["one failure more misses a 99.0% target", 9899, 10000, 0.99, false],
    ["exactly 99.9% meets a 99.9% target", 999, 1000, 0.999, true],
    ["just under 99.9% misses it", 998, 1000, 0.999, false],
    ["99.5% of 200 meets a 99.5% target", 199, 200, 0.995, true],
  ];
  for (const [rule, served, requests, target, met] of targetCases) {
    it(rule, () => expect(meetsAvailabilityTarget({ requests, served }, target)).toBe(met));
  }
});

describe("error budget and burn rate", () => {
  it("the budget is (1 - target) * R and the used ratio (R - SR) / budget", () => {
    const budget = errorBudget({ target: 0.99, requests: 8928, served: 8920 });
    expect(budget.budgetRequests).toBe(89.28);
    expect(budget.usedRatio).toBeCloseTo(8 / 89.28, 12);
    expect(budget.remainingRatio).toBeCloseTo(1 - 8 / 89.28, 12);
  });

  // One division of exact integers, so a figure that is exact in decimal reads exactly: the paging
  // factor 14.4 must not read 14.39999999999999 on the very threshold.
  const exactCases: [string, () => number | null, number][] = [
    ["the budget of 70 requests at 99% is 0.7 requests", budgetOf(0.99, 70, 70), 0.7],
    ["the budget of 35 requests at 99% is 0.35 requests", budgetOf(0.99, 35, 35), 0.35],
    ["72 failures of 1000 burn a 99.5% budget at exactly 14.4", burnOf(0.995, 1000, 928), 14.4],
    ["9 failures of 625 burn a 99.9% budget at exactly 14.4", burnOf(0.999, 625, 616), 14.4],
    ["1 failure of 5 burns a 99% budget at exactly 20", burnOf(0.99, 5, 4), 20],
    ["1 failure of 7 uses 100/7 of a 99% budget", usedOf(0.99, 7, 6), 100 / 7],
  ];
  for (const [rule, figure, expected] of exactCases) {
    it(rule, () => expect(figure()).toBe(expected));
  }

  it("an overspent budget has a negative remaining ratio (not clamped)", () => {
    expect(errorBudget({ target: 0.99, requests: 100, served: 97 }).remainingRatio).toBeCloseTo(-2, 12);
  });

  it("no traffic means no budget and no used ratio", () => {
    expect(errorBudget({ target: 0.99, requests: 0, served: 0 })).toEqual({
      budgetRequests: 0,
      usedRatio: null,
      remainingRatio: null,
    });
  });

  const burnCases: [string, number, number, number | null][] = [
    ["failing exactly at the allowed rate burns at 1", 1000, 990, 1],
    ["failing 14.4% of the time burns a 99% budget at 14.4", 1000, 856, 14.4],
    ["no failures burn at 0", 1000, 1000, 0],
    ["no traffic has no burn rate", 0, 0, null],
  ];
  for (const [rule, requests, served, expected] of burnCases) {
    it(rule, () => {
      const rate = burnRate({ target: 0.99, requests, served });
      if (expected === null) expect(rate).toBeNull();
      else expect(rate).toBeCloseTo(expected, 10);
    });
  }

  const monthStart = Date.UTC(2026, 9, 1);
  const monthEnd = Date.UTC(2026, 10, 1);
  const tenDays = 10 * 86_400_000;
  it("a burn rate of 1 or less never exhausts the budget within the month", () => {
    const input = {
      target: 0.99,
      monthStart,
      monthEnd,
      now: monthStart + tenDays,
      requests: 1000,
      served: 995,
    };
    expect(projectedExhaustion({ ...input, recentBurnRate: 1 })).toBeNull();
    expect(projectedExhaustion({ ...input, recentBurnRate: null })).toBeNull();
  });

  it("half the budget used in 10 days at a recent burn rate of 2 runs out on day 15", () => {
    const at = projectedExhaustion({
      target: 0.99,
      monthStart,
      monthEnd,
      now: monthStart + tenDays,
      requests: 1000,
      served: 995,
      recentBurnRate: 2,
    });
    // 100 requests a day: budget after T days is T requests; errors are 5 + 2 * (T - 10). Equal at T = 15.
    expect(at).toBe(monthStart + 1.5 * tenDays);
  });

  it("an exhausted budget is exhausted now", () => {
    const now = monthStart + tenDays;
    const input = { target: 0.99, monthStart, monthEnd, now, requests: 100, served: 98, recentBurnRate: 0 };
    expect(projectedExhaustion(input)).toBe(now);
  });
});

describe("burn-rate tables are data", () => {
  it("the SRE workbook's four multi-window alerts, each window known", () => {
    expect(MULTI_WINDOW_ALERTS.map((a) => [a.severity, a.long, a.short, a.factor])).toEqual([
      ["page", "1h", "5m", 14.4],
      ["page", "6h", "30m", 6],
      ["ticket", "1d", "2h", 3],
      ["ticket", "3d", "6h", 1],
    ]);
    const known = new Set(BURN_RATE_WINDOWS.map((w) => w.window));
    for (const a of MULTI_WINDOW_ALERTS) expect(known.has(a.long) && known.has(a.short)).toBe(true);
  });

  it("each factor spends the stated share of a 30-day budget over its long window", () => {
    for (const a of MULTI_WINDOW_ALERTS) {
      const longMs = BURN_RATE_WINDOWS.find((w) => w.window === a.long)!.ms;
      expect((a.factor * longMs) / (30 * 86_400_000)).toBeCloseTo(a.budgetSpent, 10);
    }
  });
});

const budgetOf = (target: number, requests: number, served: number) => () =>
  errorBudget({ target, requests, served }).budgetRequests;
const usedOf = (target: number, requests: number, served: number) => () =>
  errorBudget({ target, requests, served }).usedRatio;
const burnOf = (target: number, requests: number, served: number) => () =>
  burnRate({ target, requests, served });
