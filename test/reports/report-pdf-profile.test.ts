import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
