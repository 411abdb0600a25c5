import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import { loadConfig } from "../../src/config/index.js";
import { openEvidenceStore, statementBytes } from "../../src/record/index.js";
import { renderHtml } from "../../src/reports/html.js";
import { buildMonthlyReport } from "../../src/reports/index.js";
import { REPO } from "./cli-run.js";
import { MONTH, MONTH_END } from "./month-scenario.js";
import { prepareMonth } from "./month-store.js";

const ARTIFACTS = join(REPO, "artifacts");

let dir: string;
let report: ReturnType<typeof buildMonthlyReport>;
let browser: Browser;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-report-html-"));
  const month = prepareMonth(dir);
  const { config } = await loadConfig(month.configFile);
  const store = openEvidenceStore({ dataDir: month.dataDir, clock: systemClock });
  report = (() => {
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

  it("keeps every correlation id inside its column at 1280 px", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const cells = page.locator(".incident-table td:last-child");
    expect(await cells.count()).toBeGreaterThan(0);
    const overflowing = await cells.evaluateAll(
      (tds) =>
        (tds as unknown as { scrollWidth: number; clientWidth: number }[]).filter(
          (td) => td.scrollWidth > td.clientWidth + 1,
        ).length,
    );
    await page.setViewportSize({ width: 1200, height: 900 });
    expect(overflowing).toBe(0);
  });

  it("ends the longest category label before the timeline's grid", async () => {
    const timeline = page.locator("svg[data-chart=timeline]");
    const gridStart = (await timeline.locator("line").first().boundingBox())!.x;
    const labels = await timeline.locator("text.row-label").all();
    const rights = await Promise.all(
      labels.map(async (l) => ((b) => b!.x + b!.width)(await l.boundingBox())),
    );
    expect(Math.max(...rights)).toBeLessThan(gridStart);
  });

  it("wraps the signed statement between JSON tokens only, and it copies as its exact bytes", async () => {
    const statement = {
      kind: "slo-agent/monthly-evidence/v1",
      month: MONTH,
      records: 26568,
      sha256: "26899e2f50c5fe3fafcc8585659c1b360c5b2494b4fb37b3ade3d4fbdfe1c6e7",
      config_sha256: "b00b59e35e6c0c88a6a5dab0a9d42d5a8215bcf6227ac822017855de590f3054",
      agent: "probe-eu-1",
      agent_version: "0.1.0",
      first_seq: 1,
      last_seq: 26568,
      generated_at: "2026-04-01T07:00:00.000Z",
    };
    const signed = {
      ...report,
      evidence: {
        ...report.evidence,
        statement,
        signature: { key_id: "k1", value: "c2lnbmF0dXJl", public_key_pem: "-----BEGIN PUBLIC KEY-----" },
      },
    } as unknown as typeof report;
    const narrow = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await narrow.setContent(renderHtml(signed), { waitUntil: "load" });
    const digest = narrow.locator(".digest.statement");
    expect(await digest.textContent()).toBe(statementBytes(statement as never).toString("utf8"));
    // Where each line of the laid-out statement ends: always right after a "," or ":".
    const lineEnds = (await narrow.evaluate(`(() => {
      const el = document.querySelector(".digest.statement");
      const ends = []; let top = null; let prev = "";
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let t = walker.nextNode(); t; t = walker.nextNode()) {
        for (let i = 0; i < t.data.length; i++) {
          const range = document.createRange(); range.setStart(t, i); range.setEnd(t, i + 1);
          const r = range.getClientRects()[0]; if (!r) continue;
          if (top !== null && r.top > top + 2) ends.push(prev);
          top = r.top; prev = t.data[i];
        }
      }
      return ends;
    })()`)) as string[];
    await narrow.close();
    expect(lineEnds.length).toBeGreaterThan(0);
    expect(lineEnds.filter((c) => c !== "," && c !== ":")).toEqual([]);
  });

  it("says each technical figure in plain words under it, for a finance reader", async () => {
    const plain = (await page.locator(".plain-words").allTextContents()).join("\n");
    expect(plain).toContain("99 of every 100 requests");
    expect(plain).toMatch(/Error budget used: the SLA allows a small share of requests to fail/);
    expect(plain).toMatch(/RFC 8785 is one fixed way of writing JSON/);
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
