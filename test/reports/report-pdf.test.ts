import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, slo } from "./cli-run.js";
import { MONTH } from "./month-scenario.js";
import { prepareMonth } from "./month-store.js";

const ARTIFACTS = join(REPO, "artifacts");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-report-pdf-"));
  prepareMonth(dir);
  mkdirSync(join(dir, "out"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The text of a PDF through poppler's pdftotext, page by page (form feeds between pages). */
function pdfPages(file: string): string[] {
  const text = spawnSync("pdftotext", ["-layout", file, "-"], { encoding: "utf8" });
  expect(text.status, text.stderr).toBe(0);
  return text.stdout.split("\f").filter((page) => page.trim() !== "");
}

describe("report --format pdf through the system's Chromium", () => {
  it("--out october.pdf writes an A4 PDF with the month in each page's header and page N of M", () => {
    const out = join(dir, "out", "march.pdf");
    const run = slo(["report", "--month", MONTH, "--out", out], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("");
    expect(readFileSync(out).subarray(0, 5).toString("latin1")).toBe("%PDF-");
    const pages = pdfPages(out);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.length).toBeLessThanOrEqual(6);
    pages.forEach((page, i) => {
      expect(page).toContain(`SLA evidence report · ${MONTH}`);
      expect(page).toContain(`page ${i + 1} of ${pages.length}`);
    });
    expect(pages.join("\n")).toContain("Payment Request");
    // The "Incidents" heading never ends a page by itself: its introduction is on the same page.
    const withHeading = pages.findIndex((page) =>
      page.split("\n").some((line) => line.trim() === "Incidents"),
    );
    expect(withHeading).toBeGreaterThanOrEqual(0);
    expect(pages[withHeading]!.replace(/\s+/g, " ")).toContain(
      "Failure periods of every category that had any",
    );
    const info = spawnSync("pdfinfo", [out], { encoding: "utf8" }).stdout;
    expect(info).toMatch(/Page size:\s+\d+(\.\d+)? x \d+(\.\d+)? pts \(A4\)/);
    mkdirSync(ARTIFACTS, { recursive: true });
    spawnSync("cp", [out, join(ARTIFACTS, "report-cli.pdf")]);
    spawnSync("pdftoppm", ["-png", "-r", "60", out, join(ARTIFACTS, "report-cli-page")]);
  }, 120_000);

  it("--format pdf without Chromium is one line and exit 2, and writes nothing", () => {
    const out = join(dir, "out", "none.pdf");
    const run = spawnSync(
      process.execPath,
      [join(REPO, "dist/cli/main.js"), "report", "--month", MONTH, "--out", out],
      {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, SLO_AGENT_CHROMIUM: join(dir, "no-chromium-here") },
      },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^slo-agent report: --format pdf: no Chromium found on PATH .*\n$/);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    ["an extension of no report format", "march.docx"],
    ["a file with no extension", "march"],
    ["a PDF asked for under a text name", "march.txt"],
  ])("--out with %s is exit 2, never JSON in disguise", (_rule, name) => {
    const before = readdirSync(join(dir, "out"));
    const run = slo(["report", "--month", MONTH, "--out", join(dir, "out", name)], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /--out: ".*" has no report file extension \(use \.json, \.md, \.html, \.csv, \.pdf\)/,
    );
    expect(readdirSync(join(dir, "out"))).toEqual(before);
  });
});

describe("report --out and --format must agree", () => {
  it("--format json --out march.pdf is exit 2: the file's name would lie about its content", () => {
    const run = slo(
      ["report", "--month", MONTH, "--format", "json", "--out", join(dir, "out", "lie.pdf")],
      dir,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--out: ".*lie\.pdf" names pdf, but --format is json/);
    expect(existsSync(join(dir, "out", "lie.pdf"))).toBe(false);
  });
});
