import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import { loadConfig } from "../../src/config/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { renderHtml } from "../../src/reports/html.js";
import { buildMonthlyReport } from "../../src/reports/index.js";
import { REPO } from "./cli-run.js";
import { MONTH, MONTH_END } from "./month-scenario.js";
import { prepareMonth } from "./month-store.js";

const ARTIFACTS = join(REPO, "artifacts");

let dir: string;
let browser: Browser;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-report-html-"));
  const month = prepareMonth(dir);
  const { config } = await loadConfig(month.configFile);
  const store = openEvidenceStore({ dataDir: month.dataDir, clock: systemClock });
  const report = (() => {
    try {
      return buildMonthlyReport({ config, store, month: MONTH, now: MONTH_END + 7 * 3_600_000 });
    } finally {
      store.close();
    }
  })();
  const file = join(dir, "report.html");
  writeFileSync(file, renderHtml(report));

  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  // Everything but the report file itself is counted and refused.
  const url = pathToFileURL(file).href;
  await context.route("**/*", (route) => {
    if (route.request().url() === url) return route.continue();
    requests.push(route.request().url());
    return route.abort();
  });
  page = await context.newPage();
  page.on("request", (r) => {
    if (r.url() !== url && !requests.includes(r.url())) requests.push(r.url());
  });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  await page.goto(url, { waitUntil: "load" });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the HTML report in a real headless Chromium", () => {
  it("loads with no network request and no console error", () => {
    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it("shows the summary table with a row per category and the verdicts", async () => {
    const rows = page.locator("#summary tbody tr");
    expect(await rows.count()).toBe(3);
    const firstRow = (await rows.nth(0).textContent()) ?? "";
    expect(firstRow).toContain("Payment Request");
    expect(firstRow).toContain("missed");
    expect(await page.locator("#summary tbody tr.missed").count()).toBe(2);
    expect(await page.locator(".verdict").textContent()).toBe("3 objectives were missed.");
  });

  it("shows the edge blocks and broken bodies under the summary, where a vendor manager looks first", async () => {
    const notes = page.locator("#summary .notes");
    expect(await notes.isVisible()).toBe(true);
    const text = (await notes.textContent()) ?? "";
    expect(text).toContain("looked like an edge block");
    expect(text).toContain("broke off after the headers arrived");
    expect(await page.locator("#incidents tr.detail .note").count()).toBeGreaterThan(0);
  });

  it.each([
    ["availability", "circle.point", 3 * 31],
    ["latency", "circle.point", 3 * 31],
    ["timeline", "rect.event", 10],
  ])("draws the %s chart with its data points", async (chart, selector, atLeast) => {
    const svg = page.locator(`svg[data-chart="${chart}"]`);
    expect(await svg.count()).toBe(1);
    const box = await svg.boundingBox();
    expect(box!.width).toBeGreaterThan(600);
    expect(await svg.locator(selector).count()).toBeGreaterThanOrEqual(atLeast);
  });

  it("marks the days that broke an objective in red on the charts", async () => {
    const misses = page.locator('svg[data-chart="availability"] circle.point.miss');
    expect(await misses.count()).toBeGreaterThan(0);
    expect(
      await page.locator('svg[data-chart="availability"] circle.point.miss[data-date="2026-03-12"]').count(),
    ).toBe(1);
    expect(await page.locator('svg[data-chart="timeline"] rect.event.incident').count()).toBeGreaterThan(3);
  });

  it("keeps every table and chart inside the page's content box at 1280 px", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const main = (await page.locator("main").boundingBox())!;
    type Styled = { getComputedStyle(el: unknown): { paddingRight: string } };
    const padding = await page
      .locator("main")
      .evaluate((el) =>
        Number.parseFloat((globalThis as unknown as Styled).getComputedStyle(el).paddingRight),
      );
    const right = main.x + main.width - padding;
    const spills: string[] = [];
    for (const el of await page.locator("main table, main svg.chart").all()) {
      const box = (await el.boundingBox())!;
      if (box.x + box.width > right + 0.5)
        spills.push(
          await el.evaluate(
            (e) =>
              (e as unknown as { closest(s: string): { id: string } | null }).closest("section")?.id ?? "?",
          ),
        );
    }
    await page.setViewportSize({ width: 1200, height: 900 });
    expect(padding).toBeGreaterThan(0);
    expect(spills).toEqual([]);
  });

  it("saves a full-page screenshot and a PDF as CI artefacts", async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const png = join(ARTIFACTS, "report.png");
    const pdf = join(ARTIFACTS, "report.pdf");
    await page.screenshot({ path: png, fullPage: true });
    await page.emulateMedia({ media: "print" });
    await page.pdf({ path: pdf, format: "A4", landscape: true, printBackground: true });
    await page.emulateMedia({ media: "screen" });
    expect(statSync(png).size).toBeGreaterThan(20_000);
    expect(statSync(pdf).size).toBeGreaterThan(20_000);
  });
});
