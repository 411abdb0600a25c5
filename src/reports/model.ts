/**
 * The monthly SLA evidence report as data: the JSON form of contract section 4 (snake_case, full
 * precision) plus keys beyond it. Every renderer reads only this; nothing here does I/O.
 */

/** An instant as ISO-8601 UTC with milliseconds. */
export type IsoInstant = string;

export interface ReportPeriod {
  readonly start: IsoInstant;
  readonly end: IsoInstant;
}

export interface CategoryRow {
  readonly category: string;
  readonly title: string;
  readonly service_class: string;
  readonly requests: number;
  readonly successful: number;
  readonly excluded: number;
  readonly availability_pct: number | null;
  readonly availability_target_pct: number;
  readonly availability_met: boolean | null;
  readonly latency_p99_ms: number | null;
  readonly latency_objective_ms: number;
  readonly latency_met: boolean | null;
  readonly error_budget_requests: number | null;
  readonly error_budget_used_ratio: number | null;
}

export interface ServiceClassRow {
  readonly service_class: string;
  readonly title: string;
  readonly requests: number;
  readonly successful: number;
  readonly availability_pct: number | null;
  readonly availability_target_pct: number;
  readonly availability_met: boolean | null;
}

export type WindowReason = "late_notice" | "occasion_cap" | "hours_cap";

export interface MaintenanceRow {
  readonly id: string;
  readonly start: IsoInstant;
  readonly end: IsoInstant;
  readonly announced_at: IsoInstant;
  readonly categories: readonly string[];
  readonly qualified: boolean;
  readonly qualified_hours: number;
  readonly reason: WindowReason | null;
}

export interface MaintenanceSection {
  readonly windows: readonly MaintenanceRow[];
  readonly year_occasions_used: number;
  readonly year_hours_used: number;
  /** The configured policy the windows were judged by. */
  readonly policy: MaintenancePolicyRow;
}

export interface MaintenancePolicyRow {
  readonly min_notice_days: number;
  readonly max_occasions_per_year: number;
  readonly max_hours_per_year: number;
}

export interface ExclusionRow {
  readonly id: string;
  readonly start: IsoInstant;
  readonly end: IsoInstant;
  readonly reason: string;
  readonly categories: readonly string[];
}

export interface Coverage {
  readonly expected_probes: number;
  readonly recorded_probes: number;
  /** recorded / expected; null when no probe was expected. */
  readonly ratio: number | null;
}

export interface Evidence {
  readonly records: number;
  readonly sha256: string;
}

/** One category over one UTC day (the CSV rows and the charts). */
export interface DailyRow {
  readonly date: string;
  readonly category: string;
  readonly service_class: string;
  readonly requests: number;
  readonly served: number;
  readonly excluded: number;
  readonly availability_pct: number | null;
  readonly latency_p99_ms: number | null;
}

export interface CountedCode {
  readonly code: string;
  readonly count: number;
}

/** A contiguous failure period of one category: what the provider's support desk asks for. */
export interface Incident {
  readonly category: string;
  readonly start: IsoInstant;
  /** When a served request showed recovery, else the end of the last failed request. */
  readonly end: IsoInstant;
  readonly duration_ms: number;
  readonly recovered: boolean;
  /** Non-excluded requests from start to end, failed or not. */
  readonly requests: number;
  readonly failed_requests: number;
  /** How the requests failed: status codes ("503") and failure reasons ("timeout"), most frequent first. */
  readonly failures: readonly CountedCode[];
  /** The provider's error codes seen in the failed responses, most frequent first. */
  readonly error_codes: readonly CountedCode[];
  /** The provider's correlation ids of the failed requests, in time order. */
  readonly correlation_ids: readonly string[];
}

export interface UnmonitoredInterval {
  readonly start: IsoInstant;
  readonly end: IsoInstant;
}

export interface ReportSummary {
  readonly objectives_met: boolean | null;
  /** "category:availability" / "category:latency" / "class:availability" for every objective missed. */
  readonly missed: readonly string[];
}

export interface MonthlyReport {
  readonly month: string;
  readonly generated_at: IsoInstant;
  readonly period: ReportPeriod;
  readonly categories: readonly CategoryRow[];
  readonly service_classes: readonly ServiceClassRow[];
  readonly maintenance: MaintenanceSection;
  readonly exclusions: readonly ExclusionRow[];
  readonly coverage: Coverage;
  readonly evidence: Evidence;
  readonly summary: ReportSummary;
  readonly incidents: readonly Incident[];
  readonly unmonitored: readonly UnmonitoredInterval[];
  readonly daily: readonly DailyRow[];
}

/** Every objective the report shows as missed, in report order. */
export function missedObjectives(
  categories: readonly CategoryRow[],
  classes: readonly ServiceClassRow[],
): string[] {
  const missed: string[] = [];
  for (const c of categories) {
    if (c.availability_met === false) missed.push(`${c.category}:availability`);
    if (c.latency_met === false) missed.push(`${c.category}:latency`);
  }
  for (const s of classes) {
    if (s.availability_met === false) missed.push(`${s.service_class}:availability`);
  }
  return missed;
}
