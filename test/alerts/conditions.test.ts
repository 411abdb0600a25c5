import { describe, expect, it } from "vitest";
import { AGENT_ALERT, alertConditions } from "../../src/alerts/conditions.js";
import type { CategorySnapshot, SloSnapshot, SloWindow, WindowFigures } from "../../src/model/snapshot.js";
import { SLO_WINDOWS } from "../../src/model/snapshot.js";
import type { ProbeValidity } from "../../src/model/validity.js";
import { fixtureConfig } from "../support/slo-config.js";

const NOW = Date.UTC(2026, 10, 10, 12, 0, 0);
const HOUR = 3_600_000;

function figures(window: SloWindow, failedRatio: number, p99: number | null = 100): WindowFigures {
  const requests = 1000;
  const served = Math.round(requests * (1 - failedRatio));
  return {
    window,
    requests,
    served,
    excluded: 0,
    availability: served / requests,
    latencyP99Ms: p99,
    burnRate: failedRatio / 0.01,
  };
}

function category(
  failed: Partial<Record<SloWindow, number>> = {},
  extra: Partial<CategorySnapshot> & Record<string, unknown> = {},
): CategorySnapshot {
  return {
    category: "payment_request",
    serviceClass: "transaction_critical",
    availabilityTarget: 0.99,
    latencyObjectiveMs: 1500,
    windows: SLO_WINDOWS.map((w) => figures(w, failed[w] ?? 0)),
    errorBudgetRemaining: 1,
    breach: { availability: false, latency: false },
    maintenanceActive: false,
    ...extra,
  };
}

const snapshot = (c: CategorySnapshot, at = NOW): SloSnapshot => ({ at, categories: [c] });
const names = (conditions: { labels: { alertname: string } }[]) => conditions.map((c) => c.labels.alertname);

