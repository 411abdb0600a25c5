import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CreditTier } from "../../src/model/config.js";
import { creditPctOf } from "../../src/slo/credits.js";

const tier = (belowPct: number, creditPct: number): CreditTier => ({ belowRatio: belowPct / 100, creditPct });
const KLARNA_LIKE = [tier(99, 10), tier(95, 25)];

describe("service credit of a month (contract section 10)", () => {
  const cases: [string, number, number, readonly CreditTier[], number | null][] = [
    ["exactly 99% is not under a 99% tier", 990, 1000, KLARNA_LIKE, 0],
    ["98.9% is under 99% only: its credit", 989, 1000, KLARNA_LIKE, 10],
    ["95% is under 99% but not under 95%", 950, 1000, KLARNA_LIKE, 10],
    ["94.9% is under both: the tier with the lowest below_pct", 949, 1000, KLARNA_LIKE, 25],
    ["tiers in any order give the same credit", 949, 1000, [...KLARNA_LIKE].reverse(), 25],
    ["100% earns nothing", 1000, 1000, KLARNA_LIKE, 0],
    ["no traffic is null, never a credit", 0, 0, KLARNA_LIKE, null],
    ["no tiers configured is null", 900, 1000, [], null],
    ["a decimal tier (99.9) compares exactly: 999/1000 is not under it", 999, 1000, [tier(99.9, 5)], 0],
    ["a decimal tier (99.9): 9989/10000 is under it", 9989, 10_000, [tier(99.9, 5)], 5],
  ];
  for (const [rule, served, requests, tiers, credit] of cases) {
    it(rule, () => {
      expect(creditPctOf({ requests, served }, tiers)).toBe(credit);
    });
  }

  /** Independent reference: exact rationals in BigInt, tiers sorted by below_pct, first one under. */
  function reference(served: number, requests: number, tiers: readonly { below: number; credit: number }[]) {
    if (tiers.length === 0 || requests === 0) return null;
    const sorted = [...tiers].sort((a, b) => a.below - b.below);
    // below is in hundredths of a percent: SR/R < below/10000  <=>  SR * 10000 < below * R.
    const hit = sorted.find((t) => BigInt(served) * 10_000n < BigInt(t.below) * BigInt(requests));
    return hit ? hit.credit : 0;
  }

  it("matches an independent exact calculation on random months and tiers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.uniqueArray(
          fc.record({ below: fc.integer({ min: 1, max: 10_000 }), credit: fc.integer({ min: 0, max: 100 }) }),
          { selector: (t) => t.below, maxLength: 5 },
        ),
        (a, b, tiers) => {
          const [served, requests] = a <= b ? [a, b] : [b, a];
          const configured = tiers.map((t) => tier(t.below / 100, t.credit));
          expect(creditPctOf({ requests, served }, configured)).toBe(reference(served, requests, tiers));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
