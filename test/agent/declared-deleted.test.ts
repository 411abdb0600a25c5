import { spawnSync } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slo } from "../reports/cli-run.js";
import {
  payExcluded as excluded,
  payFailed as failed,
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
 * A declared maintenance window deleted by a reload after part of it elapsed (contract section
 * 14, "Moved maintenance"; issue 24, attack round 8). mw1 is announced 30 days back and qualifies
 * over the provider's 503s; a reload deletes it. Before, the report forgot the window: the 503s
 * /metrics had counted as excluded while it was in force became the provider's downtime after
 * the fact, with no warning, and recompute.py agreed. Now the time it was in force stays
 * maintenance; the 503s after the reload count.
 */

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const MONTH = iso(Date.now()).slice(0, 7);
const POLICY = { minNoticeDays: 0, maxOccasionsPerYear: 5, maxHoursPerYear: 15 };

type Report = {
  maintenance: { windows: { id: string; qualified: boolean; history: { categories: string[] }[] }[] };
  categories: { category: string; requests: number; successful: number; excluded: number }[];
};

describe("a declared window deleted by a reload after it began (issue 24, attack round 8)", {
  timeout: 300_000,
}, () => {
  let outage: Outage;
  let excludedBefore = 0;
  let failedAfter = 0;

  beforeAll(async () => {
    const t0 = Date.now();
    outage = await openOutage("slo-declared-deleted-");
    const window = {
      id: "mw1",
      start: iso(t0 + 6_000),
      end: iso(t0 + 3_600_000),
      announcedAt: iso(t0 - 30 * DAY),
    };
    const first = maintenanceConfig("declared-deleted-1", outage.targetUrl, POLICY, [window]);
    await writeFile(outage.file, first);
    // The slo.yaml the agent first loaded, kept aside: a report made with it (attack round 9).
    await writeFile(join(outage.dir, "old.yaml"), first);
    // The same window, claimed announced only after it began (attack round 10): no record holds that.
    const claimed = { ...window, announcedAt: iso(t0 + 10_000) };
    await writeFile(
      join(outage.dir, "late.yaml"),
      maintenanceConfig("declared-deleted-1", outage.targetUrl, POLICY, [claimed]),
    );
    const agent = startAgent(outage);
    try {
      const url = await agent.listening(30_000);
      excludedBefore = excluded(
        await metricsWhen(agent, url, (t) => excluded(t) >= 3, "excluded by the declared window", 60_000),
      );
      await writeFile(outage.file, maintenanceConfig("declared-deleted-1", outage.targetUrl, POLICY, []));
      await reload(agent);
      const text = await metricsWhen(
        agent,
        url,
        (t) => failed(t) >= 3,
        "503s counted after the reload",
        60_000,
      );
      excludedBefore = Math.max(excludedBefore, excluded(text));
      failedAfter = failed(text);
    } finally {
      await agent.stop();
    }
  }, 240_000);

  afterAll(async () => {
    await outage?.close();
  });

  function checkReport(r: Report) {
    const figures = r.categories.find((c) => c.category === "payment_request")!;
    const parts = r.maintenance.windows.filter((w) => w.id === "mw1");
    expect(parts.length, JSON.stringify(r.maintenance.windows)).toBe(1);
    expect(parts[0]).toMatchObject({ qualified: true });
    expect(parts[0]!.history.map((v) => v.categories.length > 0)).toEqual([true, false]);
    // What /metrics excluded while the window was in force stays excluded; after the reload, counted.
    expect(figures.excluded).toBeGreaterThanOrEqual(excludedBefore);
    expect(figures.requests - figures.successful).toBeGreaterThanOrEqual(failedAfter);
  }

  it("the report keeps the elapsed part excluded and counts the rest", () => {
    checkReport(JSON.parse(reportOf(outage, MONTH, "json")) as Report);
  });

  it("a report and a bundle made with the older slo.yaml give the same figures: the deletion the log holds stays (attack round 9)", async () => {
    const older = JSON.parse(reportOf(outage, MONTH, "json", join(outage.dir, "old.yaml"))) as Report;
    const newest = JSON.parse(reportOf(outage, MONTH, "json")) as Report;
    const pay = (r: Report) => r.categories.find((c) => c.category === "payment_request")!;
    expect(pay(older).excluded).toBe(pay(newest).excluded);
    expect(pay(older).requests).toBe(pay(newest).requests);
    // A later announced_at given now changes no notice the log holds (attack round 10).
    const late = JSON.parse(reportOf(outage, MONTH, "json", join(outage.dir, "late.yaml"))) as Report;
    expect(pay(late).excluded).toBe(pay(newest).excluded);
    const { stated } = await recomputeBundle(outage, MONTH, join(outage.dir, "old.yaml"));
    expect(pay(stated as Report).excluded).toBe(pay(newest).excluded);
    await rm(join(outage.dir, "bundle"), { recursive: true });
    const claimed = await recomputeBundle(outage, MONTH, join(outage.dir, "late.yaml"));
    expect(pay(claimed.stated as Report).excluded).toBe(pay(newest).excluded);
    await rm(join(outage.dir, "bundle"), { recursive: true });
  });

  it("the bundle verifies, and recompute.py agrees with the report", async () => {
    const { stated } = await recomputeBundle(outage, MONTH);
    checkReport(stated as Report);
    const verified = slo(["verify", "--bundle", "bundle"], outage.dir);
    expect(verified.code, verified.stderr).toBe(0);
  });

  it("recompute.py names a maintenance.json whose declared window lost its deletion (attack round 9)", async () => {
    const file = join(outage.dir, "bundle", "maintenance.json");
    const document = JSON.parse(await readFile(file, "utf8")) as {
      windows: { id: string; history: { categories: string[] }[] }[];
    };
    for (const w of document.windows)
      if (w.id === "mw1") w.history = w.history.filter((v) => v.categories.length > 0);
    await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
    const recompute = spawnSync("python3", ["recompute.py"], {
      cwd: join(outage.dir, "bundle"),
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(recompute.status).toBe(1);
    expect(recompute.stdout + recompute.stderr).toMatch(
      /maintenance\.json windows mw1: its history is not the versions the configuration records of inputs\.ndjson give/,
    );
  });
});
