import type { CategoryRow, DailyRow, MonthlyReport } from "./model.js";
import { daysInPeriod, escapeXml, gridPanels, n, PALETTE, type PanelBox } from "./svg.js";

/**
 * Three panels a row up to nine categories; more (the shipped profile has 13) get five smaller
 * ones a row, so that each chart stays within half an A4 landscape page and the month prints
 * on six pages.
 */
function layoutFor(count: number): { columns: number; panel: { width: number; height: number } } {
  return count <= 9
    ? { columns: 3, panel: { width: 320, height: 150 } }
    : { columns: 5, panel: { width: 200, height: 106 } };
}
/** The width of one character of a 10 px tick label, generously. */
const TICK_CHAR_PX = 6;
const PAD = { left: 46, right: 14, top: 24, bottom: 22 };

/** Maps a value to a y coordinate inside a panel and labels the axis. */
interface Scale {
  readonly lo: number;
  readonly hi: number;
  y(value: number): number;
  readonly ticks: readonly number[];
  readonly label: (value: number) => string;
}

interface DailySeriesChart {
  readonly kind: "availability" | "latency";
  readonly title: string;
  value(row: DailyRow): number | null;
  reference(category: CategoryRow): number;
  scale(values: readonly number[], reference: number, box: PanelBox): Scale;
  /** Whether a day's value keeps to the objective. */
  good(value: number, reference: number): boolean;
}

function plotTop(box: PanelBox): number {
  return box.y + PAD.top;
}
function plotBottom(box: PanelBox): number {
  return box.y + box.height - PAD.bottom;
}

function linearScale(
  lo: number,
  hi: number,
  ticks: readonly number[],
  box: PanelBox,
  label: (v: number) => string,
): Scale {
  const top = plotTop(box);
  const bottom = plotBottom(box);
  const span = hi - lo || 1;
  return {
    lo,
    hi,
    y: (v) => bottom - ((Math.min(Math.max(v, lo), hi) - lo) / span) * (bottom - top),
    ticks: [...new Set(ticks)],
    label,
  };
}

/** Tick values whose labels do not overlap (at least 10 px apart), the reference line's first. */
function spacedTicks(scale: Scale): number[] {
  const kept: number[] = [];
  for (const t of scale.ticks) {
    if (kept.every((k) => Math.abs(scale.y(k) - scale.y(t)) >= 10)) kept.push(t);
  }
  return kept;
}

/** A round step (1, 2 or 5 times a power of ten) that cuts [0, hi] into about three parts. */
function niceStep(hi: number): number {
  const raw = hi / 3;
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
}

function logScale(lo: number, hi: number, box: PanelBox): Scale {
  const top = plotTop(box);
  const bottom = plotBottom(box);
  const [a, b] = [Math.log10(lo), Math.log10(hi)];
  const ticks: number[] = [];
  for (let e = Math.ceil(a); e <= Math.floor(b); e++) ticks.push(10 ** e);
  return {
    lo,
    hi,
    y: (v) => bottom - ((Math.log10(Math.min(Math.max(v, lo), hi)) - a) / (b - a || 1)) * (bottom - top),
    ticks,
    label: (v) => (v >= 1000 ? `${v / 1000} s` : `${v} ms`),
  };
}

export const AVAILABILITY_CHART: DailySeriesChart = {
  kind: "availability",
  title: "Daily availability against the target",
  value: (row) => row.availability_pct,
  reference: (c) => c.availability_target_pct,
  scale(values, target, box) {
    // Zoomed to the band just below 100% that matters; a worse day sits on the floor with its value.
    const floor = Math.max(0, Math.floor(target - 4));
    const lo = Math.max(floor, Math.floor(Math.min(target, ...values) - 0.5));
    return linearScale(lo, 100, [lo, target, 100], box, (v) => `${Number(v.toFixed(2))}%`);
  },
  good: (value, target) => value >= target,
};

export const LATENCY_CHART: DailySeriesChart = {
  kind: "latency",
  title: "Daily p99 latency against the objective",
  value: (row) => row.latency_p99_ms,
  reference: (c) => c.latency_objective_ms,
  scale(values, objective, box) {
    const hi = Math.max(objective, ...values) * 1.15;
    const lo = Math.min(objective, ...values.filter((v) => v > 0));
    // A slow day can be 100x the usual one: a log scale keeps both readable.
    if (hi / lo > 40) return logScale(10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi)), box);
    const step = niceStep(hi);
    const top = Math.ceil(hi / step) * step;
    const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
    return linearScale(0, top, ticks, box, (v) => (v >= 1000 ? `${v / 1000} s` : `${v} ms`));
  },
  good: (value, objective) => value <= objective,
};

/** Days with fewer requests than a tenth of the category's median day count as sparse. */
function sparseThreshold(rows: readonly DailyRow[]): number {
  const counts = rows
    .map((r) => r.requests)
    .filter((r) => r > 0)
    .sort((a, b) => a - b);
  return counts.length === 0 ? 0 : counts[Math.floor(counts.length / 2)]! / 10;
}

