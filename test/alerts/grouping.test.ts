import { describe, expect, it } from "vitest";
import { AlertGroups, type GroupTiming } from "../../src/alerts/grouping.js";
import {
  type AgentAlert,
  type AlertNotification,
  alertKey,
  type NotifiedAlert,
} from "../../src/alerts/types.js";

const T0 = Date.UTC(2026, 10, 10, 12, 0, 0);
const S = 1000;
const MIN = 60 * S;
const TIMING: GroupTiming = { groupWaitMs: 30 * S, groupIntervalMs: 5 * MIN, repeatIntervalMs: 4 * 60 * MIN };

function firing(alertname: string, firedAt: number, over: Partial<AgentAlert> = {}): AgentAlert {
  const labels = {
    alertname,
    category: over.labels?.category ?? "payment_request",
    service_class: "transaction_critical",
    region: "eu",
    severity: over.labels?.severity ?? "page",
  };
  return {
    key: alertKey(labels),
    labels,
    annotations: { summary: `${alertname} burns`, description: "d" },
    state: "firing",
    activeAt: firedAt,
    firedAt,
    resolvedAt: null,
    notifiedAt: firedAt,
    inhibitedBy: null,
    ...over,
  };
}

function resolution(alert: AgentAlert, at: number): NotifiedAlert {
  return {
    key: alert.key,
    status: "resolved",
    labels: alert.labels,
    annotations: { summary: `${alert.labels.alertname} resolved: burns at 0.0x`, description: "d" },
    startsAt: alert.activeAt,
    endsAt: at,
  };
}

const shape = (n: AlertNotification) => ({
  status: n.status,
  reminder: n.reminder,
  alerts: (n.alerts ?? []).map((a) => `${a.status} ${a.labels.alertname}`),
});

