import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slo } from "../reports/cli-run.js";
import { eventually } from "../support/eventually.js";
import {
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

let feedReads = 0;
let status = "scheduled";

function statuspage(): Server {
  const body = () =>
    JSON.stringify({
      page: { id: "p" },
      scheduled_maintenances: [
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
      ],
    });
  return createServer((_req, res) => {
    feedReads++;
    res.writeHead(200, { "content-type": "application/json" }).end(body());
  });
}

function config(targetUrl: string, feedUrl: string, payments: string): string {
  return maintenanceConfig(
    "feed-remap-1",
    targetUrl,
    { minNoticeDays: 0, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
    [],
  )
    .replace(
      "\n  windows:",
      `\n  feed: {url: "${feedUrl}", every: 1m, components: {"Payments API": [${payments}], "Web": [webhooks]}}\n  windows:`,
    )
    .replace(
      "\ncategories:\n",
      "\ncategories:\n  webhooks: {title: Webhooks, service_class: transaction_critical, latency_p99_ms: 1500}\n",
    );
}

const excluded = (text: string) =>
  metric(text, "slo_probe_requests_total", 'probe="pay"', 'outcome="excluded"') ?? 0;

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
  let feed: Server;
  let excludedBefore = 0;

  beforeAll(async () => {
    feed = statuspage();
    await new Promise<void>((resolve) => feed.listen(0, "127.0.0.1", resolve));
    const feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}`;
    outage = await openOutage("slo-feed-remap-");
    await writeFile(outage.file, config(outage.targetUrl, feedUrl, "payment_request"));
    const agent = startAgent(outage);
    try {
      const url = await agent.listening(30_000);
      excludedBefore = excluded(
        await metricsWhen(agent, url, (t) => excluded(t) >= 3, "excluded by the feed window", 60_000),
      );
      const readsBefore = feedReads;
      await writeFile(outage.file, config(outage.targetUrl, feedUrl, "webhooks"));
      await reload(agent);
      // The feed is read again under the new mapping.
      await eventually(
        () => (feedReads > readsBefore ? true : undefined),
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
    const readsBefore = feedReads;
    const again = startAgent(outage);
    try {
      const url = await again.listening(30_000);
      await eventually(
        () => (feedReads > readsBefore ? true : undefined),
        30_000,
        "feed read after the restart",
      );
      await metricsWhen(again, url, (t) => excluded(t) >= 2, "excluded after the restart", 60_000);
    } finally {
      await again.stop();
      await new Promise((r) => feed.close(r));
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
