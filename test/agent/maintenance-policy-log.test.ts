import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slo } from "../reports/cli-run.js";
import {
  agentErrors,
  agentErrorsOnMetrics,
  maintenanceConfig,
  metricsWhen,
  type Outage,
  openOutage,
  recomputeBundle,
  reload,
  report as reportOf,
  startAgent,
} from "./maintenance-agent.js";

/**
 * Contract section 14, the maintenance policy (ATTACK-24b, findings 2 and 3): the real agent
 * probes a loopback target in an outage under min_notice_days 7; a reload (SIGHUP) loosens it to
 * 0 and adds window mwp starting 3 s later. The month is judged by the policy the log held when it
 * began, so mwp is late_notice and the outage counts, with the change named in every format and in
 * recompute.py. A policy only in the slo.yaml given to `report` is not applied and is named.
 */

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
// The month the test runs in; a run across a month boundary would judge by the new month's policy.
const MONTH = iso(T0).slice(0, 7);

function config(targetUrl: string, minNoticeDays: number, windows: { id: string; start: number }[]): string {
  return maintenanceConfig(
    "policy-1",
    targetUrl,
    { minNoticeDays, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
    windows.map((w) => ({
      id: w.id,
      start: iso(w.start),
      end: iso(w.start + HOUR),
      announcedAt: iso(w.start - 3_000),
    })),
  );
}

/** The agent's probe requests of probe pay with the given outcome ("" for all). */
const requests = (text: string, outcome = "") =>
  text
    .split("\n")
    .filter((l) => l.startsWith("slo_probe_requests_total{") && l.includes('probe="pay"'))
    .filter((l) => l.includes(`outcome="${outcome}`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);

type Report = {
  maintenance: {
    windows: Record<string, unknown>[];
    policy: { min_notice_days: number };
    policy_changes?: { loaded_at: string; min_notice_days: number }[];
  };
  categories: { category: string; requests: number; excluded: number }[];
  warnings?: string[];
};

describe("a maintenance policy loosened by a reload mid-outage (contract section 14)", {
  timeout: 240_000,
}, () => {
  let outage: Outage;
  let reloadedAt = 0;
  let checkConfigStderr = "";
  let metricsAfter = "";
  let agentLog = "";

  beforeAll(async () => {
    outage = await openOutage("slo-policy-log-");
    await writeFile(outage.file, config(outage.targetUrl, 7, []));
    const agent = startAgent(outage);
    try {
      const url = await agent.listening(30_000);
      await metricsWhen(agent, url, (text) => requests(text) >= 3, "probed");
      reloadedAt = Date.now();
      await writeFile(outage.file, config(outage.targetUrl, 0, [{ id: "mwp", start: reloadedAt + 3_000 }]));
      checkConfigStderr = slo(["check-config", "--config", outage.file], outage.dir).stderr;
      await reload(agent);
      // Past mwp's start: requests the loosened policy would hide.
      metricsAfter = await metricsWhen(
        agent,
        url,
        (text) => Date.now() > reloadedAt + 6_000 && requests(text) >= 10,
        "probed into the window",
        60_000,
      );
      agentLog = agent.stderr();
    } finally {
      await agent.stop();
    }
  }, 150_000);

  afterAll(async () => {
    await outage?.close();
  });

  const report = (format: string, sloYaml = outage.file) => reportOf(outage, MONTH, format, sloYaml);

  function checkJudgedByEarlierPolicy(r: Report) {
    expect(r.maintenance.windows.find((w) => w.id === "mwp")).toMatchObject({
      qualified: false,
      reason: "late_notice",
    });
    expect(r.categories.find((c) => c.category === "payment_request")!.excluded).toBe(
      agentErrors(r, "payment_request"),
    );
    expect(r.maintenance.policy.min_notice_days).toBe(7);
    expect(r.maintenance.policy_changes).toEqual([
      {
        loaded_at: expect.any(String),
        min_notice_days: 0,
        max_occasions_per_year: 5,
        max_hours_per_year: 15,
      },
    ]);
    const loadedAt = Date.parse(r.maintenance.policy_changes![0]!.loaded_at);
    expect(loadedAt).toBeGreaterThanOrEqual(reloadedAt - 1_000);
  }

  const CHANGED =
    /the maintenance policy changed on .* to at least 0 days(?:'|&#39;) notice, .*: the month is judged by the policy in force when it began \(at least 7 days(?:'|&#39;) notice/;

  it("check-config warns that the loosened policy is looser than the SLA's terms", () => {
    expect(checkConfigStderr).toMatch(
      /maintenance\.policy\.min_notice_days: warning: looser than the SLA's published terms \(7 days(?:'|&#39;) notice\)/,
    );
  });

  it("the reload logs that the policy change judges from the next month", () => {
    expect(agentLog).toContain('"msg":"maintenance policy changed: it judges from the next month');
  });

  it("/metrics counts the outage inside the window as failed, none of it excluded", () => {
    const flagged = agentErrorsOnMetrics(metricsAfter, "pay");
    expect(requests(metricsAfter, "excluded")).toBe(flagged);
    // Every request of the outage failed but those the stall guard flagged under a loaded machine;
    // at least 10 were made, some of them inside mwp.
    expect(requests(metricsAfter)).toBeGreaterThanOrEqual(10);
    expect(requests(metricsAfter, "failed")).toBe(requests(metricsAfter) - flagged);
  });

  it("a mid-month loosening does not let the window qualify, and the change is shown in every format", () => {
    const r = JSON.parse(report("json")) as Report;
    checkJudgedByEarlierPolicy(r);
    expect(r.warnings).toEqual(expect.arrayContaining([expect.stringMatching(CHANGED)]));
    for (const format of ["markdown", "html", "csv"]) expect(report(format)).toMatch(CHANGED);
  });

  it("a policy only in the slo.yaml given to report is not applied, and is named", async () => {
    const reportOnly = join(outage.dir, "report-only.yaml");
    await writeFile(reportOnly, config(outage.targetUrl, 1, [{ id: "mwp", start: reloadedAt + 3_000 }]));
    const r = JSON.parse(report("json", reportOnly)) as Report;
    checkJudgedByEarlierPolicy(r);
    const named =
      /the maintenance policy given now \(at least 1 days(?:'|&#39;) notice, .*\) is none the agent(?:'|&#39;)s log holds for the month: not applied/;
    expect(r.warnings).toEqual(expect.arrayContaining([expect.stringMatching(named)]));
    for (const format of ["markdown", "html", "csv"]) expect(report(format, reportOnly)).toMatch(named);
  });

  it("recompute.py judges the month by the bundle's logged policy, not config.json's", async () => {
    const reportOnly = join(outage.dir, "report-only.yaml");
    await writeFile(reportOnly, config(outage.targetUrl, 0, [{ id: "mwp", start: reloadedAt + 3_000 }]));
    const { stated } = await recomputeBundle(outage, MONTH, reportOnly);
    checkJudgedByEarlierPolicy(stated as Report);
  });
});