describe("alert notifications grouped per category and severity (Alertmanager's defaults)", () => {
  it("alerts of one group that fire within group_wait arrive in one notification, after group_wait", () => {
    const groups = new AlertGroups(TIMING);
    const a = firing("SLOErrorBudgetBurn/1h", T0);
    const b = firing("SLOErrorBudgetBurn/6h", T0 + 10 * S);
    expect(groups.step([a], [], T0).notifications).toEqual([]);
    expect(groups.step([a, b], [], T0 + 10 * S).notifications).toEqual([]);
    expect(groups.step([a, b], [], T0 + 29 * S).notifications).toEqual([]);
    const sent = groups.step([a, b], [], T0 + 30 * S).notifications;
    expect(sent.map(shape)).toEqual([
      {
        status: "firing",
        reminder: false,
        alerts: ["firing SLOErrorBudgetBurn/1h", "firing SLOErrorBudgetBurn/6h"],
      },
    ]);
    expect(sent[0]?.startsAt).toBe(T0);
    expect(groups.step([a, b], [], T0 + 31 * S).notifications).toEqual([]);
  });

  it("a category's page and ticket, and two categories, are separate groups", () => {
    const groups = new AlertGroups(TIMING);
    const page = firing("Burn", T0);
    const ticket = firing("Latency", T0, {
      labels: { ...page.labels, alertname: "Latency", severity: "ticket" },
    });
    const other = firing("Burn", T0, { labels: { ...page.labels, category: "refund" } });
    const alerts = [
      page,
      { ...ticket, key: alertKey(ticket.labels) },
      { ...other, key: alertKey(other.labels) },
    ];
    const sent = groups.step(alerts, [], T0 + 30 * S).notifications;
    expect(sent.map((n) => `${n.labels.category} ${n.labels.severity} ${n.alerts?.length}`).sort()).toEqual([
      "payment_request page 1",
      "payment_request ticket 1",
      "refund page 1",
    ]);
  });

  it("an alert joining a notified group is sent group_interval after the group's last notification, with every firing alert", () => {
    const groups = new AlertGroups(TIMING);
    const a = firing("A", T0);
    groups.step([a], [], T0 + 30 * S);
    const b = firing("B", T0 + MIN);
    expect(groups.step([a, b], [], T0 + MIN).notifications).toEqual([]);
    expect(groups.step([a, b], [], T0 + 30 * S + 5 * MIN - 1).notifications).toEqual([]);
    expect(groups.step([a, b], [], T0 + 30 * S + 5 * MIN).notifications.map(shape)).toEqual([
      { status: "firing", reminder: false, alerts: ["firing A", "firing B"] },
    ]);
  });

  it("resolves once every notified alert resolved, with the figures at resolution, and the episode ends", () => {
    const groups = new AlertGroups(TIMING);
    const a = firing("A", T0);
    const b = firing("B", T0);
    groups.step([a, b], [], T0 + 30 * S);
    const end = T0 + 10 * MIN;
    // A resolves while B still fires: the change goes out with B firing and A resolved.
    expect(groups.step([b], [resolution(a, end)], end).notifications.map(shape)).toEqual([
      { status: "firing", reminder: false, alerts: ["firing B", "resolved A"] },
    ]);
    expect(groups.step([], [resolution(b, end + MIN)], end + MIN).notifications).toEqual([]);
    const sent = groups.step([], [], end + 5 * MIN).notifications;
    expect(sent.map(shape)).toEqual([{ status: "resolved", reminder: false, alerts: ["resolved B"] }]);
    expect(sent[0]?.annotations.summary).toBe("B resolved: burns at 0.0x");
    expect(sent[0]?.startsAt).toBe(T0);
    expect(sent[0]?.endsAt).toBe(end + 5 * MIN);
    expect(groups.groups()).toEqual([]);
  });

  it("a resolution inside group_interval waits for it", () => {
    const groups = new AlertGroups(TIMING);
    const a = firing("A", T0);
    groups.step([a], [], T0 + 30 * S);
    expect(groups.step([], [resolution(a, T0 + MIN)], T0 + MIN).notifications).toEqual([]);
    expect(groups.step([], [], T0 + 30 * S + 5 * MIN).notifications.map(shape)).toEqual([
      { status: "resolved", reminder: false, alerts: ["resolved A"] },
    ]);
  });

  it("an alert that fires and resolves within group_wait is never sent", () => {
    const groups = new AlertGroups(TIMING);
    const a = firing("A", T0);
    groups.step([a], [], T0);
    expect(groups.step([], [resolution(a, T0 + 10 * S)], T0 + 10 * S).notifications).toEqual([]);
    expect(groups.step([], [], T0 + MIN).notifications).toEqual([]);
    expect(groups.groups()).toEqual([]);
  });

  it("an unchanged firing group is sent again every repeat_interval, as a reminder", () => {
    const groups = new AlertGroups(TIMING);
    const a = firing("A", T0);
    groups.step([a], [], T0 + 30 * S);
    expect(groups.step([a], [], T0 + 30 * S + 4 * 60 * MIN - 1).notifications).toEqual([]);
    expect(groups.step([a], [], T0 + 30 * S + 4 * 60 * MIN).notifications.map(shape)).toEqual([
      { status: "firing", reminder: true, alerts: ["firing A"] },
    ]);
  });

  it("a muted (inhibited) alert is left out; the group neither resolves nor reminds while all are muted", () => {
    const groups = new AlertGroups(TIMING);
    const a = firing("A", T0);
    groups.step([a], [], T0 + 30 * S);
    const muted = { ...a, inhibitedBy: "window-1" };
    expect(groups.step([muted], [], T0 + 5 * 60 * MIN).notifications).toEqual([]);
    expect(groups.groups()).toHaveLength(1);
  });

  it("a restart resumes from the stored groups: nothing is sent twice", () => {
    const first = new AlertGroups(TIMING);
    const a = firing("A", T0);
    first.step([a], [], T0 + 30 * S);
    const stored = JSON.parse(JSON.stringify(first.groups()));
    const second = new AlertGroups(TIMING, stored);
    expect(second.step([a], [], T0 + MIN).notifications).toEqual([]);
    expect(second.step([], [resolution(a, T0 + 6 * MIN)], T0 + 6 * MIN).notifications.map(shape)).toEqual([
      { status: "resolved", reminder: false, alerts: ["resolved A"] },
    ]);
  });

  it("what is firing, for a receiver added by reload: every notified group's firing alerts", () => {
    const groups = new AlertGroups(TIMING);
    const a = firing("A", T0);
    const b = firing("B", T0 + MIN);
    groups.step([a], [], T0 + 30 * S);
    groups.step([a, b], [], T0 + MIN);
    // b joined but is not notified yet: the new receiver hears of it with the group's next notification.
    expect(groups.firing([a, b], T0 + 2 * MIN).map(shape)).toEqual([
      { status: "firing", reminder: false, alerts: ["firing A"] },
    ]);
  });
});
