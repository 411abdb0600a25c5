import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slo } from "../reports/cli-run.js";
import {
  maintenanceConfig,
  metric,
  metricsWhen,
  type Outage,
  openOutage,
  report as reportOf,
  type Statuspage,
  startAgent,
  startStatuspage,
} from "./maintenance-agent.js";

/**
 * Feed entries the agent leaves out leave a mark (issue 24, attack round 5, item 3). A readable
 * Statuspage holds two entries: smA's component "Payments API v2" is in no category of
 * maintenance.feed.components, and smB has scheduled_until null. Before, only the agent's log said
 * "entry left out": the report said no maintenance windows, warned of nothing, and
 * slo_maintenance_feed_readable stayed 1. Now the evidence log records each, every report format
 * names it and why, and /metrics counts them.
 */

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
const MONTH = iso(T0).slice(0, 7);

function entry(id: string, component: string, until: string | null) {
  return {
    id,
    name: `Planned ${id}`,
    status: "scheduled",
    created_at: iso(T0 - 30 * DAY),
    updated_at: iso(T0 - 30 * DAY),
    scheduled_for: iso(T0 + 6_000),
    scheduled_until: until,
    impact: "maintenance",
    components: [{ id: "c", name: component }],
    incident_updates: [],
  };
}

const entries = () => [
  entry("smA", "Payments API v2", iso(T0 + 3_600_000)),
  entry("smB", "Payments API", null),
];

const UNMAPPED =
  /smA \(Planned smA\): component 'Payments API v2' is in no category of maintenance\.feed\.components/;
const MALFORMED = /smB \(scheduled_maintenances\[1\]\): malformed entry: scheduled_until/;

describe("feed entries left out are recorded, reported and on /metrics (issue 24, attack round 5)", {
  timeout: 240_000,
}, () => {
  let outage: Outage;
  let feed: Statuspage;
  let metricsText = "";

  beforeAll(async () => {
    feed = await startStatuspage(entries);
    const feedUrl = feed.url;
    outage = await openOutage("slo-feed-left-out-");
    await writeFile(
      outage.file,
      maintenanceConfig(
        "feed-left-out-1",
        outage.targetUrl,
        { minNoticeDays: 0, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
        [],
      ).replace(
        "\n  windows:",
        `\n  feed: {url: "${feedUrl}", every: 1m, components: {"Payments API": [payment_request]}}\n  windows:`,
      ),
    );
    const agent = startAgent(outage);
    try {
      const url = await agent.listening(30_000);
      metricsText = await metricsWhen(
        agent,
        url,
        (t) => metric(t, "slo_maintenance_feed_readable") === 1,
        "the feed read",
        60_000,
      );
    } finally {
      await agent.stop();
      await feed.close();
    }
  }, 180_000);

  afterAll(async () => {
    await outage?.close();
  });

  it("/metrics counts the entries left out", () => {
    expect(metric(metricsText, "slo_maintenance_feed_entries_left_out")).toBe(2);
  });

  it("every report format names each entry and why it was left out", () => {
    for (const format of ["json", "markdown", "html", "csv"]) {
      const text = reportOf(outage, MONTH, format)
        .replaceAll("\\", "")
        .replaceAll(/&#39;|&#x27;/g, "'")
        .replaceAll(/&quot;/g, '"');
      expect(text, format).toMatch(UNMAPPED);
      expect(text, format).toMatch(MALFORMED);
    }
  });

  it("the evidence log records them, and the bundle carries them", async () => {
    const run = slo(
      ["evidence", "export", "--config", outage.file, "--month", MONTH, "--out", "bundle"],
      outage.dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const inputs = (await readFile(join(outage.dir, "bundle", "inputs.ndjson"), "utf8"))
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { kind: string; payload: { state?: string; left_out?: string[] } });
    const readable = inputs.filter((r) => r.kind === "feed_reachability" && r.payload.state === "readable");
    expect(readable).toHaveLength(1);
    const leftOut = readable[0]!.payload.left_out ?? [];
    expect(leftOut.some((l) => UNMAPPED.test(l))).toBe(true);
    expect(leftOut.some((l) => MALFORMED.test(l))).toBe(true);
    expect(slo(["verify", "--bundle", "bundle"], outage.dir).code).toBe(0);
  });
});
