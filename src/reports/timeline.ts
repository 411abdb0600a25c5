import { formatDuration, formatInstant } from "./format.js";
import type { MonthlyReport } from "./model.js";
import { daysInPeriod, escapeXml, n, PALETTE } from "./svg.js";

const WIDTH = 960;
/** The row labels' column: at least this wide, and wide enough for the longest title up to the cap. */
const MIN_LABEL = 150;
const MAX_LABEL = 300;
/** The width of one character of an 11 px row label, generously (bold-ish capitals included). */
const LABEL_CHAR_PX = 6.6;
const ROW = 20;
const TOP = 26;
const LEGEND = 34;

interface Bar {
  readonly kind: "maintenance" | "maintenance-unqualified" | "exclusion" | "incident" | "unmonitored";
  readonly start: number;
  readonly end: number;
  readonly label: string;
}

const COLOURS: Record<Bar["kind"], string> = {
  maintenance: PALETTE.maintenance,
  "maintenance-unqualified": PALETTE.maintenanceUnqualified,
  exclusion: PALETTE.exclusion,
  incident: PALETTE.incident,
  unmonitored: PALETTE.unmonitored,
};

const LEGEND_TEXT: readonly [Bar["kind"], string][] = [
  ["incident", "failure period"],
  ["maintenance", "qualifying maintenance"],
  ["maintenance-unqualified", "maintenance that counts as normal time"],
  ["exclusion", "declared exclusion"],
  ["unmonitored", "no result recorded"],
];

function covers(categories: readonly string[], category: string): boolean {
  return categories.includes("all") || categories.includes(category);
}

function barsOf(report: MonthlyReport, category: string): Bar[] {
  const bars: Bar[] = [];
  for (const w of report.maintenance.windows) {
    if (!covers(w.categories, category)) continue;
    const start = Date.parse(w.start);
    const end = Date.parse(w.end);
    const cut = Math.min(end, start + w.qualified_hours * 3_600_000);
    const what = `maintenance ${w.id}: ${formatInstant(w.start)} to ${formatInstant(w.end)}`;
    if (cut > start) bars.push({ kind: "maintenance", start, end: cut, label: `${what} (qualifies)` });
    if (end > cut) {
      bars.push({
        kind: "maintenance-unqualified",
        start: cut,
        end,
        label: `${what} (${w.reason ?? "not qualified"})`,
      });
    }
  }
  for (const e of report.exclusions) {
    if (!covers(e.categories, category)) continue;
    const label = `exclusion ${e.id}: ${e.reason}`;
    bars.push({ kind: "exclusion", start: Date.parse(e.start), end: Date.parse(e.end), label });
  }
  for (const i of report.incidents.filter((x) => x.category === category)) {
    const label = `failure ${formatInstant(i.start)}, ${formatDuration(i.duration_ms)}, ${i.failed_requests} failed requests`;
    bars.push({ kind: "incident", start: Date.parse(i.start), end: Date.parse(i.end), label });
  }
  return bars;
}

function barSvg(bar: Bar, y: number, x: (t: number) => number): string {
  const x1 = x(bar.start);
  // A five-minute outage is a fraction of a pixel at month scale: keep it visible.
  const width = Math.max(3, x(bar.end) - x1);
  // Failures are drawn thin on top of the (taller) windows they fall in, so both stay visible.
  const inset = bar.kind === "incident" ? 6 : 2;
  return `<rect class="event ${bar.kind}" x="${n(x1)}" y="${n(y + inset)}" width="${n(width)}" height="${n(ROW - 2 * inset)}" fill="${COLOURS[bar.kind]}"><title>${escapeXml(bar.label)}</title></rect>`;
}

/** One row per category across the month: maintenance, exclusions and failure periods, plus stretches with no data. */
export function timelineSvg(report: MonthlyReport): string {
  const from = Date.parse(report.period.start);
  const to = Date.parse(report.period.end);
  const days = daysInPeriod(report.period.start, report.period.end);
  const rows = [
    ...report.categories.map((c) => ({ title: c.title, bars: barsOf(report, c.category) })),
    {
      title: "No result recorded",
      bars: report.data_gaps.map((u) => ({
        kind: "unmonitored" as const,
        start: Date.parse(u.start),
        end: Date.parse(u.end),
        label: `no result recorded: ${formatInstant(u.start)} to ${formatInstant(u.end)}`,
      })),
    },
  ];
  const label = labelColumn(rows.map((r) => r.title));
  const x = (t: number) =>
    label.width + ((Math.min(Math.max(t, from), to) - from) / (to - from)) * (WIDTH - label.width - 8);
  const height = TOP + rows.length * ROW + LEGEND;
  const parts = [
    `<svg class="chart" data-chart="timeline" role="img" aria-label="Maintenance and incident timeline" viewBox="0 0 ${WIDTH} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">`,
  ];
  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    if (i % 2 === 0) parts.push(`<rect x="0" y="${y}" width="${WIDTH}" height="${ROW}" fill="#f7f9fb"/>`);
    parts.push(
      `<text x="6" y="${n(y + ROW / 2 + 4)}" class="row-label">${escapeXml(label.fit(row.title))}<title>${escapeXml(row.title)}</title></text>`,
    );
  });
  for (let day = 1; day <= days; day++) {
    const dx = x(from + (day - 1) * 86_400_000);
    parts.push(
      `<line x1="${n(dx)}" x2="${n(dx)}" y1="${TOP - 4}" y2="${TOP + rows.length * ROW}" stroke="${PALETTE.grid}"/>`,
    );
    if (day === 1 || day % 5 === 0) {
      parts.push(`<text x="${n(dx + 2)}" y="${TOP - 8}" class="tick">${day}</text>`);
    }
  }
  rows.forEach((row, i) => {
    for (const bar of row.bars) parts.push(barSvg(bar, TOP + i * ROW, x));
  });
  const legendY = TOP + rows.length * ROW + 20;
  let lx = label.width;
  for (const [kind, text] of LEGEND_TEXT) {
    parts.push(
      `<rect x="${lx}" y="${legendY - 9}" width="12" height="10" fill="${COLOURS[kind]}"/><text x="${lx + 16}" y="${legendY}" class="tick">${text}</text>`,
    );
    lx += 32 + text.length * 5.6;
  }
  parts.push("</svg>");
  return parts.join("\n");
}

/** A label column as wide as the longest title needs (within bounds); a title longer than the cap is shortened with "…". */
function labelColumn(titles: readonly string[]): { width: number; fit: (title: string) => string } {
  const longest = Math.max(0, ...titles.map((t) => t.length));
  const width = Math.min(MAX_LABEL, Math.max(MIN_LABEL, Math.ceil(12 + longest * LABEL_CHAR_PX)));
  const chars = Math.floor((width - 12) / LABEL_CHAR_PX);
  return { width, fit: (title) => (title.length <= chars ? title : `${title.slice(0, chars - 1)}…`) };
}
