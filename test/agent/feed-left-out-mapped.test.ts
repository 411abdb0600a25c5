import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import {
  maintenanceConfig,
  metric,
  metricsWhen,
  type Outage,
  openOutage,
  reload,
  report as reportOf,
  startAgent,
} from "./maintenance-agent.js";

/**
 * Feed entries left out, then mapped; and hostile names of those left out (issue 24, attack round
 * 6, item 5 and a weakness). The Statuspage announces sm-1 a week and a minute ahead (the policy's
 * notice is 7 days) for "Payments API v2", which maintenance.feed.components does not map: the
 * agent leaves it out and the log says so. After that week and minute's notice has passed, the
 * merchant maps it. Before, the window counted as announced when it was mapped (late_notice),
 * and the report also said it was "no maintenance window of this report". Now it counts from when
 * the agent first saw it (the left-out record), and its warning says it is judged as a window.
 * The page also holds 25 entries of an unmapped component named with ESC, NUL, U+202E and one of
 * 5,000 characters: before, they reached Markdown, HTML and CSV raw, each named, at full length.
 */

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
const MONTH = iso(T0).slice(0, 7);
const START = T0 + 7 * DAY + 60_000;

let feedReads = 0;

function junk(i: number) {
  const name = i === 0 ? `long ${"x".repeat(5_000)}` : `junk${i} \u001b[31mred\u0000nul\u202Eevil`;
  return {
    id: `junk-${i}`,
    name,
    status: "scheduled",
    created_at: iso(T0 - 30 * DAY),
    updated_at: iso(T0 - 30 * DAY),
    scheduled_for: iso(START),
    scheduled_until: iso(START + 3_600_000),
    impact: "maintenance",
    components: [{ id: "j", name: "Junk" }],
    incident_updates: [],
  };
}

function statuspage(): Server {
  const body = JSON.stringify({
    page: { id: "p" },
    scheduled_maintenances: [
      {
        id: "sm-1",
        name: "Planned",
        status: "scheduled",
        created_at: iso(T0 - 10 * DAY),
        updated_at: iso(T0 - 10 * DAY),
        scheduled_for: iso(START),
        scheduled_until: iso(START + 3_600_000),
        impact: "maintenance",
        components: [{ id: "c2", name: "Payments API v2" }],
        incident_updates: [],
      },
      ...Array.from({ length: 25 }, (_, i) => junk(i)),
    ],
  });
  return createServer((_req, res) => {
    feedReads++;
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
}

function config(targetUrl: string, feedUrl: string, mapped: boolean): string {
  const components = mapped
    ? `{"Payments API": [payment_request], "Payments API v2": [payment_request]}`
    : `{"Payments API": [payment_request]}`;
  return maintenanceConfig(
    "feed-left-out-mapped-1",
    targetUrl,
    { minNoticeDays: 7, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
    [],
  ).replace(
    "\n  windows:",
    `\n  feed: {url: "${feedUrl}", every: 1m, components: ${components}}\n  windows:`,
  );
}

const leftOut = (text: string) => metric(text, "slo_maintenance_feed_entries_left_out");

type Report = {
  maintenance: {
    windows: { id: string; qualified: boolean; reason: string | null; first_seen_at?: string }[];
  };
  warnings?: string[];
};

describe("a feed entry left out, then mapped, keeps the provider's notice; left-out names are bounded (issue 24, attack round 6)", {
  timeout: 300_000,
}, () => {
  let outage: Outage;
  let feed: Server;
  let firstReading = 0;

  beforeAll(async () => {
    feed = statuspage();
    await new Promise<void>((resolve) => feed.listen(0, "127.0.0.1", resolve));
    const feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}`;
    outage = await openOutage("slo-feed-left-out-mapped-");
    await writeFile(outage.file, config(outage.targetUrl, feedUrl, false));
    const agent = startAgent(outage);
    try {
      const url = await agent.listening(30_000);
      await metricsWhen(agent, url, (t) => leftOut(t) === 26, "the entries left out", 60_000);
      firstReading = Date.now();
      // The week and a minute's notice is over before the merchant maps the entry.
      await new Promise((r) => setTimeout(r, Math.max(0, T0 + 62_000 - Date.now())));
      const readsBefore = feedReads;
      await writeFile(outage.file, config(outage.targetUrl, feedUrl, true));
      await reload(agent);
      await eventually(
        () => (feedReads > readsBefore ? true : undefined),
        30_000,
        "feed read after the reload",
      );
      await metricsWhen(agent, url, (t) => leftOut(t) === 25, "sm-1 mapped", 60_000);
    } finally {
      await agent.stop();
      await new Promise((r) => feed.close(r));
    }
  }, 240_000);

  afterAll(async () => {
    await outage?.close();
  });

  it("the window counts from when the agent first saw it, left out: it qualifies", () => {
    const r = JSON.parse(reportOf(outage, MONTH, "json")) as Report;
    const w = r.maintenance.windows.find((x) => x.id === "sm-1")!;
    expect(w).toMatchObject({ qualified: true, reason: null });
    expect(Date.parse(w.first_seen_at!)).toBeLessThanOrEqual(firstReading);
    const warning = (r.warnings ?? []).find((x) => x.includes("sm-1 (Planned)"))!;
    expect(warning).toBeDefined();
    expect(warning).not.toMatch(/no maintenance window of this report/);
    expect(warning).toMatch(/judged as the maintenance window/);
  });

  it("every format shows left-out names printable, cut, and at most 20 of them", () => {
    for (const format of ["json", "markdown", "html", "csv"]) {
      const text = reportOf(outage, MONTH, format);
      for (const c of [0x00, 0x1b, 0x202e]) expect(text.includes(String.fromCharCode(c)), format).toBe(false);
      // JSON escapes a control character rather than dropping it: it must not be there at all.
      expect(text, format).not.toMatch(/\\u001b|\\u0000/i);
      expect(text, format).not.toContain("x".repeat(300));
      expect(text, format).toMatch(/6 more entries the agent left out/);
      expect(text.length, format).toBeLessThan(200_000);
    }
  });
});
