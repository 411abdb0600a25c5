import { describe, expect, it } from "vitest";
import { AlertStateMachine } from "../../src/alerts/machine.js";
import { type AlertCondition, alertKey } from "../../src/alerts/types.js";
import { FakeClock } from "../../src/clock/fake.js";

const START = Date.UTC(2026, 10, 10, 12, 0, 0);
const MINUTE = 60_000;

function condition(inhibitedBy: string | null = null, alertname = "SLOErrorBudgetBurn"): AlertCondition {
  const labels = {
    alertname,
    category: "payment_request",
    service_class: "transaction_critical",
    region: "eu",
    severity: "page",
  };
  return {
    key: alertKey(labels),
    labels,
    annotations: { summary: "burning", description: "d", runbook_url: "https://runbooks.test/x" },
    inhibitedBy,
  };
}

/** One evaluation: advance the fake clock, then evaluate with the condition holding or not. */
interface Step {
  readonly after: number;
  readonly holds: boolean;
  readonly inhibitedBy?: string;
  /** State after the step (absent: not listed). */
  readonly state: "pending" | "firing" | "resolved" | null;
  /** Notifications the step queues, as "firing", "reminder" or "resolved". */
  readonly notified: readonly string[];
}

const CASES: readonly { name: string; forMs: number; steps: readonly Step[] }[] = [
  {
    name: "a condition that holds starts pending and fires once it held for `for`",
    forMs: 2 * MINUTE,
    steps: [
      { after: 0, holds: true, state: "pending", notified: [] },
      { after: MINUTE, holds: true, state: "pending", notified: [] },
      { after: MINUTE, holds: true, state: "firing", notified: ["firing"] },
    ],
  },
  {
    name: "a pending alert whose condition goes away is dropped without a notification",
    forMs: 2 * MINUTE,
    steps: [
      { after: 0, holds: true, state: "pending", notified: [] },
      { after: MINUTE, holds: false, state: null, notified: [] },
    ],
  },
  {
    name: "for 0 fires at the first evaluation",
    forMs: 0,
    steps: [{ after: 0, holds: true, state: "firing", notified: ["firing"] }],
  },
  {
    name: "a firing alert is deduplicated until repeat_interval, then reminded",
    forMs: 0,
    steps: [
      { after: 0, holds: true, state: "firing", notified: ["firing"] },
      { after: 30 * MINUTE, holds: true, state: "firing", notified: [] },
      { after: 29 * MINUTE, holds: true, state: "firing", notified: [] },
      { after: MINUTE, holds: true, state: "firing", notified: ["reminder"] },
      { after: 30 * MINUTE, holds: true, state: "firing", notified: [] },
    ],
  },
  {
    name: "a firing alert whose condition is gone resolves once",
    forMs: 0,
    steps: [
      { after: 0, holds: true, state: "firing", notified: ["firing"] },
      { after: MINUTE, holds: false, state: "resolved", notified: ["resolved"] },
      { after: MINUTE, holds: false, state: "resolved", notified: [] },
    ],
  },
  {
    name: "a resolved alert is forgotten after an hour",
    forMs: 0,
    steps: [
      { after: 0, holds: true, state: "firing", notified: ["firing"] },
      { after: MINUTE, holds: false, state: "resolved", notified: ["resolved"] },
      { after: 60 * MINUTE, holds: false, state: null, notified: [] },
    ],
  },
  {
    name: "a resolved alert whose condition returns starts a new pending episode",
    forMs: 2 * MINUTE,
    steps: [
      { after: 0, holds: true, state: "pending", notified: [] },
      { after: 2 * MINUTE, holds: true, state: "firing", notified: ["firing"] },
      { after: MINUTE, holds: false, state: "resolved", notified: ["resolved"] },
      { after: MINUTE, holds: true, state: "pending", notified: [] },
      { after: 2 * MINUTE, holds: true, state: "firing", notified: ["firing"] },
    ],
  },
  {
    name: "an alert inhibited by maintenance fires but is not notified; it is once the window ends",
    forMs: 0,
    steps: [
      { after: 0, holds: true, inhibitedBy: "mw-1", state: "firing", notified: [] },
      { after: MINUTE, holds: true, inhibitedBy: "mw-1", state: "firing", notified: [] },
      { after: MINUTE, holds: true, state: "firing", notified: ["firing"] },
    ],
  },
  {
    name: "an inhibited alert never notified resolves silently",
    forMs: 0,
    steps: [
      { after: 0, holds: true, inhibitedBy: "mw-1", state: "firing", notified: [] },
      { after: MINUTE, holds: false, state: "resolved", notified: [] },
    ],
  },
  {
    name: "a notified alert that becomes inhibited gets no reminders but still resolves",
    forMs: 0,
    steps: [
      { after: 0, holds: true, state: "firing", notified: ["firing"] },
      { after: 5 * 60 * MINUTE, holds: true, inhibitedBy: "mw-1", state: "firing", notified: [] },
      { after: MINUTE, holds: false, state: "resolved", notified: ["resolved"] },
    ],
  },
];

