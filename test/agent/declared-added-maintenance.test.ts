import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentErrors,
  agentErrorsOnMetrics,
  type DeclaredWindow,
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
 * Contract section 14 for a declared window the log first holds late (ATTACK-24, second attack,
 * finding 1): the real agent probes a loopback target in an outage; a reload (SIGHUP) adds a new
 * window mw2 over the running outage, announced_at 30 days back. Its notice counts from that load
 * (the log's configuration record), so it is late_notice and the outage counts -- in /metrics, in
 * every report format and in recompute.py. A window only in the slo.yaml given to `report` (never
 * loaded) counts from the report's generated_at (finding 2); one in the log's first configuration
 * keeps its announced_at but is reported unverified when its verdict rests on it.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
const MONTH = iso(T0).slice(0, 7);
const ANNOUNCED = iso(T0 - 30 * DAY);
/** Over the outage: from before the agent started to well after the test. */
const OUTAGE = { start: iso(T0 - 600_000), end: iso(T0 + HOUR), announcedAt: ANNOUNCED };
/** In the first configuration, inside this month, sooner than the notice period: no probe runs in it. */
const soonStart = iso(T0 + 3 * HOUR).slice(0, 7) === MONTH ? T0 + 2 * HOUR : T0 - 3 * HOUR;
const SOON = { start: iso(soonStart), end: iso(soonStart + HOUR), announcedAt: ANNOUNCED };

const config = (targetUrl: string, windows: DeclaredWindow[]) =>
  maintenanceConfig(
    "added-1",
    targetUrl,
    { minNoticeDays: 7, maxOccasionsPerYear: 6, maxHoursPerYear: 40 },
    windows,
  );

const outcome = (text: string, name: string) =>
  metric(text, "slo_probe_requests_total", 'probe="pay"', `outcome="${name}"`) ?? 0;

describe("a declared window added by a reload over an outage (contract section 14)", {
  timeout: 240_000,
}, () => {
  let outage: Outage;
  let reloadedAt = 0;
  let metricsAfter = "";

  beforeAll(async () => {
    // The provider's outage: every request answered 503.
    outage = await openOutage("slo-declared-added-");
    await writeFile(outage.file, config(outage.targetUrl, [{ id: "mw0", ...SOON }]));
    const agent = startAgent(outage);
    try {
      const url = await agent.listening(30_000);
      await metricsWhen(agent, url, (text) => outcome(text, "failed") >= 3, "probed three times");
      await writeFile(
        outage.file,
        config(outage.targetUrl, [
          { id: "mw0", ...SOON },
          { id: "mw2", ...OUTAGE },
        ]),
      );
      reloadedAt = Date.now();
      await reload(agent);
      // The operator is told the added window counts as announced now.
      expect(
        logged(agent, "declared maintenance added: it counts as announced now, not from its announced_at"),
      ).toEqual([expect.objectContaining({ level: "warn", windows: ["mw2"] })]);
      const failedAtReload = outcome(await (await fetch(`${url}/metrics`)).text(), "failed");
      metricsAfter = await metricsWhen(
        agent,
        url,
        (text) => outcome(text, "failed") >= failedAtReload + 3,
        "probed three times after the reload",
      );
    } finally {
      await agent.stop();
    }
  }, 120_000);

  afterAll(async () => {
    await outage?.close();
  });

  const report = (format: string, sloYaml = outage.file) => reportOf(outage, MONTH, format, sloYaml);

  type Report = {
    maintenance: { windows: Record<string, unknown>[] };
    categories: { category: string; requests: number; successful: number; excluded: number }[];
    warnings?: string[];
  };

  function checkReport(r: Report) {
    const windows = r.maintenance.windows.filter((w) => w.id === "mw2");
    expect(windows).toHaveLength(1);
    expect(windows[0]).toMatchObject({
      qualified: false,
      reason: "late_notice",
      declared_announced_at: ANNOUNCED,
      declared_notice: "loaded_later",
    });
    const history = windows[0]!.history as { seen_at: string; start: string }[];
    expect(history).toHaveLength(1);
    const seen = Date.parse(history[0]!.seen_at);
    expect(seen).toBeGreaterThanOrEqual(reloadedAt - 1_000);
    expect(seen).toBeLessThan(reloadedAt + 30_000);
    expect(windows[0]!.announced_at).toBe(history[0]!.seen_at);
    const pay = r.categories.find((c) => c.category === "payment_request")!;
    // Every request of the outage counts against the provider; none is hidden by the window (an
    // agent stall on a loaded machine may rightly exclude one as agent_error).
    expect(pay.excluded).toBe(agentErrors(r, "payment_request"));
    expect(pay.requests).toBeGreaterThanOrEqual(6);
    expect(pay.successful).toBe(0);
    // mw0 was in the first configuration the agent loaded: it keeps its announced_at, unverified.
    expect(r.maintenance.windows.find((w) => w.id === "mw0")).toMatchObject({
      qualified: true,
      announced_at: ANNOUNCED,
      declared_notice: "before_log",
    });
    expect(r.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^maintenance window mw0 qualifies on its declared announced_at .* unverified/),
      ]),
    );
  }

  it("/metrics counts the outage after the reload as failed, none of it excluded", () => {
    expect(outcome(metricsAfter, "excluded")).toBe(agentErrorsOnMetrics(metricsAfter, "pay"));
  });

  it("the JSON report judges the added window from the reload: late_notice, the outage counted", () => {
    checkReport(JSON.parse(report("json")) as Report);
  });

  it("Markdown and HTML say the window's notice counts from when the log first holds it", () => {
    const line =
      /mw2 is declared announced .*, but this agent(?:'|&#39;)s log shows it announced no earlier than .*: its notice counts from then\./;
    expect(report("markdown")).toMatch(line);
    expect(report("html")).toMatch(line);
  });

  it("a window only in the slo.yaml given to report counts from generated_at, with a warning", async () => {
    const reportOnly = join(outage.dir, "report-only.yaml");
    await writeFile(
      reportOnly,
      config(outage.targetUrl, [
        { id: "mw0", ...SOON },
        { id: "mw2", ...OUTAGE },
        { id: "mw3", ...OUTAGE },
      ]),
    );
    const r = JSON.parse(report("json", reportOnly)) as Report & { generated_at: string };
    expect(r.maintenance.windows.find((w) => w.id === "mw3")).toMatchObject({
      qualified: false,
      reason: "late_notice",
      announced_at: r.generated_at,
      declared_notice: "not_loaded",
    });
    expect(r.categories.find((c) => c.category === "payment_request")!.excluded).toBe(
      agentErrors(r, "payment_request"),
    );
    expect(r.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^maintenance window mw3 is in no configuration this agent loaded/),
      ]),
    );
  });

  it("recompute.py gives the report's figures from the bundle's configuration records", async () => {
    const { stated, exportStderr } = await recomputeBundle(outage, MONTH);
    expect(exportStderr).toBe("");
    checkReport(stated as Report);
  });
});
