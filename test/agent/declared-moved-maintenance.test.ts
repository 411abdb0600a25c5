import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentErrors,
  logged,
  maintenanceConfig,
  metric,
  metricsWhen,
  type Outage,
  openOutage,
  recomputeBundle,
  reload,
  report as reportOf,
  startAgent,
} from "./maintenance-agent.js";

/**
 * Contract section 14, moved maintenance, for a window declared in slo.yaml (ATTACK-24 finding 1):
 * the real agent probes a loopback target in an outage; a reload (SIGHUP) moves the declared
 * window, announced 30 days ago for next week, onto the running outage, its announced_at left
 * alone. The moved window is judged from when that configuration was loaded (the log's
 * configuration record), so it is late_notice and the outage counts -- also after a restart, in
 * the report, in the daemon's own figures and in recompute.py.
 */

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
const ANNOUNCED = iso(T0 - 30 * DAY);
const FIRST = { start: iso(T0 + 8 * DAY), end: iso(T0 + 8 * DAY + 3_600_000) };
const MOVED = { start: iso(T0 - 600_000), end: iso(T0 + 3_600_000) };
const MONTH = iso(T0).slice(0, 7);

function config(targetUrl: string, window: { start: string; end: string }): string {
  return maintenanceConfig(
    "moved-1",
    targetUrl,
    { minNoticeDays: 7, maxOccasionsPerYear: 6, maxHoursPerYear: 40 },
    [{ id: "mw1", ...window, announcedAt: ANNOUNCED }],
  );
}

/** Probe attempts the agent counted as the provider's failures. */
const failed = (text: string) => metric(text, "slo_probe_requests_total", 'probe="pay"', 'outcome="failed"');

type Report = {
  maintenance: { windows: Record<string, unknown>[] };
  categories: { category: string; requests: number; successful: number; excluded: number }[];
};

describe("a declared window moved onto an outage by a reload (contract section 14)", {
  timeout: 240_000,
}, () => {
  let outage: Outage;
  let reloadedAt = 0;

  beforeAll(async () => {
    // The provider's outage: every request answered 503.
    outage = await openOutage("slo-declared-moved-");
    await writeFile(outage.file, config(outage.targetUrl, FIRST));
    const agent = startAgent(outage);
    try {
      const url = await agent.listening(30_000);
      await metricsWhen(agent, url, (text) => (failed(text) ?? 0) >= 3, "probed three times");
      await writeFile(outage.file, config(outage.targetUrl, MOVED));
      reloadedAt = Date.now();
      await reload(agent);
      // The operator is told the move counts as announced now.
      expect(logged(agent, "declared maintenance moved: the changed part counts as announced now")).toEqual([
        expect.objectContaining({ level: "warn", windows: ["mw1"] }),
      ]);
      await new Promise((r) => setTimeout(r, 3_000));
    } finally {
      await agent.stop();
    }
  }, 120_000);

  afterAll(async () => {
    await outage?.close();
  });

  const report = () => JSON.parse(reportOf(outage, MONTH, "json")) as Report;

  function checkReport(r: Report) {
    const windows = r.maintenance.windows.filter((w) => w.id === "mw1");
    expect(windows.length).toBeGreaterThan(0);
    for (const w of windows) expect(w).toMatchObject({ qualified: false, reason: "late_notice" });
    // The history: as announced (from announced_at), then as moved (when the reload loaded it).
    const history = windows[0]!.history as { seen_at: string; start: string }[];
    expect(history).toHaveLength(2);
    expect(history[0]!.seen_at).toBe(ANNOUNCED);
    expect(history[0]!.start).toBe(FIRST.start);
    expect(history[1]!.start).toBe(MOVED.start);
    const seen = Date.parse(history[1]!.seen_at);
    expect(seen).toBeGreaterThanOrEqual(reloadedAt - 1_000);
    expect(seen).toBeLessThan(reloadedAt + 30_000);
    const pay = r.categories.find((c) => c.category === "payment_request")!;
    // Every request of the outage counts against the provider; none is hidden by the window (an
    // agent stall on a loaded machine may rightly exclude one as agent_error).
    expect(pay.excluded).toBe(agentErrors(r, "payment_request"));
    expect(pay.requests).toBeGreaterThanOrEqual(4);
    expect(pay.successful).toBe(0);
  }

  it("the report judges the moved part from the reload: late_notice, the outage counted, history shown", () => {
    checkReport(report());
  });

  it("the Markdown report lists the declared window's versions", () => {
    expect(reportOf(outage, MONTH, "markdown")).toContain(
      "mw1 changed after it was announced; each change is judged from when it was first seen",
    );
  });

  it("a restart keeps it: the daemon's own figures count the outage, and the report is unchanged", async () => {
    const agent = startAgent(outage);
    try {
      const url = await agent.listening(30_000);
      const text = await metricsWhen(
        agent,
        url,
        (body) => (failed(body) ?? 0) >= 2,
        "probed after the restart",
      );
      // Counted against the provider: the live availability is 0, not absent (all excluded).
      expect(metric(text, "slo_availability_ratio", 'category="payment_request"', 'window="month"')).toBe(0);
    } finally {
      await agent.stop();
    }
    checkReport(report());
  });

  it("recompute.py gives the report's figures from the bundle's configuration records", async () => {
    const { stated, exportStderr } = await recomputeBundle(outage, MONTH);
    expect(exportStderr).toBe("");
    checkReport(stated as Report);
  });
});
