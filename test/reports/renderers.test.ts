import { describe, expect, it } from "vitest";
import { csvField, renderCsv } from "../../src/reports/csv.js";
import { formatDuration } from "../../src/reports/format.js";
import { renderHtml } from "../../src/reports/html.js";
import { renderJson } from "../../src/reports/json.js";
import { renderMarkdown } from "../../src/reports/markdown.js";
import { classified, sampleReport } from "./sample-report.js";

/** The sample report with every flag and body error count at zero. */
function unflaggedReport() {
  const report = sampleReport();
  return {
    ...report,
    categories: report.categories.map((c) => ({ ...c, ...classified() })),
    incidents: report.incidents.map((i) => ({ ...i, ...classified() })),
  };
}

/** Splits CSV text by RFC 4180 (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted && ch === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (!quoted && ch === ",") {
      row.push(field);
      field = "";
    } else if (!quoted && ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else {
      field += ch;
    }
  }
  return rows;
}

describe("JSON form", () => {
  it("holds every contract field at full precision, with generated_at", () => {
    const report = sampleReport();
    const parsed = JSON.parse(renderJson(report));
    expect(parsed).toEqual(report);
    expect(parsed.categories[0].availability_pct).toBe((7900 / 8064) * 100);
    expect(Object.keys(parsed).slice(0, 13)).toEqual([
      "month",
      "generated_at",
      "period",
      "context",
      "preliminary",
      "preliminary_reasons",
      "categories",
      "service_classes",
      "maintenance",
      "exclusions",
      "coverage",
      "evidence",
      "summary",
    ]);
  });

  it("null figures stay null, never 100 or 0", () => {
    const parsed = JSON.parse(renderJson(sampleReport()));
    const disputes = parsed.categories.find((c: { category: string }) => c.category === "disputes");
    expect(disputes).toMatchObject({ availability_pct: null, availability_met: null, latency_p99_ms: null });
  });
});

describe("CSV form", () => {
  it.each([
    ["a plain field is left alone", "payment_request", "payment_request"],
    ["a comma is quoted", "a,b", '"a,b"'],
    ["a quote is doubled inside quotes", 'say "hi"', '"say ""hi"""'],
    ["a line break is quoted", "a\nb", '"a\nb"'],
    ["a null figure is an empty cell", null, ""],
    ["a number keeps full precision", 97.96626984126983, "97.96626984126983"],
  ] as const)("%s", (_rule, value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it("has a header and one row per category per day, CRLF-terminated", () => {
    const report = sampleReport();
    const text = renderCsv(report);
    expect(text.endsWith("\r\n")).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([
      "date",
      "category",
      "service_class",
      "requests",
      "served",
      "excluded",
      "availability_pct",
      "latency_p99_ms",
      "measured_availability_pct",
      "merchant_side_excluded_minutes",
    ]);
    expect(rows).toHaveLength(1 + 28 * 3);
    expect(rows[7]).toEqual([
      "2026-02-03",
      "payment_request",
      "transaction_critical",
      "288",
      "124",
      "0",
      String((124 / 288) * 100),
      "10000",
      String((124 / 290) * 100),
      "0",
    ]);
    expect(rows[3]).toEqual(["2026-02-01", "disputes", "additional", "0", "0", "0", "", "", "", "0"]);
  });

  it("has rows only for the days that have begun when the report was generated (a month still open)", () => {
    const report = { ...sampleReport(), generated_at: "2026-02-10T08:00:00.000Z", preliminary: true };
    const rows = parseCsv(renderCsv(report)).slice(1);
    expect(rows).toHaveLength(10 * 3);
    expect(rows.at(-1)?.[0]).toBe("2026-02-10");
  });
});

describe("Markdown form", () => {
  const md = renderMarkdown(sampleReport());

  it("rounds for display only: availability to 3 decimals, p99 to 1", () => {
    expect(md).toContain("97.966% / 99.0%");
    expect(md).toContain("412.3 ms / 1,500 ms");
    expect(md).toContain("100.000% / 99.0%");
  });

  it("marks what was missed and shows no traffic as a dash, not 100%", () => {
    expect(md).toContain("**missed** (availability)");
    expect(md).toMatch(
      /Disputes \(`disputes`\) \| `additional` \| — \/ 99\.0% \| — \| — \/ 2,000 ms .*\| no data \|/,
    );
    expect(md).toContain("**2 objectives were missed.**");
  });

  it("keeps every table row intact when data holds pipes, HTML or line breaks", () => {
    const cells = (line: string) => line.replaceAll("\\|", "").split("|").length;
    const tables = md.split(/\n(?!\|)/).map((block) => block.split("\n").filter((l) => l.startsWith("|")));
    for (const rows of tables.filter((t) => t.length > 0)) {
      for (const row of rows) expect(cells(row), row).toBe(cells(rows[0]!));
    }
    expect(md).not.toContain("<script>");
    expect(md).not.toContain("<b>");
    expect(md).toContain("Payment \\| Request &lt;script&gt;");
    expect(md).toContain('acquirer "Bank, Ltd" outage second line \\| &lt;b&gt;bold&lt;/b&gt;');
  });

  it("lists incidents with error codes and correlation ids for every category, met or missed", () => {
    const incidents = md.slice(md.indexOf("## Incidents"), md.indexOf("## Coverage"));
    expect(incidents).toContain(
      "2026-02-03 10:00:00 | 2026-02-03 10:45:00 | 45 min | 9 / 9 | 503 ×7, timeout ×2",
    );
    expect(incidents).toContain("`INTERNAL_ERROR` ×7");
    expect(incidents).toContain("`corr-19`");
    expect(incidents).not.toContain("`corr-20`");
    expect(incidents).toContain("and 5 more (JSON form)");
    // settlements met its objectives, and its failure period is listed all the same.
    expect(incidents).toContain("### Settlements");
    expect(incidents).toContain("Met its objectives.");
    expect(incidents).toContain("| 2026-02-05 00:00:00 | 2026-02-05 00:05:00 | 5 min | 1 / 1 | reset ×1 |");
  });

  it("notes a category's edge blocks and body errors under the summary, before anything is disputed", () => {
    const summary = md.slice(md.indexOf("## Summary"), md.indexOf("## Service classes"));
    expect(summary).toContain("Before escalating, note what the probes saw:");
    expect(summary).toContain(
      "- Payment \\| Request &lt;script&gt;alert(1)&lt;/script&gt; (`payment_request`): 12 answers looked like an edge block (403 without Klarna's error body): check IP allow-lists or the CDN before disputing.",
    );
    expect(summary).toContain("4 responses broke off after the headers arrived (timeout ×3, reset ×1)");
    expect(summary).not.toContain("(`settlements`):");
  });

  it("notes an incident's body errors below its table, named by the incident's start", () => {
    const incidents = md.slice(md.indexOf("## Incidents"), md.indexOf("## Coverage"));
    expect(incidents).toContain(
      "- 2026-02-03 10:00:00: Of its failures, 2 responses broke off after the headers arrived (timeout ×2)",
    );
  });

  it.each([
    ["Markdown", (r: ReturnType<typeof sampleReport>) => renderMarkdown(r)],
    ["HTML", (r: ReturnType<typeof sampleReport>) => renderHtml(r)],
  ])("%s shows no note at all when every flag and body error count is zero", (_form, render) => {
    const text = render(unflaggedReport());
    expect(text).not.toContain("Before escalating");
    expect(text).not.toContain("Of its failures");
    expect(text).not.toMatch(/edge block|broke off/);
  });

  it("shows maintenance qualification, the year's allowance, coverage and the evidence digest", () => {
    expect(md).toContain("Used from January 1 to the end of February 2026: 1 occasion, 2 h.");
    expect(md).toMatch(/`mw-late` .*\| \*\*no\*\* \| 0 h \| 0 \| announced too late \|/);
    expect(md).toMatch(/`fm-1` .*\| 1 h 00 min \| `settlements` \| 12 \| acquirer/);
    expect(md).toContain(
      "16,128 probe results recorded of 24,192 the configured schedules call for (66.7%).",
    );
    expect(md).toContain("2026-02-21 00:00:00 to 2026-02-21 06:30:00 (6 h 30 min)");
    expect(md).toContain(`    ${"ab".repeat(32)}`);
  });
});

describe("HTML form", () => {
  const html = renderHtml(sampleReport());

  it("every table row has as many cells as its header (colspans counted)", () => {
    const tables = [...html.matchAll(/<table[^>]*>(.*?)<\/table>/gs)].map((m) => m[1]!);
    expect(tables.length).toBeGreaterThan(3);
    for (const table of tables) {
      const rows = [...table.matchAll(/<tr[^>]*>(.*?)<\/tr>/gs)].map((m) => m[1]!);
      const width = (row: string) =>
        [...row.matchAll(/<t[hd](?:\s+[^>]*?colspan="(\d+)")?[^>]*>/g)].reduce(
          (n, c) => n + Number(c[1] ?? 1),
          0,
        );
      const header = width(rows[0]!);
      for (const row of rows.slice(1)) expect(width(row), row.slice(0, 80)).toBe(header);
    }
  });

  it("escapes every string that came from data", () => {
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<b>bold");
    expect(html).toContain("Payment | Request &lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("acquirer &quot;Bank, Ltd&quot; outage");
  });

  it("notes flagged categories in the summary section and flagged incidents under their row", () => {
    const summary = html.slice(html.indexOf('id="summary"'), html.indexOf('id="charts"'));
    expect(summary).toContain('<div class="notes">');
    expect(summary).toContain(
      "<code>payment_request</code>: 12 answers looked like an edge block (403 without Klarna&#39;s error body)",
    );
    const incidents = html.slice(html.indexOf('id="incidents"'), html.indexOf('id="coverage"'));
    expect(incidents).toContain(
      '<div class="note">Of its failures, 2 responses broke off after the headers arrived (timeout ×2)',
    );
  });

  it("is self-contained: no URL it could fetch, only the SVG namespace", () => {
    // The targets' base URLs are shown as text in the context list; nothing else may hold a URL.
    const context = /<dl class="context">.*?<\/dl>/s.exec(html)?.[0] ?? "";
    expect(context).toContain("<dd>klarna https://api.klarna.com</dd>");
    const urls = [...html.replace(context, "").matchAll(/(?:https?:)?\/\/[\w.-]+[^\s"'<)]*/g)].map(
      (m) => m[0],
    );
    expect(new Set(urls)).toEqual(new Set(["http://www.w3.org/2000/svg"]));
    expect(html).not.toMatch(/<link|@import|url\(|<img|<iframe/);
  });

  it("draws the three charts with a point per day that had traffic", () => {
    for (const chart of ["availability", "latency", "timeline"])
      expect(html).toContain(`data-chart="${chart}"`);
    const availability = html.slice(
      html.indexOf('data-chart="availability"'),
      html.indexOf('data-chart="latency"'),
    );
    expect(availability.match(/<circle class="point/g)).toHaveLength(56);
    expect(availability.match(/<circle class="point miss"/g)).toHaveLength(1);
  });
});

