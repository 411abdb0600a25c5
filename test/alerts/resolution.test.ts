import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentAlerting } from "../../src/alerts/alerting.js";
import { FakeClock } from "../../src/clock/fake.js";
import type { CategorySnapshot, SloWindow, WindowFigures } from "../../src/model/snapshot.js";
import { SLO_WINDOWS } from "../../src/model/snapshot.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { fixtureConfig } from "../support/slo-config.js";

const NOW = Date.UTC(2026, 10, 10, 12, 0, 0);

function figures(window: SloWindow, failedRatio: number): WindowFigures {
  const requests = 1000;
  const served = Math.round(requests * (1 - failedRatio));
  return {
    window,
    requests,
    served,
    excluded: 0,
    availability: served / requests,
    latencyP99Ms: 100,
    burnRate: failedRatio / 0.01,
  };
}

function category(failed: Partial<Record<SloWindow, number>>): CategorySnapshot {
  return {
    category: "payment_request",
    serviceClass: "transaction_critical",
    availabilityTarget: 0.99,
    latencyObjectiveMs: 1500,
    windows: SLO_WINDOWS.map((w) => figures(w, failed[w] ?? 0)),
    errorBudgetRemaining: 1,
    breach: { availability: false, latency: false },
    maintenanceActive: false,
  };
}

let dir: string;
let dispatcher: Agent;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-resolution-"));
  dispatcher = new Agent();
});
afterEach(async () => {
  await dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a resolved alert", () => {
  it("says the figures at resolution, in its annotations and in the log, not the firing summary", async () => {
    const clock = new FakeClock(NOW);
    const store = openEvidenceStore({ dataDir: dir, clock });
    const base = fixtureConfig();
    const config = { ...base, alerting: { ...base.alerting, forMs: 0, receivers: [] } };
    const logs: string[] = [];
    const alerting = new AgentAlerting({
      config,
      clock,
      ledger: store.notifications,
      dispatcher,
      random: () => 0.5,
      log: (_level, message) => logs.push(message),
      generatorUrl: () => "http://127.0.0.1:9464/alerts",
    });
    alerting.evaluate({ snapshot: { at: clock.now(), categories: [category({ "5m": 0.3, "1h": 0.156 })] } });
    expect(logs.join("\n")).toContain("burns its error budget at 15.6x over 1h");
    clock.advance(60_000);
    alerting.evaluate({ snapshot: { at: clock.now(), categories: [category({ "5m": 0, "1h": 0.05 })] } });
    const resolvedLine = logs.find((l) => l.startsWith("alert resolved:"));
    expect(resolvedLine).toContain("now burns at 5.0x over 1h and 0.0x over 5m (threshold 14.4x over both)");
    expect(resolvedLine).not.toContain("15.6x");
    const resolved = alerting.view().alerts.find((a) => a.state === "resolved");
    expect(resolved?.annotations.summary).toContain("resolved: the error budget now burns at 5.0x");
    expect(resolved?.annotations.description).toContain("While firing:");
    await alerting.close();
    store.close();
  });
});