describe("alert conditions from the SLO snapshot", () => {
  it("a healthy category raises nothing", () => {
    expect(alertConditions(fixtureConfig(), { snapshot: snapshot(category()) })).toEqual([]);
  });

  it("the fast-burn pair fires when both 1h and 5m burn above 14.4x, with the table's windows and severity", () => {
    const found = alertConditions(fixtureConfig(), {
      snapshot: snapshot(category({ "5m": 1, "1h": 0.2 })),
    });
    expect(found.map((c) => c.labels)).toEqual([
      expect.objectContaining({
        alertname: "SLOErrorBudgetBurn",
        long_window: "1h",
        short_window: "5m",
        severity: "page",
        category: "payment_request",
        service_class: "transaction_critical",
        region: "eu",
      }),
    ]);
    expect(found[0]!.annotations.runbook_url).toBe("https://runbooks.test/slo/SLOErrorBudgetBurn");
  });

  it("only the long window burning is not enough (the short window proves it is current)", () => {
    const found = alertConditions(fixtureConfig(), { snapshot: snapshot(category({ "1h": 1 })) });
    expect(names(found)).not.toContain("SLOErrorBudgetBurn");
  });

  it("the 1d/2h pair reads the 2h window from the burn-rate source the daemon provides", () => {
    const c = category({ "1d": 0.05 });
    expect(names(alertConditions(fixtureConfig(), { snapshot: snapshot(c) }))).not.toContain(
      "SLOErrorBudgetBurn",
    );
    const found = alertConditions(fixtureConfig(), { snapshot: snapshot(c), burnRate: () => 5 });
    expect(found.find((f) => f.labels.long_window === "1d")?.labels.short_window).toBe("2h");
  });

  it("p99 over the objective over the configured window raises the latency alert", () => {
    const c = category();
    const slow = {
      ...c,
      windows: c.windows.map((w) => (w.window === "1h" ? { ...w, latencyP99Ms: 1600 } : w)),
    };
    expect(names(alertConditions(fixtureConfig(), { snapshot: snapshot(slow) }))).toEqual([
      AGENT_ALERT.latency,
    ]);
  });

  it("a budget projected to run out before month end raises the exhaustion alert", () => {
    // 10 days into November, 0.5% failed so far (half the budget), and the last day at 2x.
    const c = category({ month: 0.005, "1d": 0.02, "30d": 0.005 });
    expect(names(alertConditions(fixtureConfig(), { snapshot: snapshot(c) }))).toEqual([
      AGENT_ALERT.budgetExhaustion,
    ]);
  });

  it("no exhaustion is projected before there is a day of data (a fresh store's minutes say nothing of a month)", () => {
    const c = category({ month: 0.5, "1d": 0.5, "30d": 0.5 });
    const with_ = (measuredSince: number | null) =>
      names(alertConditions(fixtureConfig(), { snapshot: snapshot(c), measuredSince }));
    expect(with_(NOW - 10 * 60_000)).not.toContain(AGENT_ALERT.budgetExhaustion);
    expect(with_(null)).not.toContain(AGENT_ALERT.budgetExhaustion);
    expect(with_(NOW - 24 * HOUR)).toContain(AGENT_ALERT.budgetExhaustion);
  });

  it("the agent's alerts carry the vendor error-code hints the Prometheus rules carry", () => {
    const found = alertConditions(fixtureConfig(), { snapshot: snapshot(category({ "5m": 1, "1h": 0.2 })) });
    expect(found[0]!.annotations.hints).toMatch(/Codes that count against availability: .*\(HTTP 5\d\d/);
    expect(found[0]!.annotations.hints).not.toContain("{{");
  });

  it("without alerting.runbook_base_url an alert carries no runbook_url (never a placeholder)", () => {
    const base = fixtureConfig();
    const config = { ...base, alerting: { ...base.alerting, runbookBaseUrl: null } };
    const found = alertConditions(config, { snapshot: snapshot(category({ "5m": 1, "1h": 0.2 })) });
    expect(found[0]!.annotations).not.toHaveProperty("runbook_url");
  });

  it("a page of a category inhibits that category's tickets, not another category's", () => {
    // Everything failing: the page pairs and the ticket pairs all hold.
    const failing = category({ "5m": 1, "30m": 1, "1h": 1, "6h": 1, "1d": 1, "3d": 1 });
    const other = { ...category({ "1d": 0.05 }), category: "settlements" };
    const found = alertConditions(fixtureConfig(), {
      snapshot: { at: NOW, categories: [failing, other] },
      burnRate: () => 5,
      coverage: new Map([["payment_request", 0.5]]),
    });
    const of = (c: string, severity: string) =>
      found.filter((f) => f.labels.category === c && f.labels.severity === severity);
    expect(of("payment_request", "page").length).toBeGreaterThan(0);
    expect(of("payment_request", "page").every((f) => f.inhibitedBy === null)).toBe(true);
    expect(of("payment_request", "ticket").length).toBeGreaterThan(1);
    expect(of("payment_request", "ticket").every((f) => f.inhibitedBy === "SLOErrorBudgetBurn (page)")).toBe(
      true,
    );
    expect(of("settlements", "ticket").length).toBeGreaterThan(0);
    expect(of("settlements", "ticket").every((f) => f.inhibitedBy === null)).toBe(true);
  });

  it("coverage below the threshold raises the coverage alert; at the threshold it does not", () => {
    const at = (ratio: number) =>
      names(
        alertConditions(fixtureConfig(), {
          snapshot: snapshot(category()),
          coverage: new Map([["payment_request", ratio]]),
        }),
      );
    expect(at(0.89)).toEqual([AGENT_ALERT.coverage]);
    expect(at(0.9)).toEqual([]);
  });

  it("measurement-validity episodes of any of a category's probes raise its alerts", () => {
    const probe = (id: string, flags: Partial<ProbeValidity>): ProbeValidity => ({
      probe: id,
      category: "payment_request",
      merchantSide: false,
      agentErrors: false,
      authFailed: false,
      unexpectedStatus: false,
      ...flags,
    });
    const validity = [
      probe("a", { merchantSide: true }),
      probe("b", { authFailed: true, unexpectedStatus: true }),
      probe("c", { targetUnreached: true }),
    ];
    const alerts = alertConditions(fixtureConfig(), { snapshot: { ...snapshot(category()), validity } });
    expect(names(alerts).sort()).toEqual(
      [AGENT_ALERT.authFailed, AGENT_ALERT.merchantSide, AGENT_ALERT.targetUnreached].sort(),
    );
    expect(alerts.every((a) => a.labels.category === "payment_request")).toBe(true);
    const healthy = [probe("a", {}), probe("b", { unexpectedStatus: true })];
    expect(
      names(alertConditions(fixtureConfig(), { snapshot: { ...snapshot(category()), validity: healthy } })),
    ).toEqual([]);
  });

  const window = {
    id: "mw-1",
    start: NOW - HOUR,
    end: NOW + HOUR,
    announcedAt: NOW - 30 * 24 * HOUR,
    categories: "all" as const,
  };

  it("qualifying maintenance inhibits availability alerts and names the window", () => {
    const config = fixtureConfig({
      maintenance: {
        policy: { minNoticeDays: 7, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
        windows: [window],
      },
    });
    const found = alertConditions(config, { snapshot: snapshot(category({ "5m": 1, "1h": 1 })) });
    expect(found.map((f) => f.inhibitedBy)).toEqual(["mw-1"]);
  });

  it("maintenance announced too late does not qualify and does not inhibit", () => {
    const late = { ...window, announcedAt: NOW - 2 * HOUR };
    const config = fixtureConfig({
      maintenance: {
        policy: { minNoticeDays: 7, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
        windows: [late],
      },
    });
    const found = alertConditions(config, { snapshot: snapshot(category({ "5m": 1, "1h": 1 })) });
    expect(found.map((f) => f.inhibitedBy)).toEqual([null]);
  });

  it("a window past its announced end while the category still fails raises the overrun alert, naming it", () => {
    const ended = { ...window, start: NOW - 3 * HOUR, end: NOW - 10 * 60_000 };
    const config = fixtureConfig({
      maintenance: {
        policy: { minNoticeDays: 7, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
        windows: [ended],
      },
    });
    const failing = alertConditions(config, { snapshot: snapshot(category({ "5m": 0.02 })) });
    expect(failing.map((f) => [f.labels.alertname, f.labels.maintenance])).toEqual([
      [AGENT_ALERT.maintenanceOverrun, "mw-1"],
    ]);
    expect(alertConditions(config, { snapshot: snapshot(category()) })).toEqual([]);
    expect(alertConditions(config, { snapshot: snapshot(category({ "5m": 0.02 }), NOW + 2 * HOUR) })).toEqual(
      [],
    );
  });
});