function panel(
  chart: DailySeriesChart,
  category: CategoryRow,
  rows: DailyRow[],
  days: number,
  box: PanelBox,
) {
  const reference = chart.reference(category);
  const values = rows.map(chart.value).filter((v): v is number => v !== null);
  const scale = chart.scale(values, reference, box);
  const left = box.x + PAD.left;
  const right = box.x + box.width - PAD.right;
  const x = (day: number) => left + ((day - 0.5) / days) * (right - left);
  const parts = [
    `<g class="panel" data-category="${escapeXml(category.category)}">`,
    `<text x="${n(box.x + 4)}" y="${n(box.y + 14)}" class="panel-title${box.width < 320 ? " compact" : ""}">${escapeXml(category.title)}</text>`,
    ...spacedTicks(scale).map(
      (t) =>
        `<line x1="${n(left)}" x2="${n(right)}" y1="${n(scale.y(t))}" y2="${n(scale.y(t))}" stroke="${PALETTE.grid}"/>` +
        `<text x="${n(left - 4)}" y="${n(scale.y(t) + 3)}" class="tick" text-anchor="end">${escapeXml(scale.label(t))}</text>`,
    ),
    `<line class="reference" x1="${n(left)}" x2="${n(right)}" y1="${n(scale.y(reference))}" y2="${n(scale.y(reference))}" stroke="${PALETTE.objective}" stroke-dasharray="5 3"/>`,
  ];
  const sparseBelow = sparseThreshold(rows);
  const points = rows
    .map((row) => ({
      day: Number(row.date.slice(8, 10)),
      value: chart.value(row),
      date: row.date,
      requests: row.requests,
    }))
    .filter((p): p is { day: number; value: number; date: string; requests: number } => p.value !== null);
  if (points.length > 1) {
    const path = points.map((p) => `${n(x(p.day))},${n(scale.y(p.value))}`).join(" ");
    parts.push(`<polyline points="${path}" fill="none" stroke="${PALETTE.series}" stroke-width="1.2"/>`);
  }
  let offScale = 0;
  for (const p of points) {
    const good = chart.good(p.value, reference);
    const shown = chart.kind === "availability" ? `${p.value.toFixed(3)}%` : `${p.value.toFixed(1)} ms`;
    const colour = good ? PALETTE.good : PALETTE.bad;
    // A day with few requests is drawn hollow, never left out: its figure rests on little evidence.
    const sparse = p.requests < sparseBelow;
    const paint = sparse ? `fill="#fff" stroke="${colour}" stroke-width="1.4"` : `fill="${colour}"`;
    const tooltip = `${category.title} ${p.date}: ${shown} (${p.requests} request${p.requests === 1 ? "" : "s"})`;
    parts.push(
      `<circle class="point${good ? "" : " miss"}${sparse ? " sparse" : ""}" data-date="${escapeXml(p.date)}" cx="${n(x(p.day))}" cy="${n(scale.y(p.value))}" r="${good && !sparse ? 2.2 : 3.2}" ${paint}><title>${escapeXml(tooltip)}</title></circle>`,
    );
    if (p.value < scale.lo || p.value > scale.hi) {
      // Off the zoomed scale: pinned to the edge, so say the real figure.
      // Staggered upwards, so that neighbouring bad days do not print over each other.
      const y = scale.y(p.value) + (p.value < scale.lo ? -6 - 11 * (offScale % 3) : 12 + 11 * (offScale % 3));
      const short = chart.kind === "availability" ? `${p.value.toFixed(1)}%` : `${Math.round(p.value)} ms`;
      // Near the panel's right edge the figure goes left of its point, so it is never cut off.
      const leftward = x(p.day) + 5 + short.length * TICK_CHAR_PX > box.x + box.width;
      const anchor = leftward ? `x="${n(x(p.day) - 5)}" text-anchor="end"` : `x="${n(x(p.day) + 5)}"`;
      parts.push(`<text ${anchor} y="${n(y)}" class="tick off-scale">${escapeXml(short)}</text>`);
      offScale += 1;
    }
  }
  if (points.length === 0) {
    parts.push(
      `<text x="${n((left + right) / 2)}" y="${n((plotTop(box) + plotBottom(box)) / 2)}" class="tick" text-anchor="middle">no traffic</text>`,
    );
  }
  for (const day of [1, 8, 15, 22, 29].filter((d) => d <= days)) {
    parts.push(
      `<text x="${n(x(day))}" y="${n(plotBottom(box) + 14)}" class="tick" text-anchor="middle">${day}</text>`,
    );
  }
  parts.push("</g>");
  return parts.join("");
}

/** Small multiples, one panel per category, each against its own objective line. */
export function dailySeriesSvg(chart: DailySeriesChart, report: MonthlyReport): string {
  const days = daysInPeriod(report.period.start, report.period.end);
  const { columns, panel: size } = layoutFor(report.categories.length);
  const boxes = gridPanels(report.categories.length, columns, size);
  const rows = Math.max(1, Math.ceil(report.categories.length / columns));
  const width = columns * size.width;
  const height = rows * size.height;
  const panels = report.categories.map((c, i) =>
    panel(
      chart,
      c,
      report.daily.filter((d) => d.category === c.category),
      days,
      boxes[i]!,
    ),
  );
  return [
    `<svg class="chart" data-chart="${chart.kind}" role="img" aria-label="${escapeXml(chart.title)}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">`,
    ...panels,
    "</svg>",
  ].join("\n");
}
