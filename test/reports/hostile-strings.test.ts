import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { MonthlyReport } from "../../src/reports/model.js";
import { renderPdf } from "../../src/reports/pdf.js";
import { renderReport } from "../../src/reports/render.js";
import { sampleReport } from "./sample-report.js";

/**
 * Strings that came from elsewhere (another agent's daily dates, a month) are escaped in every
 * format: markup in them must never become markup, and never navigate the PDF's page away.
 */
const REFRESH = '"><meta http-equiv="refresh" content="0;url=about:blank"><x a="';

function hostile(): MonthlyReport {
  const report = sampleReport();
  return {
    ...report,
    month: `${report.month}<img src=x onerror=alert(1)>`,
    daily: report.daily.map((d, i) => (i === 0 ? { ...d, date: `${d.date}${REFRESH}` } : d)),
  };
}

const dir = mkdtempSync(join(tmpdir(), "slo-hostile-strings-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("hostile strings in a report", () => {
  it("stay text in HTML (the SVG's data-date too) and Markdown", () => {
    const html = renderReport(hostile(), "html") as string;
    expect(html).not.toContain(`<meta http-equiv="refresh"`);
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("data-date=");
    const md = renderReport(hostile(), "md") as string;
    // Inside a code span markup is shown as text; everywhere else it must be escaped.
    expect(md.replace(/`[^`\n]*`/g, "")).not.toContain("<img");
  });

  it("print as the report in the PDF, not as a blank page (real Chromium)", async () => {
    const pdf = await renderPdf(hostile());
    const file = join(dir, "hostile.pdf");
    writeFileSync(file, pdf);
    const text = spawnSync("pdftotext", ["-layout", file, "-"], { encoding: "utf8" });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain("SLA evidence report");
    expect(text.stdout).toContain("<img src=x onerror=alert(1)>");
    expect(text.stdout.split("\f").filter((p) => p.trim() !== "").length).toBeGreaterThan(1);
  }, 120_000);
});
