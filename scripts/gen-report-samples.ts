/**
 * Writes the samples docs/report.md shows, one of every report format, from the deterministic
 * 13-category month of the tests (test/reports/profile-month.ts) through the real CLI:
 *
 *   npm run build && npx tsx scripts/gen-report-samples.ts
 *
 * Output in docs/samples/: october-2026.md and .csv, october-2026.excerpt.json (the JSON with
 * its long lists cut short), october-2026-claim.md, the PDF's first page and the HTML at 1280 px
 * as PNG. The figures are the same on every run; the
 * generation time, the agent's signing key and the signature differ (a fresh store each run).
 * Needs the system's Chromium and poppler's pdftoppm.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { findChromium } from "../src/reports/pdf.js";
import { PROFILE_MONTH, prepareProfileMonth } from "../test/reports/profile-month.js";

const REPO = join(import.meta.dirname, "..");
const OUT = join(REPO, "docs/samples");
const NAME = "october-2026";

function cli(args: readonly string[], cwd: string): string {
  const run = spawnSync(process.execPath, [join(REPO, "dist/cli/main.js"), ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`slo-agent ${args.join(" ")}: exit ${run.status}: ${run.stderr}`);
  return run.stdout;
}

async function screenshot(html: string, png: string): Promise<void> {
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: ["--headless", "--no-sandbox"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.route("**/*", (route) =>
      route.request().url().startsWith("file:") ? route.continue() : route.abort(),
    );
    await page.goto(`file://${html}`, { waitUntil: "load" });
    await page.screenshot({ path: png });
  } finally {
    await browser.close();
  }
}

/** The report with its long lists cut to their first entries: every key is still there. */
function excerpt(report: Record<string, unknown>): Record<string, unknown> {
  const first = (key: string, n: number) => (report[key] as unknown[]).slice(0, n);
  const incidents = first("incidents", 1) as { correlation_ids: string[] }[];
  return {
    ...report,
    categories: first("categories", 2),
    incidents: incidents.map((i) => ({ ...i, correlation_ids: i.correlation_ids.slice(0, 3) })),
    latency_incidents: first("latency_incidents", 1),
    daily: first("daily", 2),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "slo-report-samples-"));
  try {
    prepareProfileMonth(REPO, dir);
    mkdirSync(OUT, { recursive: true });
    // The Markdown and CSV whole; the JSON shortened (it is 270 kB); HTML and PDF as pictures.
    for (const format of ["md", "csv"]) {
      cli(["report", "--month", PROFILE_MONTH, "--out", join(OUT, `${NAME}.${format}`)], dir);
    }
    const json = JSON.parse(cli(["report", "--month", PROFILE_MONTH, "--format", "json"], dir));
    writeFileSync(join(OUT, `${NAME}.excerpt.json`), `${JSON.stringify(excerpt(json), null, 2)}\n`);
    for (const format of ["html", "pdf"]) {
      cli(["report", "--month", PROFILE_MONTH, "--out", join(dir, `${NAME}.${format}`)], dir);
    }
    const claim = cli(["report", "--month", PROFILE_MONTH, "--format", "md", "--claim"], dir);
    writeFileSync(join(OUT, `${NAME}-claim.md`), claim);
    const pages = spawnSync("pdftoppm", [
      "-png",
      "-r",
      "50",
      "-f",
      "1",
      "-l",
      "1",
      join(dir, `${NAME}.pdf`),
      join(dir, "page"),
    ]);
    if (pages.status !== 0) throw new Error(`pdftoppm: ${pages.stderr}`);
    renameSync(join(dir, "page-1.png"), join(OUT, `${NAME}-pdf-page-1.png`));
    await screenshot(join(dir, `${NAME}.html`), join(OUT, `${NAME}-html.png`));
    process.stdout.write(`samples written to ${OUT}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
