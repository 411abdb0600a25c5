import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LatencyHistogram } from "../../src/slo/index.js";
import { result } from "./config.js";

/** Exact nearest-rank percentile of the values, rounded to microseconds as the histogram records them. */
function exactPercentile(values: readonly number[], p: number): number {
  const sorted = values.map((v) => Math.round(v * 1000)).sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9));
  return sorted[rank - 1]! / 1000;
}

const durations = fc.array(fc.double({ min: 1, max: 60_000, noNaN: true }), {
  minLength: 1,
  maxLength: 2000,
});

describe("LatencyHistogram", () => {
  it("p99 is within 0.1% of the exact nearest-rank p99, and never below it", () => {
    fc.assert(
      fc.property(durations, (values) => {
        const h = new LatencyHistogram();
        for (const v of values) h.record(v);
        const exact = exactPercentile(values, 99);
        const read = h.percentile(99)!;
        expect(read).toBeGreaterThanOrEqual(exact);
        expect((read - exact) / exact).toBeLessThanOrEqual(0.001);
      }),
      { numRuns: 200 },
    );
  });

  it("an empty histogram has no percentile", () => {
    expect(new LatencyHistogram().percentile(99)).toBeNull();
  });

  it("merging equals recording everything in one", () => {
    fc.assert(
      fc.property(durations, durations, (a, b) => {
        const left = new LatencyHistogram();
        const right = new LatencyHistogram({ compact: true });
        const all = new LatencyHistogram();
        for (const v of a) left.record(v);
        for (const v of b) right.record(v);
        for (const v of [...a, ...b]) all.record(v);
        left.merge(right);
        expect(left.count).toBe(all.count);
        for (const p of [50, 90, 99, 99.9]) expect(left.percentile(p)).toBe(all.percentile(p));
      }),
      { numRuns: 50 },
    );
  });

  it("the compressed base64 encoding round-trips every percentile", () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i * 1.7);
    const back = LatencyHistogram.decode(h.encode());
    expect(h.encode()).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(back.count).toBe(1000);
    for (const p of [0, 50, 90, 99, 99.9, 100]) expect(back.percentile(p)).toBe(h.percentile(p));
  });

  // A stored minute of fast requests must still take a slow minute merged in, or a month of them.
  const growCases: [string, boolean, (h: LatencyHistogram) => void][] = [
    ["a decoded histogram takes a merge of slower requests", false, (h) => h.merge(slow())],
    ["a decoded compact histogram takes a merge of slower requests", true, (h) => h.merge(slow())],
    ["a decoded histogram records a slower request", false, (h) => h.record(100_000)],
  ];
  for (const [rule, compact, grow] of growCases) {
    it(rule, () => {
      const fast = new LatencyHistogram({ compact });
      fast.record(1);
      const back = LatencyHistogram.decode(fast.encode(), { compact });
      grow(back);
      expect(back.count).toBe(2);
      expect(back.percentile(100)).toBe(LatencyHistogram.readingOf(100_000));
    });
  }

  it("a corrupt encoding is refused with a one-line message", () => {
    expect(() => LatencyHistogram.decode("not base64 at all")).toThrow(/not an encoded latency histogram/);
  });

  const recordCases: [string, ReturnType<typeof result>, number][] = [
    ["a 2xx response is recorded", result(0, 200, 120), 1],
    ["a 5xx response is recorded", result(0, 503, 120), 1],
    ["a timeout is recorded (at its timeout value)", result(0, null, 10_000, undefined, "timeout"), 1],
    ["a connection error is not recorded", result(0, null, 3, undefined, "connect"), 0],
    ["a reset without response is not recorded", result(0, null, 3, undefined, "reset"), 0],
  ];
  for (const [rule, r, count] of recordCases) {
    it(rule, () => {
      const h = new LatencyHistogram();
      h.recordResult(r);
      expect(h.count).toBe(count);
    });
  }

  it("refuses negative or non-finite durations", () => {
    const h = new LatencyHistogram();
    expect(() => h.record(-1)).toThrow(RangeError);
    expect(() => h.record(Number.NaN)).toThrow(RangeError);
    expect(h.count).toBe(0);
  });

  it("readingOf reproduces the histogram's reading of a single value", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100_000, noNaN: true }), (v) => {
        const h = new LatencyHistogram();
        h.record(v);
        expect(LatencyHistogram.readingOf(v)).toBe(h.percentile(99));
      }),
    );
  });

  it("readingOf matches the histogram at every bucket edge (the arithmetic is HDR's, not an approximation)", () => {
    const us: number[] = [];
    for (let v = 0; v <= 4200; v++) us.push(v);
    for (let power = 11; power <= 40; power++) for (const d of [-2, -1, 0, 1, 2]) us.push(2 ** power + d);
    const mismatches = us.filter((v) => {
      const h = new LatencyHistogram();
      h.record(v / 1000);
      return LatencyHistogram.readingOf(v / 1000) !== h.percentile(100);
    });
    expect(mismatches).toEqual([]);
  });
});

function slow(): LatencyHistogram {
  const h = new LatencyHistogram();
  h.record(100_000);
  return h;
}
