import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import type { Control } from "../../src/model/config.js";
import type { ProbeResult } from "../../src/model/result.js";
import { CONTROL_CATEGORY, controlProbeId, measurementProblemOf } from "../../src/model/validity.js";
import { createTargetDispatcher, runProbe } from "../../src/probes/index.js";
import {
  AutomaticExclusionLog,
  automaticReasonOf,
  automaticVerdictOf,
  ControlTimeline,
} from "../../src/slo/index.js";
import { httpServer, httpSpec, target } from "../probes/loopback.js";

const controls: Control[] = [
  { id: "a", kind: "http", url: "http://127.0.0.1:9/", intervalMs: 10_000, timeoutMs: 5_000 },
  { id: "b", kind: "http", url: "http://127.0.0.1:9/", intervalMs: 10_000, timeoutMs: 5_000 },
];

function result(ts: number, over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    ts,
    probe: "payment-request-read",
    category: "payment_request",
    status: null,
    durationMs: 3,
    error: "connect",
    errorCode: null,
    correlationId: null,
    ...over,
  };
}

function control(id: string, ts: number, up: boolean): ProbeResult {
  return result(ts, {
    probe: controlProbeId(id),
    category: CONTROL_CATEGORY,
    status: up ? 200 : null,
    error: up ? null : "dns",
  });
}

/** Both controls answered a minute before: healthy witnesses for what follows. */
function timeline(...results: ProbeResult[]): ControlTimeline {
  return bare(control("a", -60_000, true), control("b", -60_000, true), ...results);
}

function bare(...results: ProbeResult[]): ControlTimeline {
  const t = new ControlTimeline(controls);
  for (const r of results) t.add(r);
  return t;
}

