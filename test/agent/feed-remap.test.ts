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
 * A feed window keeps the categories it was observed with (contract section 14; issue 24, attack
 * round 5, item 2). The Statuspage announces sm-1 for the component "Payments API", which
 * maintenance.feed.components maps to payment_request; the window qualifies and the provider's
 * 503s in it are excluded. A reload then maps "Payments API" to another category. Before, the
 * next reading rewrote sm-1's categories: the window left payment_request (also before the
 * reload), its history blamed the provider and nothing warned. Now the window keeps
 * payment_request, also when the provider then updates the entry (its status; the same
 * components) and a restart reads it, and every report format names the mapping change.
 */

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
const MONTH = iso(T0).slice(0, 7);

let status = "scheduled";

/** The provider's one announcement, as it is at each reading. */
const entries = () => [
  {
    id: "sm-1",
    name: "Planned",
    status,
    created_at: iso(T0 - 30 * DAY),
    updated_at: iso(T0 - 30 * DAY),
    scheduled_for: iso(T0 + 6_000),
    scheduled_until: iso(T0 + 3_600_000),
    impact: "maintenance",
    components: [{ id: "c1", name: "Payments API" }],
    incident_updates: [],
  },
];

const config = (targetUrl: string, feedUrl: string, payments: string) =>
  remapConfig("feed-remap-1", targetUrl, feedUrl, payments);

type Report = {
  maintenance: { windows: { id: string; categories: string[]; qualified: boolean; reason: string | null }[] };
  categories: { category: string; excluded: number }[];
  warnings?: string[];
};

const REMAPPED = /maintenance\.feed\.components changed at .*feed windows read before keep the categories/;

describe("a remap of the feed's components re-judges no window already read (issue 24, attack round 5)", {
  timeout: 240_000,
}, () => {
  let outage: Outage;
  let feed: Statuspage;
  let excludedBefore = 0;

  beforeAll(async () => {
    feed = await startStatuspage(entries);
    const feedUrl = feed.url;
    outage = await openOutage("slo-feed-remap-");
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
      // The feed is read again under the new mapping.
      await eventually(
        () => (feed.reads() > readsBefore ? true : undefined),
        30_000,
        "feed read after the reload",
      );
      await metricsWhen(
        agent,
        url,
        (t) => excluded(t) >= excludedBefore + 2,
        "excluded after the reload",
        60_000,
      );
    } finally {
      await agent.stop();
    }
    // The provider updates the entry (same components); a restart reads it under the new mapping.
    status = "in_progress";
    const readsBefore = feed.reads();
    const again = startAgent(outage);
    try {
      const url = await again.listening(30_000);
      await eventually(
        () => (feed.reads() > readsBefore ? true : undefined),
        30_000,
        "feed read after the restart",
      );
      await metricsWhen(again, url, (t) => excluded(t) >= 2, "excluded after the restart", 60_000);
    } finally {
      await again.stop();
      await feed.close();
    }
  }, 180_000);

  afterAll(async () => {
    await outage?.close();
  });

  function checkReport(r: Report) {
    const parts = r.maintenance.windows.filter((w) => w.id === "sm-1");
    expect(parts.length).toBeGreaterThan(0);
    for (const w of parts) {
      expect(w).toMatchObject({ qualified: true, reason: null });
      expect(w.categories).toEqual(["payment_request"]);
    }
    const pay = r.categories.find((c) => c.category === "payment_request")!;
    expect(pay.excluded).toBeGreaterThanOrEqual(excludedBefore);
  }

  it("the window keeps payment_request, before and after the remap", () => {
    checkReport(JSON.parse(reportOf(outage, MONTH, "json")) as Report);
  });

  it("every format names the mapping change", () => {
    for (const format of ["json", "markdown", "html", "csv"]) {
      const text = reportOf(outage, MONTH, format)
        .replaceAll("\\", "")
        .replaceAll(/&#39;|&#x27;|&quot;/g, "'");
      expect(text, format).toMatch(REMAPPED);
    }
  });

  it("the bundle verifies, and recompute.py agrees with the report", async () => {
    const { stated } = await recomputeBundle(outage, MONTH);
    checkReport(stated as Report);
    const verified = slo(["verify", "--bundle", "bundle"], outage.dir);
    expect(verified.code, verified.stderr).toBe(0);
  });
});
