import { describe, expect, it } from "vitest";
import { addBuckets, parseLe, quantileBucket } from "../../src/reports/prometheus-buckets.js";

const INF = Number.POSITIVE_INFINITY;
/** 100 requests: 90 at or under 0.1 s, 9 more under 0.15 s, 1 under 0.2 s. */
const HUNDRED = new Map([
  [0.1, 90],
  [0.15, 99],
  [0.2, 100],
  [INF, 100],
]);

describe("the bucket a p99 lies in", () => {
  const cases: { name: string; buckets: Map<number, number>; q: number; expected: unknown }[] = [
    {
      name: "the rank on a bucket's count belongs to that bucket",
      buckets: HUNDRED,
      q: 0.99,
      expected: { lower: 100, upper: 150 },
    },
    {
      name: "a rank past a bucket's count moves to the next",
      buckets: HUNDRED,
      q: 0.995,
      expected: { lower: 150, upper: 200 },
    },
    { name: "the first bucket starts at 0", buckets: HUNDRED, q: 0.5, expected: { lower: 0, upper: 100 } },
    {
      name: "beyond the highest finite bound the upper bound is unknown",
      buckets: new Map([
        [0.1, 50],
        [INF, 100],
      ]),
      q: 0.99,
      expected: { lower: 100, upper: null },
    },
    { name: "no responded requests: no bucket", buckets: new Map([[INF, 0]]), q: 0.99, expected: null },
    { name: "no buckets at all: no bucket", buckets: new Map(), q: 0.99, expected: null },
  ];
  for (const { name, buckets, q, expected } of cases) {
    it(name, () => expect(quantileBucket(buckets, q)).toEqual(expected));
  }

  it("buckets out of order are first made cumulative, as histogram_quantile() does", () => {
    // increase() of each bucket on its own: +Inf came out below le=0.2. Read as given, the total
    // would be 95 and the p99 (rank 94.05) in the first bucket; histogram_quantile() takes +Inf as
    // 100 (rank 99), so its p99 is in the second, and so is the bucket given with it.
    const skewed = new Map([
      [0.1, 98.5],
      [0.2, 100],
      [INF, 95],
    ]);
    expect(quantileBucket(skewed, 0.99)).toEqual({ lower: 100, upper: 200 });
  });

  it("regions pool bucket by bucket", () => {
    const pooled = addBuckets([
      HUNDRED,
      new Map([
        [0.1, 0],
        [0.15, 0],
        [0.2, 0],
        [INF, 100],
      ]),
    ]);
    // 100 of 200 beyond 0.2 s: the p99 is above every finite bound.
    expect(quantileBucket(pooled, 0.99)).toEqual({ lower: 200, upper: null });
  });

  it("reads le as histogram_quantile() does (Go's ParseFloat), and nothing else", () => {
    for (const inf of ["+Inf", "Inf", "+inf", "inf", "Infinity", "+INFINITY"])
      expect(parseLe(inf), inf).toBe(INF);
    for (const bad of ["0x1", " 1", "1 ", "", "NaN", "-Inf", "1_0", "１"])
      expect(parseLe(bad), bad).toBeNull();
    expect([parseLe("1e-3"), parseLe(".5"), parseLe("10")]).toEqual([0.001, 0.5, 10]);
  });

  it("reads le as Prometheus writes it", () => {
    expect([parseLe("0.25"), parseLe("+Inf"), parseLe("x"), parseLe(undefined)]).toEqual([
      0.25,
      INF,
      null,
      null,
    ]);
  });
});
