import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { renderHtml } from "./html.js";
import type { MonthlyReport } from "./model.js";
import { escapeXml } from "./svg.js";

/** Names the system's Chromium goes by; no browser is ever downloaded. */
const CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/** No Chromium on this machine: the PDF cannot be made (exit 2 at the command line). */
export class NoChromiumError extends Error {
  constructor() {
    super(
      `no Chromium found on PATH (looked for ${CHROMIUM_NAMES.join(", ")}); install one (Debian: apt-get install chromium) or set SLO_AGENT_CHROMIUM to its path`,
    );
    this.name = "NoChromiumError";
  }
}

/** The Chromium to print with: $SLO_AGENT_CHROMIUM, else the first of the usual names on PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.SLO_AGENT_CHROMIUM;
  if (chosen) {
    if (existsSync(chosen)) return chosen;
    throw new NoChromiumError();
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    for (const name of CHROMIUM_NAMES) {
      const candidate = join(dir, name);
      if (dir !== "" && existsSync(candidate)) return candidate;
    }
  }
  throw new NoChromiumError();
}

const FOOTER_STYLE = "font: 8px sans-serif; color: #555; width: 100%; margin: 0 12mm;";

/**
 * Chromium printed something other than the report: the page navigated away (a `<meta refresh>`
 * or a link that slipped through) or came out empty. Never a blank PDF with exit 0.
 */
export class PdfRenderError extends Error {
  constructor(reason: string) {
    super(`the PDF was not written: ${reason}`);
    this.name = "PdfRenderError";
  }
}

/**
 * The HTML report printed to an A4 PDF by headless Chromium: every page carries the report's
 * title and month in its header and "page N of M" in its footer. The page loads nothing from the
 * network (the HTML is self-contained, and every request is refused).
 */
export async function renderPdf(report: MonthlyReport, executablePath = findChromium()): Promise<Buffer> {
  // Loaded only here: playwright-core costs every other command half a second of start-up.
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
    ],
  });
  try {
    const page = await browser.newPage();
    await page.route("**/*", (route) => route.abort());
    await page.setContent(renderHtml(report), { waitUntil: "load" });
    // From here on the main frame must stay the report: any navigation (even to about:blank or a
    // data: URL, which no route sees) means the page printed would not be it.
    const navigations: string[] = [];
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
    await page.emulateMedia({ media: "print" });
    await assertReportShown(page, navigations);
    const pdf = await page.pdf({
      format: "A4",
      printBackground: true,
      displayHeaderFooter: true,
      margin: { top: "16mm", bottom: "14mm", left: "10mm", right: "10mm" },
      headerTemplate: `<div style="${FOOTER_STYLE}">SLA evidence report · ${escapeXml(report.month)}</div>`,
      footerTemplate: `<div style="${FOOTER_STYLE} text-align: right;">page <span class="pageNumber"></span> of <span class="totalPages"></span></div>`,
    });
    await assertReportShown(page, navigations);
    return pdf;
  } finally {
    await browser.close();
  }
}

/** The report's own heading is on the page and the page never left it. */
async function assertReportShown(
  page: import("playwright-core").Page,
  navigations: readonly string[],
): Promise<void> {
  if (navigations.length > 0) {
    throw new PdfRenderError(`the page navigated away from the report (to ${navigations[0]!.slice(0, 80)})`);
  }
  // A string: this code runs in the page, whose DOM types this Node project does not load.
  const shown = (await page.evaluate(
    '({ title: document.title, heading: document.querySelector("h1")?.textContent ?? "" })',
  )) as { title: string; heading: string };
  if (!shown.title.startsWith("SLA evidence report") || shown.heading.trim() === "") {
    throw new PdfRenderError("the page Chromium printed does not show the report (no report heading)");
  }
}
