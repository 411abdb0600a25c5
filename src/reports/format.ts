/**
 * Display forms shared by the Markdown and HTML renderers. Rounding happens here and only here:
 * the JSON and CSV forms keep full precision.
 */
import type { CategoryRow, MonthlyReport, ServiceClassRow } from "./model.js";

const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** "2026-10" -> "October 2026". */
export function monthTitle(month: string): string {
  const [year, index] = month.split("-");
  return `${MONTH_NAMES[Number(index) - 1] ?? month} ${year}`;
}

/** Availability to 3 decimals, e.g. "99.910%"; an em dash for no traffic. */
export function formatPct(value: number | null, decimals = 3): string {
  return value === null ? "—" : `${value.toFixed(decimals)}%`;
}

/** A target such as 99 or 99.5, with at least one decimal. */
export function formatTarget(value: number): string {
  return `${Number.isInteger(value) ? value.toFixed(1) : String(value)}%`;
}

/** p99 to 1 decimal with its unit; an em dash for no responded request. */
export function formatMs(value: number | null): string {
  return value === null ? "—" : `${value.toFixed(1)} ms`;
}

export function formatRatio(value: number | null, decimals = 1): string {
  return value === null ? "—" : `${(value * 100).toFixed(decimals)}%`;
}

export function formatCount(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** "1 occasion", "2 occasions": a count with its noun in the right number. */
export function counted(value: number, noun: string, plural = `${noun}s`): string {
  return `${formatCount(value)} ${value === 1 ? noun : plural}`;
}

/** Requests an interval excluded; unknown (a dash) when the figures came from rollups. */
export function formatExcluded(count: number | null): string {
  return count === null ? "—" : formatCount(count);
}

export function formatHours(hours: number): string {
  return `${Number(hours.toFixed(2))} h`;
}

/** "2026-10-10T01:00:00.000Z" -> "2026-10-10 01:00:00" (UTC is stated once per document). */
export function formatInstant(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d{3}Z$/, "");
}

/** A length of time a person reads at a glance: "45 s", "12 min 30 s", "3 h 05 min", "2 d 4 h". */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 === 0 ? `${minutes} min` : `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export type Verdict = "met" | "missed" | "no data";

export function verdictOf(...flags: readonly (boolean | null)[]): Verdict {
  if (flags.some((f) => f === false)) return "missed";
  if (flags.every((f) => f === null)) return "no data";
  return "met";
}

/** What a category missed, for the summary: "availability", "latency", or both. */
export function missedParts(row: CategoryRow): string[] {
  const parts: string[] = [];
  if (row.availability_met === false) parts.push("availability");
  if (row.latency_met === false) parts.push("latency");
  return parts;
}

export function categoryVerdict(row: CategoryRow): Verdict {
  return verdictOf(row.availability_met, row.latency_met);
}

export function classVerdict(row: ServiceClassRow): Verdict {
  return verdictOf(row.availability_met);
}

/** The one-line headline of a report. */
export function headline(missed: readonly string[], met: boolean | null): string {
  if (met === null) return "No traffic was recorded for this month.";
  if (missed.length === 0) return "All objectives were met.";
  return `${counted(missed.length, "objective")} ${missed.length === 1 ? "was" : "were"} missed.`;
}

/** Correlation ids shown in the documents people read; the JSON form keeps all of them. */
export const SHOWN_CORRELATION_IDS = 20;

export function coverageSentence(report: MonthlyReport): string {
  const c = report.coverage;
  return `${counted(c.recorded_probes, "probe result")} recorded of ${formatCount(c.expected_probes)} the configured schedules call for (${formatRatio(c.ratio)}).`;
}

const REASON_TEXT: Record<string, string> = {
  cancelled: "cancelled by the provider (never counted)",
  late_notice: "announced too late",
  occasion_cap: "over the yearly occasion cap",
  hours_cap: "cut by the yearly hours cap",
};

/** Why a maintenance window does not (fully) qualify, in words. */
export function reasonText(reason: string): string {
  return REASON_TEXT[reason] ?? reason;
}
