import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { MAX_PAUSE_MS, retryAfterOf, TargetPoliteness } from "../../src/probes/index.js";

const T0 = Date.UTC(2026, 9, 1, 12, 0, 0);

describe("Retry-After", () => {
  const cases: [string, string | undefined, number | null][] = [
    ["delay-seconds count from now", "120", T0 + 120_000],
    ["an HTTP date is taken as is", "Thu, 01 Oct 2026 12:05:00 GMT", T0 + 300_000],
    ["garbage is ignored", "soon", null],
    ["absence is ignored", undefined, null],
  ];
  for (const [rule, value, until] of cases) {
    it(rule, () => expect(retryAfterOf(value, T0)).toBe(until));
  }
});

describe("pausing a target", () => {
  const cases: [string, number, Record<string, string>, { until: number; cause: string } | null][] = [
    [
      "429 with Retry-After pauses until then",
      429,
      { "retry-after": "30" },
      { until: T0 + 30_000, cause: "retry_after" },
    ],
    ["429 without a time backs off one second first", 429, {}, { until: T0 + 1_000, cause: "backoff" }],
    [
      "remaining 0 pauses until the reset, in seconds from now",
      200,
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "42" },
      { until: T0 + 42_000, cause: "ratelimit_reset" },
    ],
    [
      "a reset in epoch seconds is an instant",
      200,
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(T0 / 1000 + 10) },
      { until: T0 + 10_000, cause: "ratelimit_reset" },
    ],
    [
      "remaining above 0 does not pause",
      200,
      { "x-ratelimit-remaining": "3", "x-ratelimit-reset": "42" },
      null,
    ],
    [
      "a vendor cannot pause us for more than an hour",
      429,
      { "retry-after": "86400" },
      { until: T0 + MAX_PAUSE_MS, cause: "retry_after" },
    ],
    ["no response teaches nothing", 503, { "retry-after": "oops" }, null],
  ];
  for (const [rule, status, headers, pause] of cases) {
    it(rule, () => {
      const clock = new FakeClock(T0);
      const polite = new TargetPoliteness(clock, null);
      expect(polite.observe(status, headers)).toEqual(pause);
      expect(polite.pausedNow()).toEqual(pause);
      if (pause) {
        clock.advance(pause.until - T0);
        expect(polite.pausedNow()).toBeNull();
      }
    });
  }

  it("backs off exponentially over consecutive 429s without a time, and resets after a success", () => {
    const clock = new FakeClock(T0);
    const polite = new TargetPoliteness(clock, null);
    const pauses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const p = polite.observe(429, {})!;
      pauses.push(p.until - clock.now());
      clock.advance(p.until - clock.now());
    }
    expect(pauses).toEqual([1_000, 2_000, 4_000, 8_000]);
    polite.observe(200, {});
    expect(polite.observe(429, {})!.until - clock.now()).toBe(1_000);
  });
});

describe("per-target rate cap (token bucket on the clock)", () => {
  it("lets a second's worth through, then spaces requests at the rate", () => {
    const clock = new FakeClock(T0);
    const polite = new TargetPoliteness(clock, 2);
    expect([polite.reserve(10_000), polite.reserve(10_000)]).toEqual([0, 0]);
    expect(polite.reserve(10_000)).toBe(500);
    expect(polite.reserve(10_000)).toBe(1_000);
    clock.advance(5_000);
    expect(polite.reserve(10_000)).toBe(0);
  });

  it("refuses a slot it could only give after the caller's limit, without taking it", () => {
    const clock = new FakeClock(T0);
    const polite = new TargetPoliteness(clock, 1);
    expect(polite.reserve(100)).toBe(0);
    expect(polite.reserve(100)).toBeNull();
    expect(polite.reserve(2_000)).toBe(1_000);
  });

  it("without a cap never waits", () => {
    const polite = new TargetPoliteness(new FakeClock(T0), null);
    expect(Array.from({ length: 100 }, () => polite.reserve(0)).every((w) => w === 0)).toBe(true);
  });
});