describe("merchant_side: a quorum of controls' latest results before ts, fresh, failed and healthy witnesses", () => {
  const cases: [string, ControlTimeline, ProbeResult, string | null][] = [
    [
      "all controls failing: merchant_side",
      timeline(control("a", 0, false), control("b", 1, false)),
      result(100),
      "merchant_side",
    ],
    [
      "one control answering: the provider's",
      timeline(control("a", 0, false), control("b", 1, true)),
      result(100),
      null,
    ],
    [
      "a control result at the same ts is not before it",
      timeline(control("a", 0, false), control("b", 100, false)),
      result(100),
      null,
    ],
    [
      "stale beyond every + timeout_ms: unknown, the provider's",
      timeline(control("a", 0, false), control("b", 1, false)),
      result(15_001),
      null,
    ],
    [
      "exactly every + timeout_ms old still counts",
      timeline(control("a", 0, false), control("b", 0, false)),
      result(15_000),
      "merchant_side",
    ],
    [
      "a response (even 503) is never merchant_side",
      timeline(control("a", 0, false), control("b", 1, false)),
      result(100, { status: 503, error: null }),
      null,
    ],
    [
      "protocol errors are never merchant_side",
      timeline(control("a", 0, false), control("b", 1, false)),
      result(100, { error: "protocol" }),
      null,
    ],
    ["no controls configured: the provider's", new ControlTimeline([]), result(100), null],
    [
      "controls that never answered are no witnesses: the provider's",
      bare(control("a", 0, false), control("b", 1, false)),
      result(100),
      null,
    ],
    [
      "controls that last answered over 10 minutes before their failures began: the provider's",
      bare(
        control("a", -600_001, true),
        control("b", -600_001, true),
        control("a", 0, false),
        control("b", 1, false),
      ),
      result(100),
      null,
    ],
    [
      "a long merchant-side outage stays merchant_side: health is judged before the failures began",
      timeline(
        control("a", 0, false),
        control("b", 1, false),
        control("a", 7_200_000, false),
        control("b", 7_200_001, false),
      ),
      result(7_200_100),
      "merchant_side",
    ],
    [
      "a flapping control (two earlier runs of failures within 10 minutes) is no witness",
      timeline(
        control("a", -50_000, false),
        control("a", -40_000, true),
        control("a", -30_000, false),
        control("a", -20_000, true),
        control("a", 0, false),
        control("b", 1, false),
      ),
      result(100),
      null,
    ],
    [
      "one earlier blip does not make a control flapping",
      timeline(
        control("a", -30_000, false),
        control("a", -20_000, true),
        control("a", 0, false),
        control("b", 1, false),
      ),
      result(100),
      "merchant_side",
    ],
    [
      "agent_error wins regardless of controls",
      timeline(),
      result(100, { flags: ["agent_error"] }),
      "agent_error",
    ],
    [
      "the latest result decides: failed then answered",
      timeline(control("a", 0, false), control("a", 50, true), control("b", 1, false)),
      result(100),
      null,
    ],
  ];
  it.each(cases)("%s", (_name, t, r, expected) => {
    expect(automaticReasonOf(r, t)).toBe(expected);
  });

  it("controls that fail but are no witnesses say why: control_unhealthy or control_flapping", () => {
    expect(automaticVerdictOf(result(100), bare(control("a", 0, false), control("b", 1, false)))).toEqual({
      reason: null,
      problem: "control_unhealthy",
    });
    const flapping = timeline(
      control("a", -50_000, false),
      control("a", -40_000, true),
      control("a", -30_000, false),
      control("a", -20_000, true),
      control("a", 0, false),
      control("b", 1, false),
    );
    expect(automaticVerdictOf(result(100), flapping)).toEqual({ reason: null, problem: "control_flapping" });
    // Under the quorum, nothing to say: one control failing of two.
    expect(automaticVerdictOf(result(100), bare(control("a", 0, false)))).toEqual({
      reason: null,
      problem: null,
    });
  });

  it("controls_quorum: one healthy witness of two suffices with quorum 1; one control means quorum 1", () => {
    const t = new ControlTimeline(controls, 1);
    for (const r of [control("a", -60_000, true), control("a", 0, false), control("b", 1, false)]) t.add(r);
    expect(automaticReasonOf(result(100), t)).toBe("merchant_side");
    expect(new ControlTimeline(controls).quorumAt(0)).toBe(2);
    expect(new ControlTimeline([controls[0]!]).quorumAt(0)).toBe(1);
  });

  it("each result is judged by the controls settings in force when it was sent (ATTACK-24c item 1)", () => {
    // Quorum 2 until 1_000, then 1 (a restart with controls_quorum 1): a failure sent before the
    // change, with one healthy witness of two, stays the provider's; one after it is merchant_side.
    const t = ControlTimeline.ofSettings([
      { from: -100_000, controls },
      { from: 1_000, controls, quorum: 1 },
    ]);
    for (const r of [control("a", -60_000, true), control("b", -60_000, true), control("a", 0, false)])
      t.add(r);
    t.add(control("b", 1, true));
    expect(automaticReasonOf(result(100), t)).toBeNull();
    expect(automaticReasonOf(result(1_500), t)).toBe("merchant_side");
    expect([t.quorumAt(999), t.quorumAt(1_000)]).toEqual([2, 1]);
    // A control taken out of the list by a later settings version no longer witnesses after it.
    const removed = ControlTimeline.ofSettings([
      { from: -100_000, controls, quorum: 1 },
      { from: 1_000, controls: [controls[1]!], quorum: 1 },
    ]);
    for (const r of [control("a", -60_000, true), control("a", 0, false)]) removed.add(r);
    expect(automaticReasonOf(result(100), removed)).toBe("merchant_side");
    expect(automaticReasonOf(result(1_500), removed)).toBeNull();
  });

  it("the daemon waits until every control result sent before ts is in (settledFor)", () => {
    const t = timeline(control("a", 0, false));
    expect(t.settledFor(100, 200)).toBe(false); // b may still be running
    expect(t.settledFor(100, 100 + 5_000 + 2_000)).toBe(true); // any run of b started before ts is over
    t.add(control("b", 150, false));
    expect(t.settledFor(100, 200)).toBe(false); // a has nothing at or after ts yet
    t.add(control("a", 101, true));
    expect(t.settledFor(100, 200)).toBe(true);
  });

  it("an episode goes on until a control answers, and lists the control evidence", () => {
    const t = timeline(
      control("a", 0, false),
      control("b", 1, false),
      control("a", 200, true),
      control("a", 300, false),
    );
    const log = new AutomaticExclusionLog(t);
    for (const ts of [100, 150, 350]) log.observe(result(ts), automaticReasonOf(result(ts), t));
    const episodes = log.episodes();
    expect(episodes.map((e) => [e.start, e.requests])).toEqual([
      ["1970-01-01T00:00:00.100Z", 2],
      ["1970-01-01T00:00:00.350Z", 1],
    ]);
    expect(episodes[0]!.evidence.controls?.map((c) => [c.control, c.failed_results, c.errors])).toEqual([
      ["a", 1, ["dns"]],
      ["b", 1, ["dns"]],
    ]);
  });
});

describe("expectations", () => {
  const cases: [number | null, readonly number[] | null, string | null][] = [
    [404, [404], null],
    [200, [404], "unexpected_status"],
    [401, [404], "auth_failed"],
    [403, null, "auth_failed"],
    [401, [401], null],
    [500, null, null],
    [503, [404], null],
    [null, [404], null],
  ];
  it.each(cases)("status %s with expect %j: %s", (status, statuses, problem) => {
    expect(measurementProblemOf(status, statuses ? { status: statuses } : null)).toBe(problem);
  });
});

describe("agent_error from a real request", () => {
  it("a header undici refuses (a space in its name) is flagged agent_error, not the provider's connect", async () => {
    const server = await httpServer({ "/": (_req, res) => res.end("{}") });
    const t = target(server.origin);
    const dispatcher = createTargetDispatcher(t, { clock: systemClock });
    try {
      const spec = httpSpec("/", { headers: { "X Trace": "abc" } });
      const { result: r } = await runProbe({ spec, target: t, dispatcher, clock: systemClock });
      expect(r.status).toBeNull();
      expect(r.flags).toContain("agent_error");
      expect(automaticReasonOf(r, new ControlTimeline([]))).toBe("agent_error");
    } finally {
      await dispatcher.destroy();
      await server.close();
    }
  });
});