describe("HTML charts at the edges", () => {
  it("a month without traffic draws empty panels saying so, with no NaN anywhere", () => {
    const report = sampleReport();
    const empty = {
      ...report,
      daily: report.daily.map((d) => ({
        ...d,
        requests: 0,
        served: 0,
        availability_pct: null,
        latency_p99_ms: null,
      })),
      incidents: [],
    };
    const html = renderHtml(empty);
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
    expect(html.match(/>no traffic</g)).toHaveLength(2 * 3);
  });

  it("p99 spanning more than 40x switches to a log scale with decade ticks", () => {
    const html = renderHtml(sampleReport());
    const latency = html.slice(html.indexOf('data-chart="latency"'), html.indexOf('data-chart="timeline"'));
    const panel = latency.slice(
      latency.indexOf('data-category="payment_request"'),
      latency.indexOf('data-category="settlements"'),
    );
    // 120 ms on most days and 10 s on one: ticks at powers of ten.
    for (const tick of [">100 ms<", ">1 s<", ">10 s<"]) expect(panel).toContain(tick);
    expect(latency).not.toMatch(/NaN/);
  });
});

describe("durations read at a glance", () => {
  it.each([
    [45_000, "45 s"],
    [300_000, "5 min"],
    [750_000, "12 min 30 s"],
    [3 * 3_600_000 + 5 * 60_000, "3 h 05 min"],
    [52 * 3_600_000, "2 d 4 h"],
  ])("%d ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
