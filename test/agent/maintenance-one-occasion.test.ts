import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slo } from "../reports/cli-run.js";
import {
  type DeclaredWindow,
  maintenanceConfig,
  metricsWhen,
  type Outage,
  openOutage,
  recomputeBundle,
  report as reportOf,
  type Statuspage,
  scheduledMaintenance,
  startAgent,
  startStatuspage,
} from "./maintenance-agent.js";

/**
 * One maintenance is one occasion (contract section 1, rule 4; issue 24, attack round 5, item 4):
 * the provider's Statuspage announces sm-1 for an hour, and the merchant declares a window of its
 * own id over its first 20 s to vouch for an earlier notice (docs/operations.md). Before, the
 * year's budget counted that maintenance twice: with one occasion a year left, the feed's window
 * was occasion_cap and the provider's 503s after the declared window counted (with more occasions,
 * year_occasions_used read 2 and the hours were added). Now windows overlapping in time and
 * category are one occasion, their hours counted on the union of their time; report, recompute.py
 * and verify --bundle agree.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
const WINDOW = { start: T0 + 6_000, end: T0 + HOUR };
const MONTH = iso(T0).slice(0, 7);
const VOUCHED: DeclaredWindow = {
  id: "mw-email",
  start: iso(WINDOW.start),
  end: iso(WINDOW.start + 20_000),
  announcedAt: iso(T0 - 30 * DAY),
};

const entries = () => [
  scheduledMaintenance({ id: "sm-1", createdAt: T0 - 30 * DAY, start: WINDOW.start, end: WINDOW.end }),
];

type Report = {
  categories: { category: string; requests: number; successful: number; excluded: number }[];
  maintenance: {
    year_occasions_used: number;
    year_hours_used: number;
    windows: { id: string; qualified: boolean; reason: string | null }[];
  };
};

describe("a declared window vouching for the feed's is the same occasion (issue 24, attack round 5)", {
  timeout: 240_000,
}, () => {
  let outage: Outage;
  let feed: Statuspage;

  beforeAll(async () => {
    feed = await startStatuspage(entries);
    const feedUrl = feed.url;
    outage = await openOutage("slo-one-occasion-");
    await writeFile(
      outage.file,
      maintenanceConfig(
        "one-occasion-1",
        outage.targetUrl,
        { minNoticeDays: 0, maxOccasionsPerYear: 1, maxHoursPerYear: 15 },
        [VOUCHED],
      ).replace("\n  windows:", `\n  feed: {url: "${feedUrl}", every: 1m}\n  windows:`),
    );
    const agent = startAgent(outage);
    try {
      const url = await agent.listening(30_000);
      // Past the declared window's end, into the part only the feed's window covers.
      await metricsWhen(
        agent,
        url,
        () => Date.now() > WINDOW.start + 32_000,
        "the declared window over",
        90_000,
      );
    } finally {
      await agent.stop();
      await feed.close();
    }
  }, 180_000);

  afterAll(async () => {
    await outage?.close();
  });

  function checkBudget(r: Report) {
    const ids = r.maintenance.windows.map((w) => w.id).sort();
    expect(ids).toEqual(["mw-email", "sm-1"]);
    for (const w of r.maintenance.windows) expect(w).toMatchObject({ qualified: true, reason: null });
    expect(r.maintenance.year_occasions_used).toBe(1);
    // The feed's hour (less the 6 s before it began), counted once: the declared 20 s lie within it.
    expect(r.maintenance.year_hours_used).toBeCloseTo((WINDOW.end - WINDOW.start) / HOUR, 3);
    // Every 503 from the window's start on is excluded, also after the declared window ended.
    const pay = r.categories.find((c) => c.category === "payment_request")!;
    expect(pay.excluded).toBeGreaterThan(20);
  }

  it("the report counts one occasion and its hours once", () => {
    checkBudget(JSON.parse(reportOf(outage, MONTH, "json")) as Report);
  });

  it("the bundle verifies, and recompute.py agrees with the report", async () => {
    const { stated } = await recomputeBundle(outage, MONTH);
    checkBudget(stated as Report);
    const verified = slo(["verify", "--bundle", "bundle"], outage.dir);
    expect(verified.code, verified.stderr).toBe(0);
  });
});
