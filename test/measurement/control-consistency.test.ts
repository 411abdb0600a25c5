import { describe, expect, it } from "vitest";
import { ValidityTracker } from "../../src/agent/validity.js";
import { FakeClock } from "../../src/clock/fake.js";
import { renderStatusPage } from "../../src/export/index.js";
import type { Control } from "../../src/model/config.js";
import type { ProbeResult } from "../../src/model/result.js";
import type { AutomaticReason } from "../../src/model/validity.js";
import { CONTROL_CATEGORY, controlProbeId } from "../../src/model/validity.js";
import {
  AutomaticExclusionLog,
  automaticReasonOf,
  ControlTimeline,
  RollingWindows,
  TargetReach,
} from "../../src/slo/index.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * The controls' consistency rule on the daemon's side (the report's is in control-witnesses):
 * a control run stops being a witness once the provider answered while the control was failing.
 * The daemon decides each result as it completes, across a restart, exactly as the report does.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const T = Date.UTC(2026, 10, 5);
const egress: Control = {
  id: "egress",
  kind: "http",
  url: "http://127.0.0.1:9/",
  intervalMs: 30_000,
  timeoutMs: 5_000,
};

function provider(ts: number, up: boolean): ProbeResult {
  return {
    ts,
    probe: "payment-request-read",
    category: "payment_request",
    status: up ? 200 : null,
    durationMs: up ? 80 : 10_000,
    error: up ? null : "timeout",
    errorCode: null,
    correlationId: null,
  };
}

function control(ts: number, up: boolean): ProbeResult {
  return {
    ts,
    probe: controlProbeId("egress"),
    category: CONTROL_CATEGORY,
    status: up ? 200 : null,
    durationMs: up ? 5 : 3,
    error: up ? null : "connect",
    errorCode: null,
    correlationId: null,
  };
}

/** The control dies at T; the provider fails from `outage` on; 6 hours from T - 1 h. */
function results(outage: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let ts = T - HOUR + 7_000; ts < T + 6 * HOUR; ts += 30_000) out.push(control(ts, ts < T));
  for (let ts = T - HOUR; ts < T + 6 * HOUR; ts += 2 * MIN) out.push(provider(ts, ts < outage));
  return out;
}

/** The daemon's verdicts: results handed over as they complete, restarted at `restart` if given. */
function daemonVerdicts(all: ProbeResult[], restart?: number): Map<number, AutomaticReason | null> {
  return daemonRun(all, restart).verdicts;
}

function daemonRun(all: ProbeResult[], restart?: number) {
  const config = fixtureConfig({ controls: [egress] });
  const byCompletion = [...all].sort((a, b) => a.ts + a.durationMs - (b.ts + b.durationMs));
  const verdicts = new Map<number, AutomaticReason | null>();
  // What a store would answer: the results completed before the (re)start.
  const reachFrom = (from: number) =>
    new TargetReach([], from, (probe, lo, hi) =>
      all.some((r) => r.probe === probe && r.status !== null && r.ts >= lo && r.ts < hi && r.ts < from),
    );
  const tracker = (clock: FakeClock) =>
    new ValidityTracker({
      config,
      clock,
      log: () => {},
      reach: reachFrom(clock.now()),
      decided: (result, reason) => verdicts.set(result.ts, reason),
    });
  const clock = new FakeClock(T - HOUR);
  let validity = tracker(clock);
  for (const result of byCompletion) {
    const done = result.ts + result.durationMs;
    if (restart !== undefined && done >= restart && clock.now() < restart) {
      validity.flush(restart);
      // The restarted daemon remembers the stored day before it, as src/agent/daemon.ts does.
      validity = tracker(clock);
      validity.rememberResults(
        byCompletion.filter((r) => r.ts + r.durationMs < restart),
        reachFrom(T - HOUR),
      );
    }
    clock.advance(Math.max(0, done - clock.now()));
    validity.record(result);
  }
  validity.flush(T + 7 * HOUR);
  return { verdicts, minutes: validity.merchantSideMinutes(T + 7 * HOUR) };
}

/** The report's merchant-side minutes per category (src/reports/build.ts groups them so). */
function reportMinutes(all: ProbeResult[]): ReadonlyMap<string, number> {
  const timeline = new ControlTimeline([egress]);
  for (const r of all) if (r.category === CONTROL_CATEGORY) timeline.add(r);
  const log = new AutomaticExclusionLog(timeline);
  for (const r of [...all].sort((a, b) => a.ts - b.ts)) {
    if (r.category === CONTROL_CATEGORY) continue;
    timeline.add(r);
    log.observe(r, automaticReasonOf(r, timeline));
  }
  return log.merchantSideMinutes();
}

/** The report's verdicts: every control result known, provider results in ts order. */
function reportVerdicts(all: ProbeResult[]): Map<number, AutomaticReason | null> {
  const timeline = new ControlTimeline([egress]);
  for (const r of all) if (r.category === CONTROL_CATEGORY) timeline.add(r);
  const verdicts = new Map<number, AutomaticReason | null>();
  for (const r of [...all].sort((a, b) => a.ts - b.ts)) {
    if (r.category === CONTROL_CATEGORY) continue;
    timeline.add(r);
    verdicts.set(r.ts, automaticReasonOf(r, timeline));
  }
  return verdicts;
}

const merchantSide = (verdicts: Map<number, AutomaticReason | null>) =>
  [...verdicts.values()].filter((v) => v === "merchant_side").length;

describe("a control contradicted by the provider's answers is no witness (daemon and report alike)", () => {
  it("control dies at T, provider outage from T + 2 h: the outage counts, live and across a restart", () => {
    const all = results(T + 2 * HOUR);
    const report = reportVerdicts(all);
    expect(merchantSide(report)).toBe(0);
    expect(merchantSide(daemonVerdicts(all))).toBe(0);
    expect(daemonVerdicts(all, T + 3 * HOUR)).toEqual(report);
    expect(daemonVerdicts(all)).toEqual(report);
  });

  it("control and provider down together from T: still merchant_side, live and across a restart", () => {
    const all = results(T);
    const report = reportVerdicts(all);
    // The request sent at T itself precedes the control's first failure (T + 7 s): the provider's.
    const outage = [...report.keys()].filter((ts) => ts > T).length;
    expect(merchantSide(report)).toBe(outage);
    expect(daemonVerdicts(all)).toEqual(report);
    expect(daemonVerdicts(all, T + 3 * HOUR)).toEqual(report);
  });

  it("/status shows the month's merchant-side minutes per category as the report does, across a restart", () => {
    const all = results(T);
    const expected = reportMinutes(all);
    expect(expected.get("payment_request")).toBeGreaterThan(5 * 60);
    expect(daemonRun(all).minutes).toEqual(expected);
    const restarted = daemonRun(all, T + 3 * HOUR).minutes;
    expect(restarted).toEqual(expected);
    const page = renderStatusPage({
      snapshot: new RollingWindows(fixtureConfig()).snapshot(T + 7 * HOUR),
      titles: new Map(),
      maintenance: [],
      alerts: [],
      failures: [],
      merchantSideMinutes: restarted,
      version: "test",
    });
    expect(page).toContain(`${expected.get("payment_request")!.toFixed(2)} min excluded as merchant_side`);
  });
});
