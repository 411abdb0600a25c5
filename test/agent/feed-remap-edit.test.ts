import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slo } from "../reports/cli-run.js";
import { eventually } from "../support/eventually.js";
import {
  payExcluded as excluded,
  metricsWhen,
  type Outage,
  openOutage,
  recomputeBundle,
  reload,
  remapConfig,
  report as reportOf,
  type Statuspage,
  startAgent,
  startStatuspage,
} from "./maintenance-agent.js";

/**
 * A remap never takes a category away from a feed window already announced for it, also when the
 * provider then edits the entry's components (contract section 14, "Moved maintenance"; issue 24,
 * attack round 6, item 1). sm-1 ("Payments API" -> payment_request) qualifies over the provider's
 * 503s; a reload maps "Payments API" to webhooks; the provider then adds an unmapped component
 * ("Status page") and a restart reads it. Before, the whole window became webhooks, late_notice,
 * payment_request lost every exclusion (its elapsed part too) and the history blamed the
 * provider; verify --bundle and recompute.py agreed. Now "Payments API" keeps payment_request with
 * its first notice; webhooks, which the remap adds, counts from the reading that saw the edit.
 */

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
const MONTH = iso(T0).slice(0, 7);

let components = [{ id: "c1", name: "Payments API" }];

/** The provider's one announcement, as it is at each reading. */
const entries = () => [
  {
    id: "sm-1",
    name: "Planned",
    status: components.length > 1 ? "in_progress" : "scheduled",
    created_at: iso(T0 - 30 * DAY),
    updated_at: iso(T0 - 30 * DAY),
    scheduled_for: iso(T0 + 6_000),
    scheduled_until: iso(T0 + 3_600_000),
    impact: "maintenance",
    components: components,
    incident_updates: [],
  },
];

const config = (targetUrl: string, feedUrl: string, payments: string) =>
  remapConfig("feed-remap-edit-1", targetUrl, feedUrl, payments);

type Window = { id: string; categories: string[]; qualified: boolean; reason: string | null };
type Report = {
  maintenance: { windows: Window[] };
  categories: { category: string; excluded: number }[];
};

describe("a remap then the provider's edit of the components keeps the announced category (issue 24, attack round 6)", {
  timeout: 300_000,
}, () => {
  let outage: Outage;
  let feed: Statuspage;
  let excludedBefore = 0;

  beforeAll(async () => {
    feed = await startStatuspage(entries);
    const feedUrl = feed.url;
    outage = await openOutage("slo-feed-remap-edit-");
    await writeFile(outage.file, config(outage.targetUrl, feedUrl, "payment_request"));
    const agent = startAgent(outage);
    try {
      const url = await agent.listening(30_000);
      excludedBefore = excluded(
        await metricsWhen(agent, url, (t) => excluded(t) >= 3, "excluded by the feed window", 60_000),
      );
      const readsBefore = feed.reads();
      await writeFile(outage.file, config(outage.targetUrl, feedUrl, "webhooks"));
      await reload(agent);
      await eventually(
        () => (feed.reads() > readsBefore ? true : undefined),
        30_000,
        "feed read after the reload",
      );
    } finally {
      await agent.stop();
    }
    // The provider adds a component in no category; a restart reads it under the new mapping.
    components = [...components, { id: "c9", name: "Status page" }];
    const readsBefore = feed.reads();
    const again = startAgent(outage);
    try {
      const url = await again.listening(30_000);
      await eventually(
        () => (feed.reads() > readsBefore ? true : undefined),
        30_000,
        "feed read after the restart",
      );
      await metricsWhen(again, url, (t) => excluded(t) >= 2, "excluded after the provider's edit", 60_000);
    } finally {
      await again.stop();
      await feed.close();
    }
  }, 240_000);

  afterAll(async () => {
    await outage?.close();
  });

  function checkReport(r: Report) {
    const parts = r.maintenance.windows.filter((w) => w.id === "sm-1");
    const pay = parts.filter((w) => w.categories.includes("payment_request"));
    expect(pay.length, JSON.stringify(parts)).toBeGreaterThan(0);
    for (const w of pay) expect(w).toMatchObject({ qualified: true, reason: null });
    const figures = r.categories.find((c) => c.category === "payment_request")!;
    // The 503s before the remap and after the provider's edit alike.
    expect(figures.excluded).toBeGreaterThanOrEqual(excludedBefore + 2);
  }

  it("payment_request keeps the window and its exclusions, before and after the edit", () => {
    checkReport(JSON.parse(reportOf(outage, MONTH, "json")) as Report);
  });

  it("the bundle verifies, and recompute.py agrees with the report", async () => {
    const { stated } = await recomputeBundle(outage, MONTH);
    checkReport(stated as Report);
    const verified = slo(["verify", "--bundle", "bundle"], outage.dir);
    expect(verified.code, verified.stderr).toBe(0);
  });
});
