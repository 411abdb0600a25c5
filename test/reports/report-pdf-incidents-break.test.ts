import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import { loadConfig } from "../../src/config/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { renderHtml } from "../../src/reports/html.js";
import { buildMonthlyReport } from "../../src/reports/index.js";
import { MONTH, MONTH_END } from "./month-scenario.js";
import { prepareMonth } from "./month-store.js";

/**
 * Issue #27: in the printed report the "Incidents" heading ended a page by itself, its
 * introduction or its first category's incidents on the next. Which month puts it at a page end depends on everything above it, so
 * this moves the section down the page a few pixels at a time (a spacer before it, the rest of
 * the report as printed) and checks every position: the heading's page always shows the
 * introduction and the first category's incidents too.
 */
let dir: string;
let html: string;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-incidents-break-"));
  const month = prepareMonth(dir);
  const { config } = await loadConfig(month.configFile);
  const store = openEvidenceStore({ dataDir: month.dataDir, clock: systemClock });
  try {
    html = renderHtml(buildMonthlyReport({ config, store, month: MONTH, now: MONTH_END + 7 * 3_600_000 }));
  } finally {
    store.close();
  }
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
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The incidents section alone after a spacer of `offset` px, with the report's own styles. */
function pageWith(offset: number): string {
  const head = html.slice(0, html.indexOf("<body>") + "<body>".length);
  const start = html.indexOf('<section id="incidents">');
  const end = html.indexOf("</section>", start) + "</section>".length;
  expect(start).toBeGreaterThan(0);
  return `${head}<div style="height:${offset}px"></div>${html.slice(start, end)}</body></html>`;
}

/** The title of the first category listed under Incidents (its h3). */
function firstCategory(): string {
  const section = html.slice(html.indexOf('<section id="incidents">'));
  const title = /<h3[^>]*>([^<]+)</.exec(section)?.[1];
  expect(title).toBeDefined();
  return title!.trim().replace(/\s+/g, " ");
}

function pdfPages(file: string): string[] {
  const text = spawnSync("pdftotext", ["-layout", file, "-"], { encoding: "utf8" });
  expect(text.status, text.stderr).toBe(0);
  return text.stdout.split("\f").filter((page) => page.trim() !== "");
}

describe("the printed report's Incidents heading", () => {
  it("never ends a page without its introduction, wherever the section starts on the page", async () => {
    const page = await browser.newPage();
    await page.emulateMedia({ media: "print" });
    const orphaned: number[] = [];
    // A4 at the report's margins and print scale holds about 720 CSS px: every 6 px of a page.
    for (let offset = 0; offset <= 760; offset += 6) {
      await page.setContent(pageWith(offset), { waitUntil: "load" });
      const file = join(dir, `at-${offset}.pdf`);
      writeFileSync(
        file,
        await page.pdf({
          format: "A4",
          printBackground: true,
          displayHeaderFooter: true,
          margin: { top: "16mm", bottom: "14mm", left: "10mm", right: "10mm" },
        }),
      );
      const pages = pdfPages(file);
      const withHeading = pages
        .find((p) => p.split("\n").some((line) => line.trim() === "Incidents"))
        ?.replace(/\s+/g, " ");
      // Its introduction and the first category's incidents begin on the heading's page.
      const kept =
        withHeading?.includes("Failure periods of every category") && withHeading.includes(firstCategory());
      if (!kept) orphaned.push(offset);
    }
    expect(orphaned, "spacer heights (px) that left the heading alone at a page end").toEqual([]);
  }, 180_000);
});
