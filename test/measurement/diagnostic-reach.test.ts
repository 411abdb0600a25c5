import { describe, expect, it } from "vitest";
import { ValidityTracker } from "../../src/agent/validity.js";
import { FakeClock } from "../../src/clock/fake.js";
import { DIAGNOSTIC_CATEGORY, type ProbeResult } from "../../src/model/result.js";
import type { AutomaticReason } from "../../src/model/validity.js";
import { TargetReach } from "../../src/slo/target-reach.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * A tls, dns or tcp probe has no HTTP target: it never gets a status, so "its target has not
 * answered once" would hold for ever. Its results are never target_unreached: a dns probe's
 * NXDOMAIN is what it measures, and its success is no failure to exclude (the demo logged
 * "probe api-dns: target_unreached" for a probe that had just succeeded).
 */

const T = Date.UTC(2026, 10, 1);

function diagnostic(ts: number, error: ProbeResult["error"]): ProbeResult {
  return {
    ts,
    probe: "api-dns",
    category: DIAGNOSTIC_CATEGORY,
    status: null,
    durationMs: 3,
    error,
    errorCode: null,
    correlationId: null,
    observed: { kind: "dns", rcode: error === null ? "NOERROR" : "NXDOMAIN" },
  };
}

describe("diagnostic results and unreached targets", () => {
  it("neither a success nor a failure of a diagnostic probe is target_unreached", () => {
    const reach = new TargetReach([], T, () => false);
    expect([diagnostic(T, null), diagnostic(T + 1, "dns")].map((r) => reach.observe(r))).toEqual([
      false,
      false,
    ]);
  });

  it("the daemon logs no target_unreached for them and excludes none of them", () => {
    const clock = new FakeClock(T);
    const logs: string[] = [];
    const verdicts: (AutomaticReason | null)[] = [];
    const tracker = new ValidityTracker({
      config: fixtureConfig(),
      clock,
      log: (_level, message) => logs.push(message),
      reach: new TargetReach([], T, () => false),
      decided: (_result, reason) => verdicts.push(reason),
    });
    tracker.record(diagnostic(T, null));
    tracker.record(diagnostic(T + 60_000, "dns"));
    expect(logs.filter((l) => l.includes("target_unreached"))).toEqual([]);
    expect(verdicts).toEqual([null, null]);
  });
});
