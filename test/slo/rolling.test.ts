import { describe, expect, it } from "vitest";
import { LatencyHistogram, RollingWindows } from "../../src/slo/index.js";
import { at, configWith, result, window } from "./config.js";

const NOW = at("2026-10-20T12:00:30.000Z");

function monthOf(rolling: RollingWindows, now = NOW, category = "payment_request") {
  const cat = rolling.snapshot(now).categories.find((c) => c.category === category)!;
  return { cat, month: cat.windows.find((w) => w.window === "month")! };
}

describe("RollingWindows", () => {
  it("every category and every window appears, with null figures without traffic", () => {
    const snapshot = new RollingWindows(configWith()).snapshot(NOW);
    expect(snapshot.categories.map((c) => c.category)).toEqual([
      "payment_request",
      "settlements",
      "webhooks",
    ]);
    for (const c of snapshot.categories) {
      expect(c.windows.map((w) => w.window)).toEqual(["5m", "30m", "1h", "6h", "1d", "3d", "30d", "month"]);
      expect(c.windows.every((w) => w.availability === null && w.burnRate === null)).toBe(true);
      expect([c.errorBudgetRemaining, c.breach.availability, c.breach.latency]).toEqual([null, false, false]);
    }
  });

  it("a snapshot taken again (figures kept per category between snapshots) equals one computed afresh at every step", () => {
    // A seeded walk over 40 days: results now and late, of every category, snapshots a few seconds
    // apart, minutes and a month boundary passing, prunes; the agent's instance keeps its figures
    // between snapshots, a new instance fed the same results computes them from the buckets.
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const categories = ["payment_request", "settlements", "webhooks"];
    const kept = new RollingWindows(configWith());
    const recorded: ReturnType<typeof result>[] = [];
    let now = at("2026-09-25T00:00:00.000Z");
    let compared = 0;
    while (now < at("2026-11-04T00:00:00.000Z")) {
      // Mostly seconds apart (the same minute, the next), now and then hours.
      now += Math.floor(random() < 0.7 ? random() * 40_000 : random() * 6 * 3_600_000);
      if (random() < 0.6) {
        const late = random() < 0.1 ? Math.floor(random() * 3 * 86_400_000) : 0;
        const r = result(
          now - late,
          random() < 0.05 ? 503 : 200,
          Math.round(50 + random() * 2_000),
          categories[Math.floor(random() * categories.length)],
        );
        kept.record(r);
        recorded.push(r);
      }
      if (random() < 0.02) kept.prune(now);
      if (random() < 0.15) {
        const fresh = new RollingWindows(configWith());
        for (const r of recorded) fresh.record(r);
        expect(kept.snapshot(now), new Date(now).toISOString()).toEqual(fresh.snapshot(now));
        compared++;
      } else kept.snapshot(now);
    }
    expect(compared).toBeGreaterThan(100);
  });

  it("breaches when month-to-date availability falls below target or p99 exceeds the objective", () => {
    const rolling = new RollingWindows(configWith());
    for (let i = 0; i < 98; i++) rolling.record(result(NOW - i * 60_000, 200, 100));
    rolling.record(result(NOW - 100 * 60_000, 503, 2000));
    rolling.record(result(NOW - 101 * 60_000, 503, 2000));
    const { cat, month } = monthOf(rolling);
    expect([month.requests, month.served]).toEqual([100, 98]);
    expect(cat.breach).toEqual({ availability: true, latency: true });
    expect(cat.errorBudgetRemaining).toBeCloseTo(-1, 10);
  });

  const latencyBreachCases: [string, number, boolean][] = [
    ["a month-to-date p99 of exactly the objective is no latency breach", 1500, false],
    ["a month-to-date p99 one HDR step above the objective is a latency breach", 1500.2, true],
  ];
  for (const [rule, ms, breach] of latencyBreachCases) {
    it(rule, () => {
      const rolling = new RollingWindows(configWith());
      for (let i = 0; i < 100; i++) rolling.record(result(NOW - i * 60_000, 200, ms));
      expect(monthOf(rolling).cat.breach.latency).toBe(breach);
    });
  }

  it("decides exclusion when recording: qualifying maintenance is excluded and reported active", () => {
    const config = configWith([
      window("mw", "2026-10-20T11:00:00Z", "2026-10-20T13:00:00Z", "2026-10-01T00:00:00Z"),
    ]);
    const rolling = new RollingWindows(config);
    rolling.record(result(NOW - 60_000, 503));
    const { cat, month } = monthOf(rolling);
    expect([month.requests, month.excluded, cat.maintenanceActive]).toEqual([0, 1, true]);
    expect(monthOf(rolling, at("2026-10-20T13:00:00Z")).cat.maintenanceActive).toBe(false);
  });

  it("a late-announced window is not active maintenance and excludes nothing", () => {
    const config = configWith([
      window("mw", "2026-10-20T11:00:00Z", "2026-10-20T13:00:00Z", "2026-10-19T00:00:00Z"),
    ]);
    const rolling = new RollingWindows(config);
    rolling.record(result(NOW - 60_000, 503));
    const { cat, month } = monthOf(rolling);
    expect([month.requests, month.excluded, cat.maintenanceActive]).toEqual([1, 0, false]);
  });

  it("the month window restarts at the first minute of the UTC month", () => {
    const rolling = new RollingWindows(configWith());
    rolling.record(result("2026-10-31T23:59:59.999Z", 200));
    rolling.record(result("2026-11-01T00:00:00.000Z", 500));
    const nov = monthOf(rolling, at("2026-11-01T00:00:10Z")).month;
    expect([nov.requests, nov.served]).toEqual([1, 0]);
  });

  it("prune drops what no window needs and keeps what they do", () => {
    const rolling = new RollingWindows(configWith());
    rolling.record(result(NOW - 40 * 86_400_000, 200));
    rolling.record(result(NOW - 10 * 86_400_000, 200));
    rolling.record(result(NOW - 60_000, 200));
    const before = rolling.snapshot(NOW);
    rolling.prune(NOW);
    expect(rolling.snapshot(NOW)).toEqual(before);
    expect(rolling.bucketCount).toMatchObject({ minutes: 1, hours: 2 });
  });

  it("a busy hour is counted by HDR step: the same p99 reading as every duration, in a few hundred numbers", () => {
    const rolling = new RollingWindows(configWith());
    const durations: number[] = [];
    // 60,000 durations within the 1h window before NOW, in no order, with a slow tail and a 5 s outlier.
    for (let i = 0; i < 60_000; i++) {
      const ms = i === 777 ? 5_000 : 20 + ((i * 7919) % 997) / 10 + (i % 100 === 0 ? (i % 3_000) / 7 : 0);
      durations.push(ms);
      rolling.record(result(NOW - 3_540_000 + ((i * 104_729) % 3_540_000), 200, ms));
    }
    const sorted = durations.map((ms) => Math.round(ms * 1000)).sort((a, b) => a - b);
    const exact = (n: number) => LatencyHistogram.readingOf(sorted[Math.ceil(0.99 * n) - 1]! / 1000);
    const hour = rolling.snapshot(NOW).categories[0]!.windows.find((w) => w.window === "1h")!;
    const month = monthOf(rolling).month;
    expect([hour.requests, hour.latencyP99Ms]).toEqual([durations.length, exact(sorted.length)]);
    expect(month.latencyP99Ms).toBe(exact(sorted.length));
    expect(rolling.bucketCount.latencyValues).toBeLessThan(10_000);
  });

  it("results recorded out of order give the same figures", () => {
    const results = Array.from({ length: 50 }, (_, i) =>
      result(NOW - ((i * 7919) % 50) * 61_000, 200, 10 + i),
    );
    const inOrder = new RollingWindows(configWith());
    const shuffled = new RollingWindows(configWith());
    for (const r of [...results].sort((a, b) => a.ts - b.ts)) inOrder.record(r);
    for (const r of results) shuffled.record(r);
    expect(shuffled.snapshot(NOW)).toEqual(inOrder.snapshot(NOW));
  });

  it("burnRateOver serves windows outside SLO_WINDOWS, like the 2h alert window", () => {
    const rolling = new RollingWindows(configWith());
    rolling.record(result(NOW - 90 * 60_000, 500));
    rolling.record(result(NOW - 150 * 60_000, 200));
    expect(rolling.burnRateOver("payment_request", 2 * 3_600_000, NOW)).toBeCloseTo(100, 10);
  });
});
