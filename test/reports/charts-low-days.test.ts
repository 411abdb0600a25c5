import { describe, expect, it } from "vitest";
import { AVAILABILITY_CHART, dailySeriesSvg, LATENCY_CHART } from "../../src/reports/charts.js";
import type { DailyRow, MonthlyReport } from "../../src/reports/model.js";
import { sampleReport } from "./sample-report.js";

/**
 * Very low days stay visible on the daily charts: read back from the SVG's geometry, a day at
 * 40 % among 99.9 % days sits on the plot's floor with its figure printed inside its panel (also
 * on the last day, at the panel's right edge), and a day with a handful of requests is drawn,
 * hollow, never left out. Checked for 3 categories (3 panels a row) and 13 (5 smaller ones a row).
 */

const PAD_TOP = 24;
const PAD_BOTTOM = 22;

interface Circle {
  date: string;
  cx: number;
  cy: number;
  r: number;
  css: string;
}

function attr(tag: string, name: string): string {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)![1]!;
}

/** The panel group of one category, with its circles and off-scale labels. */
function panelOf(svg: string, category: string) {
  const start = svg.indexOf(`<g class="panel" data-category="${category}">`);
  const body = svg.slice(start, svg.indexOf("</g>", start));
  const circles: Circle[] = [...body.matchAll(/<circle [^>]*>/g)].map(([tag]) => ({
    date: attr(tag, "data-date"),
    cx: Number(attr(tag, "cx")),
    cy: Number(attr(tag, "cy")),
    r: Number(attr(tag, "r")),
    css: attr(tag, "class"),
  }));
  const labels = [...body.matchAll(/<text ([^>]*class="tick off-scale"[^>]*)>([^<]*)<\/text>/g)].map(
    ([, attrs, text]) => ({
      x: Number(attr(` ${attrs}`, "x")),
      y: Number(attr(` ${attrs}`, "y")),
      end: attrs!.includes('text-anchor="end"'),
      text: text!,
    }),
  );
  return { body, circles, labels };
}

function day(date: string, category: string, requests: number, served: number): DailyRow {
  return {
    date,
    category,
    service_class: "transaction_critical",
    requests,
    served,
    excluded: 0,
    availability_pct: requests === 0 ? null : (served / requests) * 100,
    latency_p99_ms: requests === 0 ? null : 120,
    measured_availability_pct: null,
    merchant_side_excluded_minutes: 0,
  };
}

/** February with `count` categories: 99.9 % days, a 40 % day on the 10th and on the 28th (the last), 3 requests on the 20th. */
function lowDays(count: number): MonthlyReport {
  const base = sampleReport();
  const categories = Array.from({ length: count }, (_, i) => ({
    ...base.categories[0]!,
    category: `cat_${i}`,
    title: `Category ${i}`,
  }));
  const daily = categories.flatMap((c) =>
    Array.from({ length: 28 }, (_, i) => {
      const date = `2026-02-${String(i + 1).padStart(2, "0")}`;
      if (i + 1 === 10 || i + 1 === 28) return day(date, c.category, 1000, 400);
      if (i + 1 === 20) return day(date, c.category, 3, 3);
      return day(date, c.category, 1000, 999);
    }),
  );
  return { ...base, categories, daily };
}

describe.each([
  [3, 3, 320, 150],
  [13, 5, 200, 106],
])("daily charts of %i categories (%i panels a row)", (count, columns, width, height) => {
  const report = lowDays(count);
  const svg = dailySeriesSvg(AVAILABILITY_CHART, report);
  // The last panel: rightmost column for 3, a first-column panel in the last row for 13.
  const cases = [0, columns - 1, count - 1];

  it.each(cases)(
    "panel %i: a day at 40 percent sits on the plot's floor, drawn, with its figure inside the panel",
    (i) => {
      const { circles, labels } = panelOf(svg, `cat_${i}`);
      const left = (i % columns) * width;
      const floor = Math.floor(i / columns) * height + height - PAD_BOTTOM;
      for (const date of ["2026-02-10", "2026-02-28"]) {
        const point = circles.find((c) => c.date === date)!;
        expect(point.css).toContain("miss");
        expect(point.r).toBeGreaterThanOrEqual(3);
        expect(point.cy).toBe(floor);
      }
      expect(labels.map((l) => l.text)).toEqual(["40.0%", "40.0%"]);
      for (const label of labels) {
        // A label anchored at its end runs leftwards from x; else rightwards, about 6 px a character.
        const from = label.end ? label.x - 6 * label.text.length : label.x;
        const to = label.end ? label.x : label.x + 6 * label.text.length;
        expect(from).toBeGreaterThanOrEqual(left);
        expect(to).toBeLessThanOrEqual(left + width);
        expect(label.y).toBeGreaterThan(Math.floor(i / columns) * height + PAD_TOP);
        expect(label.y).toBeLessThanOrEqual(floor);
      }
    },
  );

  it("a day of 3 requests is drawn, hollow, inside the plot; the usual days are not hollow", () => {
    const { circles, body } = panelOf(svg, "cat_0");
    expect(circles).toHaveLength(28);
    const sparse = circles.filter((c) => c.css.includes("sparse"));
    expect(sparse.map((c) => c.date)).toEqual(["2026-02-20"]);
    expect(sparse[0]!.r).toBeGreaterThanOrEqual(3);
    expect(sparse[0]!.cy).toBeGreaterThanOrEqual(PAD_TOP);
    expect(body).toContain("Category 0 2026-02-20: 100.000% (3 requests)");
    const latency = panelOf(dailySeriesSvg(LATENCY_CHART, report), "cat_0");
    expect(latency.circles.find((c) => c.date === "2026-02-20")!.css).toContain("sparse");
  });

  it("the chart is as wide as its panels and has no NaN", () => {
    expect(svg).toContain(`viewBox="0 0 ${columns * width} ${Math.ceil(count / columns) * height}"`);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});
