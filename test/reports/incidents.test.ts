import { describe, expect, it } from "vitest";
import type { ProbeResult } from "../../src/model/index.js";
import { detectIncidents, IncidentDetector } from "../../src/reports/incidents.js";

const T0 = Date.UTC(2026, 9, 5, 12, 0, 0);
const STEP = 60_000;

/** A request every minute from T0: "." served, "5" a 503, "t" a timeout, "4" a 404 (served). */
function timeline(pattern: string): ProbeResult[] {
  return [...pattern].map((ch, i) => ({
    ts: T0 + i * STEP,
    probe: "p",
    category: "payment_request",
    status: ch === "5" ? 503 : ch === "t" ? null : ch === "4" ? 404 : 200,
    durationMs: ch === "t" ? 10_000 : 120,
    error: ch === "t" ? "timeout" : null,
    errorCode: ch === "5" ? "INTERNAL_ERROR" : null,
    correlationId: ch === "." ? null : `c-${i}`,
  }));
}

const at = (minute: number) => new Date(T0 + minute * STEP).toISOString();

describe("incident detection", () => {
  it.each([
    ["every request served: no incident", "..........", []],
    ["a 4xx is served, not a failure", "...444....", []],
    ["one failure is one incident ending at the next served request", "...5......", [[3, 4, 1, 1]]],
    ["consecutive failures are one incident", "..555t5...", [[2, 7, 5, 5]]],
    ["failures closer than the merge gap merge across served requests", "..55.5....", [[2, 6, 3, 4]]],
    [
      "failures a full merge gap apart are separate incidents",
      "..5..5....",
      [
        [2, 3, 1, 1],
        [5, 6, 1, 1],
      ],
    ],
  ] as const)("%s", (_rule, pattern, expected) => {
    const incidents = detectIncidents(timeline(pattern), 3 * STEP);
    expect(incidents.map((i) => [i.start, i.end, i.failed_requests, i.requests])).toEqual(
      expected.map(([s, e, failed, requests]) => [at(s), at(e), failed, requests]),
    );
  });

  it("an outage still open at the end of the data ends with its last failed request", () => {
    const [incident] = detectIncidents(timeline("...5t"), 3 * STEP);
    expect(incident).toMatchObject({ start: at(3), end: new Date(T0 + 4 * STEP + 10_000).toISOString() });
    expect(incident!.recovered).toBe(false);
    expect(incident!.duration_ms).toBe(STEP + 10_000);
  });

  it("collects how requests failed, the error codes and correlation ids, most frequent first", () => {
    const [incident] = detectIncidents(timeline(".t555t5."), 3 * STEP);
    expect(incident!.failures).toEqual([
      { code: "503", count: 4 },
      { code: "timeout", count: 2 },
    ]);
    expect(incident!.error_codes).toEqual([{ code: "INTERNAL_ERROR", count: 4 }]);
    expect(incident!.correlation_ids).toEqual(["c-1", "c-2", "c-3", "c-4", "c-5", "c-6"]);
  });

  it("counts the flags and body errors of its failed requests only, not of served ones in between", () => {
    // Index 1 is a failed 503, index 3 a served 200 between failures: only the first is counted.
    const results = timeline(".55.5.").map((r, i) =>
      i === 1 || i === 3 ? { ...r, bodyError: "reset" as const, flags: ["body_capped" as const] } : r,
    );
    const [incident] = detectIncidents(results, 3 * STEP);
    expect(incident!.failed_requests).toBe(3);
    expect(incident!.body_errors).toMatchObject({ reset: 1, timeout: 0 });
    expect(incident!.result_flags).toEqual({
      edge_block: 0,
      redirect_limit: 0,
      body_capped: 1,
      agent_error: 0,
    });
  });
});

describe("an incident cut by a maintenance window", () => {
  it("stays one incident across the excluded stretch, not a fragment with no recovery and then another", () => {
    // Failing, then 10 minutes inside maintenance (excluded, failing too), then failing and recovering.
    const results = timeline("555" + "5555555555" + "55.");
    const detector = new IncidentDetector(() => 3 * STEP);
    results.forEach((r, i) => {
      if (i >= 3 && i < 13) detector.observeExcluded(r);
      else detector.observe(r);
    });
    const incidents = detector.incidents();
    expect(incidents.map((i) => [i.start, i.end, i.failed_requests, i.recovered])).toEqual([
      [at(0), at(15), 5, true],
    ]);
  });

  it("a served request before the window ends the incident as before: the window bridges only an unrecovered one", () => {
    const results = timeline("55." + "5555555555" + "5.");
    const detector = new IncidentDetector(() => 3 * STEP);
    results.forEach((r, i) => {
      if (i >= 3 && i < 13) detector.observeExcluded(r);
      else detector.observe(r);
    });
    expect(detector.incidents().map((i) => [i.start, i.end])).toEqual([
      [at(0), at(2)],
      [at(13), at(14)],
    ]);
  });
});
