import type { DailyRow, MonthlyReport } from "./model.js";

const COLUMNS = [
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
] as const satisfies readonly (keyof DailyRow)[];

/** The day's merchant requests (contract section 19), only in reports of agents with traffic: configured. */
const TRAFFIC_COLUMNS = ["requests", "successful", "availability_pct", "latency_p99_ms"] as const;

/** RFC 4180: a field holding a comma, a quote or a line break is quoted, its quotes doubled. */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * One row per category per UTC day that has begun when the report was generated, full precision;
 * an empty cell where a figure is null. Days still to come have no row: an empty row for them
 * reads in a spreadsheet like a day with no traffic.
 */
export function renderCsv(report: MonthlyReport): string {
  // Unverified evidence: every row says so in a last column, so no spreadsheet loses the stamp.
  const stamp = report.evidence.verified === false ? ",UNVERIFIED" : "";
  // Warnings likewise: a last column on every row (src/reports/warnings.ts).
  const warned = report.warnings?.length ? `,${csvField(report.warnings.join(" | "))}` : "";
  const traffic = report.categories.some((c) => c.traffic !== undefined);
  const head = [...COLUMNS, ...(traffic ? TRAFFIC_COLUMNS.map((c) => `traffic_${c}`) : [])];
  const lines = [`${head.join(",")}${stamp === "" ? "" : ",evidence"}${warned === "" ? "" : ",warnings"}`];
  const today = report.generated_at.slice(0, 10);
  for (const row of report.daily.filter((r) => r.date <= today)) {
    const cells = COLUMNS.map((c) => csvField(row[c]));
    if (traffic) cells.push(...TRAFFIC_COLUMNS.map((c) => csvField(row.traffic?.[c] ?? null)));
    lines.push(`${cells.join(",")}${stamp}${warned}`);
  }
  return `${lines.join("\r\n")}\r\n`;
}
