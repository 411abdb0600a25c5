import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slo } from "../reports/cli-run.js";
import { eventually } from "../support/eventually.js";
import {
  payExcluded as excluded,
  payFailed as failed,
  metricsWhen,
  type Outage,
  openOutage,
  recomputeBundle,
  remapConfig,
  report as reportOf,
  type Statuspage,
  scheduledMaintenance,
  startAgent,
  startStatuspage,
} from "./maintenance-agent.js";

/**
 * The provider takes a mapped component out of a window that has begun, or calls it off
 * (contract section 14, "Moved maintenance"; issue 24, attack rounds 7 and 8). sm-1 ("Payments
 * API" -> payment_request, policy 0 days) qualifies over the provider's 503s; then the provider's
 * entry names "Web" (webhooks) instead, or only "Status page" (no category), or it is cancelled,
 * and a restart reads it. Before: with "Web" the whole window became webhooks, late, and
 * payment_request lost the exclusions of the time that had elapsed as announced maintenance; with
 * "Status page" the entry was left out and the stored window stayed on payment_request, excluding
 * the 503s after the provider took it out; cancelled, the time it had been in force became
 * downtime after the fact. Now the elapsed part keeps its notice and payment_request counts from
 * the reading that saw the edit, in the report, recompute.py and /metrics alike.
 */

const DAY = 86_400_000;
const MONTH = new Date().toISOString().slice(0, 7);

type Window = { id: string; categories: string[]; qualified: boolean; excluded_requests: number | null };
type Report = {
  maintenance: { windows: Window[] };
  categories: { category: string; requests: number; successful: number; excluded: number }[];
};

describe.each([
  { edit: "swaps Payments API for Web", components: [{ id: "c2", name: "Web" }], webhooks: true },
  {
    edit: "leaves only an unmapped component",
    components: [{ id: "c9", name: "Status page" }],
    webhooks: false,
  },
  // A cancellation is a change like the others (attack round 8): from when it was read.
  {
    edit: "cancels it",
    components: [{ id: "c1", name: "Payments API" }],
    status: "cancelled",
    webhooks: false,
  },
])(
  "the provider $edit after the window began (issue 24, attack rounds 7 and 8)",
  { timeout: 300_000 },
  ({ components: edited, status: editedStatus, webhooks }) => {
    let outage: Outage;
    let feed: Statuspage;
    let excludedBefore = 0;
    let failedAfter = 0;
    let excludedAfter = 0;

    beforeAll(async () => {
      const t0 = Date.now();
      let components = [{ id: "c1", name: "Payments API" }];
      let status = "in_progress";
      feed = await startStatuspage(() => [
        scheduledMaintenance({
          id: "sm-1",
          createdAt: t0 - 30 * DAY,
          start: t0 + 6_000,
          end: t0 + 3_600_000,
          components,
          status,
        }),
      ]);
      outage = await openOutage("slo-feed-components-edit-");
      await writeFile(
        outage.file,
        remapConfig("feed-components-edit-1", outage.targetUrl, feed.url, "payment_request"),
      );
      const agent = startAgent(outage);
      try {
        const url = await agent.listening(30_000);
        excludedBefore = excluded(
          await metricsWhen(agent, url, (t) => excluded(t) >= 3, "excluded by the feed window", 60_000),
        );
      } finally {
        await agent.stop();
      }
      components = edited;
      status = editedStatus ?? status;
      const readsBefore = feed.reads();
      const again = startAgent(outage);
      try {
        const url = await again.listening(30_000);
        await eventually(
          () => (feed.reads() > readsBefore ? true : undefined),
          30_000,
          "feed read after the restart",
        );
        const text = await metricsWhen(
          again,
          url,
          (t) => failed(t) >= 3,
          "503s counted after the edit",
          60_000,
        );
        excludedAfter = excluded(text);
        failedAfter = failed(text);
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
      expect(pay.length, JSON.stringify(parts)).toBe(1);
      expect(pay[0]).toMatchObject({ qualified: true });
      const figures = r.categories.find((c) => c.category === "payment_request")!;
      // The 503s while payment_request was announced stay excluded; those after the edit count.
      expect(figures.excluded, JSON.stringify(parts)).toBeGreaterThanOrEqual(3);
      expect(figures.excluded).toBeGreaterThanOrEqual(excludedBefore);
      expect(figures.requests - figures.successful).toBeGreaterThanOrEqual(failedAfter);
      expect(pay[0]!.excluded_requests).toBe(figures.excluded);
      // The provider's Web part is announced when the edit was seen; without a mapped component, none.
      expect(parts.some((w) => w.categories.includes("webhooks"))).toBe(webhooks);
    }

    it("/metrics counts the 503s after the edit as failures, none as excluded", () => {
      expect(failedAfter).toBeGreaterThanOrEqual(3);
      expect(excludedAfter).toBe(0);
    });

    it("the report keeps the elapsed part excluded and counts the rest against the provider", () => {
      checkReport(JSON.parse(reportOf(outage, MONTH, "json")) as Report);
    });

    it("the bundle verifies, and recompute.py agrees with the report", async () => {
      const { stated } = await recomputeBundle(outage, MONTH);
      checkReport(stated as Report);
      const verified = slo(["verify", "--bundle", "bundle"], outage.dir);
      expect(verified.code, verified.stderr).toBe(0);
    });
  },
);
