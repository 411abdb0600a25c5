import { describe, expect, it } from "vitest";
import { isServed, type ProbeResult } from "../../src/model/result.js";
import {
  meetsLatencyObjective,
  monthlyFigures,
  RollingWindows,
  StatusCounts,
  TimeBucket,
} from "../../src/slo/index.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * One definition of "served" and one of "objective met": the counters behind /metrics
 * (isServed), the report's counts (StatusCounts), the rolling windows' buckets (TimeBucket), the
 * monthly figures and the rolling windows' breach must agree, above all at the boundary.
 */

const NOV = Date.UTC(2026, 10, 1);

function result(ts: number, status: number | null, durationMs = 100): ProbeResult {
  return {
    ts,
    probe: "payment-request-read",
    category: "payment_request",
    status,
    durationMs,
    error: status === null ? "connect" : null,
    errorCode: null,
    correlationId: null,
  };
}

describe("served: one definition", () => {
  const statuses = [null, 100, 199, 200, 204, 302, 399, 400, 404, 499, 500, 503, 599];
  it.each(statuses)("status %s is served alike for metrics, report counts and rolling buckets", (status) => {
    const counts = new StatusCounts();
    counts.count({ status });
    const bucket = new TimeBucket();
    bucket.add(result(NOV, status), false);
    const served = isServed(status);
    expect(counts.served).toBe(served ? 1 : 0);
    expect(bucket.served).toBe(served ? 1 : 0);
    expect(served).toBe(status !== null && status >= 200 && status <= 499);
  });
});

describe("latency objective met: one definition, agreeing at the boundary", () => {
  const config = fixtureConfig();
  const objective = config.categories.get("payment_request")!.latencyP99Ms; // 1500

  /** 200 requests of the same duration: p99 is that duration, exactly and in HDR. */
  function verdicts(durationMs: number) {
    const results = Array.from({ length: 200 }, (_, i) => result(NOV + i * 30_000, 200, durationMs));
    const report = monthlyFigures({ config, month: "2026-11", results });
    const row = report.categories.find((c) => c.category === "payment_request")!;
    const rolling = new RollingWindows(config);
    for (const r of results) rolling.record(r);
    const snapshot = rolling.snapshot(NOV + 200 * 30_000);
    const category = snapshot.categories.find((c) => c.category === "payment_request")!;
    return { report: row.latency_met, rolling: !category.breach.latency };
  }

  it.each([
    ["well under", objective - 100, true],
    ["just under", objective - 1, true],
    ["exactly the objective", objective, true],
    ["one HDR step and more above", objective + 10, false],
    ["far above", objective * 2, false],
  ] as const)("p99 %s: the report and the rolling windows say the same", (_name, ms, met) => {
    expect(verdicts(ms)).toEqual({ report: met, rolling: met });
  });

  it("an exact p99 is compared as it is, strictly; a histogram reading at the histogram's precision", () => {
    expect(meetsLatencyObjective(1500, 1500, "exact")).toBe(true);
    expect(meetsLatencyObjective(1500.001, 1500, "exact")).toBe(false);
    // 1500 ms read from an HDR histogram is the top of its step, and meets a 1500 ms objective.
    expect(meetsLatencyObjective(1500.159, 1500, "histogram")).toBe(true);
    expect(meetsLatencyObjective(null, 1500, "exact")).toBeNull();
  });
});
