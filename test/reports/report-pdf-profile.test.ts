import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtml } from "../../src/reports/html.js";
import type { MonthlyReport } from "../../src/reports/index.js";
import { REPO, slo } from "./cli-run.js";
import { PROFILE_MONTH, prepareProfileMonth, shippedProfile } from "./profile-month.js";

/**
 * The shipped profile's 13 categories over a month with outages in several of them, printed by
 * `report --out FILE.pdf` through the system's Chromium: the vendor manager's PDF must stay
 * within 6 A4 pages without leaving anything out.
 */

const ARTIFACTS = join(REPO, "artifacts");
const SLOW = 120_000;
let dir: string;
let pages: string[];
let report: MonthlyReport;

/** The text of a PDF through poppler's pdftotext, page by page. */
function pdfPages(file: string): string[] {
  const text = spawnSync("pdftotext", ["-layout", file, "-"], { encoding: "utf8" });
  expect(text.status, text.stderr).toBe(0);
  return text.stdout.split("\f").filter((page) => page.trim() !== "");
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-report-13-"));
  prepareProfileMonth(REPO, dir);
  const json = slo(["report", "--month", PROFILE_MONTH, "--format", "json"], dir);
  expect(json.code, json.stderr).toBe(0);
  report = JSON.parse(json.stdout);
  const out = join(dir, "october.pdf");
  const run = slo(["report", "--month", PROFILE_MONTH, "--out", out], dir);
  expect(run.code, run.stderr).toBe(0);
  pages = pdfPages(out);
  mkdirSync(ARTIFACTS, { recursive: true });
  copyFileSync(out, join(ARTIFACTS, "report-13-categories.pdf"));
  spawnSync("pdftoppm", ["-png", "-r", "60", out, join(ARTIFACTS, "report-13-categories-page")]);
}, SLOW);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a 13-category month as a PDF without --claim", () => {
  it("is the month the shipped profile describes, with misses and incidents in several categories", () => {
    expect(report.categories.map((c) => c.category)).toEqual(
      shippedProfile(REPO).categories.map((c) => c.id),
    );
    expect(report.categories).toHaveLength(13);
    expect(report.summary.missed.length).toBeGreaterThanOrEqual(3);
    expect(new Set(report.incidents.map((i) => i.category)).size).toBe(13);
  });

  it("never ends a page with the Incidents heading: its introduction is on the same page", () => {
    const withHeading = pages.findIndex((page) =>
      page.split("\n").some((line) => line.trim() === "Incidents"),
    );
    expect(withHeading).toBeGreaterThanOrEqual(0);
    expect(pages[withHeading]!.replace(/\s+/g, " ")).toContain(
      "Failure periods of every category that had any",
    );
  });

  it("prints on at most 6 A4 pages, each with the header and page N of M", () => {
    expect(pages.length).toBeLessThanOrEqual(6);
    pages.forEach((page, i) => {
      expect(page).toContain(`SLA evidence report · ${PROFILE_MONTH}`);
      expect(page).toContain(`page ${i + 1} of ${pages.length}`);
    });
  });

  it("leaves nothing out: every category, its incidents, the classes' credits, coverage and evidence", () => {
    const text = pages.join("\n");
    for (const c of report.categories) {
      // In the summary and again over its incidents.
      expect(text.split(c.title).length - 1, c.title).toBeGreaterThanOrEqual(2);
    }
    for (const heading of ["Summary", "Charts", "Service classes", "Maintenance windows", "Exclusions"])
      expect(text).toContain(heading);
    for (const heading of ["Measurement validity", "Incidents", "Coverage", "Evidence"])
      expect(text).toContain(heading);
    const worst = [...report.incidents].sort((a, b) => b.failed_requests - a.failed_requests)[0]!;
    expect(text).toContain(worst.correlation_ids[0]);
    expect(text).toContain("Service credit");
    expect(text).toContain(report.evidence.sha256);
  });
});

describe("the same month's HTML at 1280 px in Chromium", () => {
  it(
    "keeps every table and chart inside the page's content box (long category ids wrap)",
    async () => {
      const file = join(dir, "october.html");
      writeFileSync(file, renderHtml(report));
      const browser = await chromium.launch({
        executablePath: "/usr/bin/chromium",
        args: ["--headless", "--no-sandbox"],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await page.route("**/*", (route) =>
          route.request().url().startsWith("file:") ? route.continue() : route.abort(),
        );
        await page.goto(`file://${file}`, { waitUntil: "load" });
        type Box = { right: number };
        type El = { getBoundingClientRect(): Box; closest(s: string): { id: string } | null };
        type Doc = { querySelector(s: string): El; querySelectorAll(s: string): El[] };
        type Win = { getComputedStyle(el: El): { paddingRight: string } };
        const spills = await page.evaluate(() => {
          const doc = (globalThis as unknown as { document: Doc }).document;
          const main = doc.querySelector("main");
          const right =
            main.getBoundingClientRect().right -
            Number.parseFloat((globalThis as unknown as Win).getComputedStyle(main).paddingRight);
          return [...doc.querySelectorAll("main table, main svg.chart")]
            .filter((el) => el.getBoundingClientRect().right > right + 0.5)
            .map((el) => el.closest("section")?.id ?? "?");
        });
        expect(spills).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    SLOW,
  );
});