describe("alert state machine", () => {
  for (const { name, forMs, steps } of CASES) {
    it(name, () => {
      const clock = new FakeClock(START);
      const machine = new AlertStateMachine({ forMs, repeatIntervalMs: 60 * MINUTE });
      steps.forEach((step, i) => {
        clock.advance(step.after);
        const conditions = step.holds ? [condition(step.inhibitedBy ?? null)] : [];
        const { notifications } = machine.evaluate(conditions, clock.now());
        const listed = machine.alerts();
        expect(listed[0]?.state ?? null, `step ${i} state`).toBe(step.state);
        expect(
          notifications.map((n) => (n.reminder ? "reminder" : n.status)),
          `step ${i} notifications`,
        ).toEqual(step.notified);
        if (step.inhibitedBy) expect(listed[0]?.inhibitedBy).toBe(step.inhibitedBy);
      });
    });
  }

  it("a notification carries the episode's start and, once resolved, its end", () => {
    const clock = new FakeClock(START);
    const machine = new AlertStateMachine({ forMs: MINUTE, repeatIntervalMs: 60 * MINUTE });
    machine.evaluate([condition()], clock.now());
    clock.advance(MINUTE);
    const fired = machine.evaluate([condition()], clock.now()).notifications[0]!;
    expect(fired).toMatchObject({ status: "firing", startsAt: START, endsAt: null });
    clock.advance(MINUTE);
    const resolved = machine.evaluate([], clock.now()).notifications[0]!;
    expect(resolved).toMatchObject({ status: "resolved", startsAt: START, endsAt: START + 2 * MINUTE });
  });

  it("the same condition twice in one evaluation is one alert, and distinct labels are distinct alerts", () => {
    const machine = new AlertStateMachine({ forMs: 0, repeatIntervalMs: 60 * MINUTE });
    const { notifications } = machine.evaluate(
      [condition(), condition(), condition(null, "SLOLatencyObjectiveMissed")],
      START,
    );
    expect(notifications.map((n) => n.labels.alertname)).toEqual([
      "SLOErrorBudgetBurn",
      "SLOLatencyObjectiveMissed",
    ]);
    expect(machine.alerts()).toHaveLength(2);
  });

  it("restored from a previous run, a firing alert is neither notified again nor lost when it resolves", () => {
    const first = new AlertStateMachine({ forMs: 0, repeatIntervalMs: 60 * MINUTE });
    first.evaluate([condition()], START);
    const second = new AlertStateMachine({
      forMs: 0,
      repeatIntervalMs: 60 * MINUTE,
      restored: first.alerts(),
    });
    expect(second.evaluate([condition()], START + MINUTE).notifications).toEqual([]);
    expect(second.evaluate([], START + 2 * MINUTE).notifications.map((n) => n.status)).toEqual(["resolved"]);
  });
});
