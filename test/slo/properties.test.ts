import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Exclusion, MaintenanceWindow, ProbeResult, SLO_WINDOWS } from "../../src/model/index.js";
import { LatencyHistogram } from "../../src/slo/histogram.js";
import { monthlyFigures, RollingWindows, windowMinutes } from "../../src/slo/index.js";
import { CATEGORIES, configWith } from "./config.js";
import { naiveFigures, naiveQualify } from "./reference.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MONTH_START = Date.UTC(2026, 9, 1);
const MONTH_END = Date.UTC(2026, 10, 1);
const CATEGORY_IDS = [...CATEGORIES.map((c) => c.id), "unknown"];

const statusAndError = fc.constantFrom(
  [200, null],
  [201, null],
  [302, null],
  [404, null],
  [429, null],
  [500, null],
  [503, null],
  [null, "timeout"],
  [null, "connect"],
  [null, "reset"],
) as fc.Arbitrary<[number | null, ProbeResult["error"]]>;

function resultAt(ts: fc.Arbitrary<number>): fc.Arbitrary<ProbeResult> {
  return fc
    .record({
      ts,
      category: fc.constantFrom(...CATEGORY_IDS),
      se: statusAndError,
      durationMs: fc.double({ min: 0, max: 20_000, noNaN: true }),
    })
    .map(({ ts, category, se, durationMs }) => ({
      ts,
      probe: `${category}-p`,
      category,
      status: se[0],
      error: se[1],
      durationMs,
      errorCode: null,
      correlationId: null,
    }));
}

const scope = fc.oneof(fc.constant("all" as const), fc.subarray(CATEGORIES.map((c) => c.id)));

function windowsAround(from: number, to: number): fc.Arbitrary<MaintenanceWindow[]> {
  return fc
    .array(
      fc
        .record({
          start: fc.integer({ min: from, max: to }),
          minutes: fc.integer({ min: 0, max: 600 }),
          noticeHours: fc.integer({ min: -24, max: 480 }),
          categories: scope,
        })
        .map((w) => ({
          id: `mw-${w.start}`,
          start: w.start,
          end: w.start + w.minutes * 60_000,
          announcedAt: w.start - w.noticeHours * HOUR,
          categories: w.categories,
        })),
      { maxLength: 10 },
      // Ids are unique in a valid configuration; two windows at one start would share `mw-${start}`.
    )
    .map((ws) => ws.map((w, i) => ({ ...w, id: `mw-${i}` })));
}

function exclusionsAround(from: number, to: number): fc.Arbitrary<Exclusion[]> {
  return fc
    .array(
      fc
        .record({
          start: fc.integer({ min: from, max: to }),
          ms: fc.integer({ min: 0, max: 2 * DAY }),
          categories: scope,
        })
        .map((e) => ({
          id: `ex-${e.start}`,
          start: e.start,
          end: e.start + e.ms,
          reason: "test",
          categories: e.categories,
        })),
      { maxLength: 3 },
    )
    .map((es) => es.map((e, i) => ({ ...e, id: `ex-${i}` })));
}

const policy = fc.record({
  minNoticeDays: fc.integer({ min: 0, max: 10 }),
  maxOccasionsPerYear: fc.integer({ min: 0, max: 6 }),
  maxHoursPerYear: fc.integer({ min: 0, max: 20 }),
});

