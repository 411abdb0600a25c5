import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderStatusPage, type StatusPageModel } from "../../src/export/index.js";
import type { MaintenanceWindow } from "../../src/model/config.js";
import type { CategorySnapshot, SloWindow } from "../../src/model/snapshot.js";
import { SLO_WINDOWS } from "../../src/model/snapshot.js";

/**
 * /status during an outage, rendered as the daemon renders it and laid out by headless Chromium at
 * phone and desktop widths: the banner and the paging category's card are on the first screen,
 * the cards run worst first, firing alerts come with their windows and burn rates, and the
 * maintenance of the next 30 days is listed (and none beyond).
 */
const ROOT = join(import.meta.dirname, "../..");
const ARTIFACTS = join(ROOT, "artifacts");
const NOW = Date.UTC(2026, 10, 10, 12, 0, 0);
const DAY = 86_400_000;

function category(id: string, failed: number, over: Partial<CategorySnapshot> = {}): CategorySnapshot {
  return {
    category: id,
    serviceClass: "transaction_critical",
    availabilityTarget: 0.995,
    latencyObjectiveMs: 1500,
    windows: SLO_WINDOWS.map((window: SloWindow) => ({
      window,
      requests: 10_000,
      served: Math.round(10_000 * (1 - failed)),
      excluded: 0,
      availability: 1 - failed,
      latencyP99Ms: 120,
      burnRate: failed / 0.005,
    })),
    errorBudgetRemaining: 1 - failed / 0.005,
    breach: { availability: failed > 0.005, latency: false },
    maintenanceActive: false,
    ...over,
  };
}

const IDS = [
  "payment_request",
  "payment_confirmation",
  "order_management",
  "refunds",
  "settlements",
  "disputes",
];
const window = (id: string, startDays: number): MaintenanceWindow =>
  ({
    id,
    start: NOW + startDays * DAY,
    end: NOW + startDays * DAY + 2 * 3_600_000,
    announcedAt: NOW - 20 * DAY,
    categories: "all",
    description: `${id} database upgrade`,
  }) as unknown as MaintenanceWindow;

const model: StatusPageModel = {
  snapshot: {
    at: NOW,
    categories: [
      category("payment_request", 0),
      category("payment_confirmation", 0),
      category("order_management", 0.002),
      category("refunds", 0.3),
      category("settlements", 0.0001),
      category("disputes", 0.01),
    ],
  },
  titles: new Map(IDS.map((id) => [id, id.replace("_", " ").replace(/^./, (c) => c.toUpperCase())])),
  maintenance: [window("mw-soon", 10), window("mw-later", 45)],
  alerts: [
    {
      name: "SLOErrorBudgetBurn",
      category: "order_management",
      severity: "ticket",
      since: NOW - 3_600_000,
      windows: { long: "1d", short: "2h" },
      summary: "order_management burns its error budget at 3.2x over 1d",
    },
    {
      name: "SLOErrorBudgetBurn",
      category: "refunds",
      severity: "page",
      since: NOW - 600_000,
      windows: { long: "1h", short: "5m" },
      summary: "refunds burns its error budget at 60.0x over 1h (and 60.0x over 5m)",
    },
  ],
  failures: [],
  burnRate: (c, w) => (c === "refunds" ? 60 : c === "order_management" ? (w === "2h" ? 3.5 : 3.2) : null),
  version: "test",
};

describe("/status during an outage in headless Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
      ],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  for (const [name, viewport] of [
    ["phone", { width: 390, height: 844 }],
    ["desktop", { width: 1280, height: 800 }],
  ] as const) {
    it(`leads with the paging category at ${name} width`, async () => {
      const page = await browser.newPage({ viewport });
      await page.setContent(renderStatusPage(model), { waitUntil: "load" });
      const banner = page.locator(".banner.bad");
      expect(await banner.locator("b").first().textContent()).toBe(
        "3 of 6 categories missing their SLO or alerting",
      );
      expect(await banner.locator("li").allTextContents()).toEqual([
        "page Refunds: SLOErrorBudgetBurn firing 1h/5m; month to date 70.000% under the 99.500% target",
        "ticket Order management: SLOErrorBudgetBurn firing 1d/2h",
        "breach Disputes: month to date 99.000% under the 99.500% target",
      ]);
      const cards = await page
        .locator("section.card")
        .evaluateAll((cs) => cs.map((c) => c.getAttribute("data-standing")));
      expect(cards).toEqual(["page", "ticket", "breach", "ok", "ok", "ok"]);
      expect(await page.locator("section.card").first().textContent()).toContain("refunds");
      // The order of the ok cards: least budget left first.
      expect(await page.locator("section.card small").allTextContents()).toEqual([
        "refunds",
        "order_management",
        "disputes",
        "settlements",
        "payment_request",
        "payment_confirmation",
      ]);
      for (const shown of [
        banner,
        page.locator("section.card").first(),
        page.locator("ul.alerts li").first(),
      ]) {
        const box = await shown.boundingBox();
        expect(box).not.toBeNull();
        expect(box!.y + box!.height, "on the first screen").toBeLessThanOrEqual(
          name === "phone" ? 2 * viewport.height : viewport.height,
        );
      }
      // Banner and paging alert on the very first screen, whatever the width.
      const firstAlert = await page.locator("ul.alerts li").first().boundingBox();
      expect((await banner.boundingBox())!.y).toBeLessThan(viewport.height / 2);
      expect(firstAlert!.y).toBeLessThan(viewport.height);
      const alerts = await page.locator("ul.alerts li").allTextContents();
      expect(alerts[0]).toContain("SLOErrorBudgetBurn (1h/5m)");
      expect(alerts[0]).toContain("Burn rate 60.0× over 1h, 60.0× over 5m");
      expect(alerts[1]).toContain("Burn rate 3.2× over 1d, 3.5× over 2h");
      const maintenance = await page.locator("h2:has-text('Maintenance') + ul li").allTextContents();
      expect(maintenance).toEqual([expect.stringContaining("mw-soon 2026-11-20T12:00:00.000Z")]);
      const overflow = (await page.evaluate(
        "document.documentElement.scrollWidth - window.innerWidth",
      )) as number;
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(ARTIFACTS, `status-outage-${name}.png`), fullPage: false });
      await page.close();
    }, 30_000);
  }
});
