import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slo } from "../reports/cli-run.js";
import {
  agentErrors,
  type DeclaredWindow,
  maintenanceConfig,
  metric,
  metricsWhen,
  type Outage,
  openOutage,
  recomputeBundle,
  reload,
  report as reportOf,
  type Statuspage,
  scheduledMaintenance,
  startAgent,
  startStatuspage,
} from "./maintenance-agent.js";

/**
 * Declared and feed windows are separate (issue 24, attack round 4, item 2): the provider's
 * Statuspage announces a window the agent sees before it starts (it qualifies: the policy asks for
 * no notice), and the provider's 503s inside it are excluded. A reload then declares a window with
 * the feed window's id, moved to next year. Before, the declared window replaced the feed's: the
 * provider's announced maintenance vanished from the report, /metrics and recompute.py (100 %
 * became 41 %). Now both stand, the feed's counted as feed:<id>, and the run and every report
 * format say the ids collide.
 */

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.now();
const WINDOW = { start: T0 + 6_000, end: T0 + 3_600_000 };
const MONTH = iso(T0).slice(0, 7);
const MOVED: DeclaredWindow = {
  id: "sm-1",
  start: "2027-06-01T00:00:00Z",
  end: "2027-06-01T00:00:01Z",
  announcedAt: iso(T0 - 30 * DAY),
};

/** The Statuspage the feed reads: one scheduled window, sm-1, announced 30 days ago. */
const entries = () => [
  scheduledMaintenance({ id: "sm-1", createdAt: T0 - 30 * DAY, start: WINDOW.start, end: WINDOW.end }),
];

function config(targetUrl: string, feedUrl: string, windows: readonly DeclaredWindow[]): string {
  return maintenanceConfig(
    "shared-id-1",
    targetUrl,
    { minNoticeDays: 0, maxOccasionsPerYear: 6, maxHoursPerYear: 40 },
    windows,
  ).replace("\n  windows:", `\n  feed: {url: "${feedUrl}", every: 1m}\n  windows:`);
}

/** Probe attempts the agent counted as excluded (inside qualifying maintenance) and as failed. */
const excluded = (text: string) =>
  metric(text, "slo_probe_requests_total", 'probe="pay"', 'outcome="excluded"') ?? 0;

type Report = {
  maintenance: { windows: Record<string, unknown>[] };
  categories: { category: string; requests: number; successful: number; excluded: number }[];
  warnings?: string[];
};

const SHARED =
  /maintenance window sm-1 is both declared .* and in the provider's maintenance feed: they are separate windows, both judged; the feed's is counted as feed:sm-1/;

describe("a declared window with a feed window's id hides nothing (issue 24, attack round 4)", {
  timeout: 240_000,
}, () => {
  let outage: Outage;
  let feed: Statuspage;
  let excludedBefore = 0;
  let excludedAfter = 0;

  beforeAll(async () => {
    feed = await startStatuspage(entries);
    const feedUrl = feed.url;
    outage = await openOutage("slo-shared-id-");
    await writeFile(outage.file, config(outage.targetUrl, feedUrl, []));
    const agent = startAgent(outage);
    try {
      const url = await agent.listening(30_000);
      // The feed window is read before it starts and excludes the outage once it runs.
      const before = await metricsWhen(
        agent,
        url,
        (t) => excluded(t) >= 3,
        "excluded by the feed window",
        60_000,
      );
      excludedBefore = excluded(before);
      await writeFile(outage.file, config(outage.targetUrl, feedUrl, [MOVED]));
      await reload(agent);
      // The run says the ids collide (one warn line, once).
      const warned = agent
        .stderr()
        .split("\n")
        .filter((l) => SHARED.test(l));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toContain('"level":"warn"');
      // The daemon keeps excluding the outage under the feed's window after the reload.
      const after = await metricsWhen(
        agent,
        url,
        (t) => excluded(t) >= excludedBefore + 3,
        "still excluded after the reload",
      );
      excludedAfter = excluded(after);
    } finally {
      await agent.stop();
      await feed.close();
    }
  }, 180_000);

  afterAll(async () => {
    await outage?.close();
  });

  function checkReport(r: Report) {
    const fed = r.maintenance.windows.filter((w) => w.id === "feed:sm-1");
    expect(fed.length).toBeGreaterThan(0);
    for (const w of fed) expect(w).toMatchObject({ source: "feed", qualified: true });
    const counted = fed.reduce((sum, w) => sum + (w.excluded_requests as number), 0);
    expect(counted).toBeGreaterThanOrEqual(excludedAfter - agentErrors(r, "payment_request"));
    const pay = r.categories.find((c) => c.category === "payment_request")!;
    expect(pay.excluded).toBeGreaterThanOrEqual(counted);
  }

  it("the report keeps the feed's window as feed:sm-1, qualified, its requests excluded", () => {
    expect(excludedAfter).toBeGreaterThan(excludedBefore);
    checkReport(JSON.parse(reportOf(outage, MONTH, "json")) as Report);
  });

  it("every format warns that the ids collide", () => {
    for (const format of ["json", "markdown", "html", "csv"]) {
      const text = reportOf(outage, MONTH, format)
        .replaceAll("\\", "")
        .replaceAll(/&#39;|&#x27;/g, "'");
      expect(text, format).toMatch(SHARED);
    }
  });

  it("check-config warns of the shared id from the store in data_dir", () => {
    const run = slo(["check-config", "--config", outage.file], outage.dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(SHARED);
  });

  it("recompute.py counts the feed's window as the report does", async () => {
    const { stated } = await recomputeBundle(outage, MONTH);
    checkReport(stated as Report);
  });
});