describe("monthlyFigures agrees with the naive reference", () => {
  it("on random request streams, maintenance windows and exclusions", () => {
    // Earlier windows of the year use up occasions and hours before the month's windows are judged.
    const from = MONTH_START - 20 * DAY;
    const to = MONTH_END;
    fc.assert(
      fc.property(
        fc.array(resultAt(fc.integer({ min: MONTH_START - 2 * DAY, max: MONTH_END + 2 * DAY })), {
          maxLength: 400,
        }),
        windowsAround(from, to),
        exclusionsAround(from, to),
        policy,
        (results, windows, exclusions, p) => {
          const config = configWith(windows, exclusions, p);
          const figures = monthlyFigures({ config, month: "2026-10", results });
          const qualified = naiveQualify(windows, p);
          for (const row of figures.categories) {
            const ref = naiveFigures(
              config,
              qualified,
              results,
              (r) => r.category === row.category && r.ts >= MONTH_START && r.ts < MONTH_END,
            );
            expect([row.requests, row.successful, row.excluded]).toEqual([
              ref.requests,
              ref.served,
              ref.excluded,
            ]);
            expect(row.availability_pct).toBe(ref.requests === 0 ? null : (ref.served * 100) / ref.requests);
            expect(row.latency_p99_ms).toBe(ref.p99Ms);
          }
          const naiveHours = new Map(qualified.map((q) => [q.id, (q.qualifiedEnd - q.start) / HOUR]));
          for (const w of figures.maintenance.windows) {
            expect([w.id, w.qualified_hours]).toEqual([w.id, naiveHours.get(w.id) ?? 0]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("RollingWindows agrees with the naive reference", () => {
  const now = Date.UTC(2026, 9, 20, 13, 27, 41, 123);
  // Mix scales so that short windows have traffic as often as long ones.
  const offset = fc.oneof(
    fc.integer({ min: 0, max: 10 * 60_000 }),
    fc.integer({ min: 0, max: 3 * HOUR }),
    fc.integer({ min: 0, max: 4 * DAY }),
    fc.integer({ min: 0, max: 35 * DAY }),
  );

  it("for every window of a snapshot, after pruning", () => {
    fc.assert(
      fc.property(
        fc.array(resultAt(offset.map((o) => now + 30_000 - o)), { maxLength: 300 }),
        windowsAround(now - 40 * DAY, now),
        exclusionsAround(now - 40 * DAY, now),
        policy,
        (results, windows, exclusions, p) => {
          const config = configWith(windows, exclusions, p);
          const rolling = new RollingWindows(config);
          for (const r of results) rolling.record(r);
          rolling.prune(now);
          const snapshot = rolling.snapshot(now);
          const qualified = naiveQualify(windows, p);
          for (const cat of snapshot.categories) {
            const target = cat.availabilityTarget;
            for (const w of cat.windows) {
              const { first, last } = windowMinutes(w.window, now);
              const ref = naiveFigures(config, qualified, results, (r) => {
                const minute = Math.floor(r.ts / 60_000);
                return r.category === cat.category && minute >= first && minute <= last;
              });
              expect([w.window, w.requests, w.served, w.excluded]).toEqual([
                w.window,
                ref.requests,
                ref.served,
                ref.excluded,
              ]);
              expect(w.availability).toBe(ref.requests === 0 ? null : ref.served / ref.requests);
              // The rolling windows read p99 through HDR: the exact ranked value, read the same way.
              expect(w.latencyP99Ms).toBe(ref.p99Ms === null ? null : LatencyHistogram.readingOf(ref.p99Ms));
              if (ref.requests > 0)
                expect(w.burnRate).toBeCloseTo((1 - ref.served / ref.requests) / (1 - target), 9);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("window extents", () => {
  const now = Date.UTC(2026, 9, 20, 13, 27, 41);
  const minute = Math.floor(now / 60_000);
  const cases: [string, (typeof SLO_WINDOWS)[number], number][] = [
    ["5m is the current minute and the 4 before it", "5m", minute - 4],
    ["3d starts on its exact minute", "3d", minute - 3 * 1440 + 1],
    [
      "30d starts at the beginning of the hour holding its exact start",
      "30d",
      Math.floor((minute - 30 * 1440 + 1) / 60) * 60,
    ],
    ["month starts at the first minute of the UTC month", "month", MONTH_START / 60_000],
  ];
  for (const [rule, window, first] of cases) {
    it(rule, () => expect(windowMinutes(window, now)).toEqual({ first, last: minute }));
  }
});
