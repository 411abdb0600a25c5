/**
 * What the Markdown and HTML forms both say, in the same words: their sentences and what they
 * choose to list. Each form adds only its own markup (and escaping) around these.
 */

import type { MeasurementProblemFigures } from "../slo/index.js";
import { classificationNotes } from "./classification.js";
import {
  categoryVerdict,
  classVerdict,
  counted,
  formatCount,
  formatDuration,
  formatExcluded,
  formatHours,
  formatInstant,
  formatMs,
  formatPct,
  formatRatio,
  formatTarget,
  missedParts,
  monthTitle,
  reasonText,
  SHOWN_CORRELATION_IDS,
} from "./format.js";
import type {
  AutomaticExclusionRow,
  CategoryRow,
  CountedCode,
  ExclusionRow,
  Incident,
  LatencyIncident,
  MaintenanceRow,
  MonthlyReport,
  ServiceClassRow,
} from "./model.js";

export const NO_WINDOWS = "No maintenance windows in this month.";
export const NO_EXCLUSIONS = "No declared exclusions in this month.";
export const NO_FAILURE_PERIODS = "No failure periods: every request was served.";
export const CLASS_POOLING = "A class's availability pools the requests of all its categories.";

/** CLASS_POOLING, or which categories each class pools when `--category` left some out. */
export function classPooling(report: MonthlyReport): string {
  const narrowed = report.service_classes.filter((s) => s.pooled_categories);
  if (narrowed.length === 0) return CLASS_POOLING;
  const pools = narrowed.map((s) => `${s.service_class} pools only ${s.pooled_categories?.join(", ")}`);
  return `Narrowed by --category: ${pools.join("; ")}, not all its categories; these are not the classes' SLA figures.`;
}
export const GAPS_INTRO = "Stretches with no recorded result at all:";
export const UNMONITORED_INTRO = "Time the agent was not running:";
export const IMPORTED_ONLY = "No agent run was recorded in this month: its results were imported.";
export const NOT_RECOVERED = " (no recovery seen)";
export const NOTES_INTRO = "Before escalating, note what the probes saw:";

/** The classification notes of every category that has any, in report order. */
export function categoryNotes(report: MonthlyReport): { row: CategoryRow; note: string }[] {
  return report.categories.flatMap((row) => classificationNotes(row).map((note) => ({ row, note })));
}

/** The notes on an incident's failed requests; empty when nothing was flagged. */
export function incidentNotes(incident: Incident): string[] {
  return classificationNotes(incident).map((note) => `Of its failures, ${note}`);
}

/** Who measured what, as label and value pairs (contract section 10's context). */
export function contextPairs(report: MonthlyReport): [string, string][] {
  const c = report.context;
  return [
    ["Provider", c.provider],
    ["Region", c.region],
    ["Measured by", `${c.agent ?? "an slo-agent"} (slo-agent ${c.agent_version})`],
    ["Targets", c.targets.map((t) => `${t.id} ${t.base_url}`).join(", ") || "none"],
    ...(c.max_stall_ms === undefined
      ? []
      : ([["Stall guard (agent.max_stall_ms)", c.max_stall_ms.map((ms) => `${ms} ms`).join(", then ")]] as [
          string,
          string,
        ][])),
  ];
}

/** The banner of a report whose figures may still change; null for a final one. */
export function preliminarySentence(report: MonthlyReport): string | null {
  if (!report.preliminary) return null;
  return `PRELIMINARY: ${report.preliminary_reasons.join(" and ")}; these figures may still change.`;
}

/** Whether any service credit tiers were configured (then the class tables show the credit). */
export function showsCredits(report: MonthlyReport): boolean {
  return report.service_classes.some((s) => s.credit_pct !== null);
}

export function creditText(credit: number | null): string {
  return credit === null ? "—" : `${formatCount(credit)}%`;
}

export function periodSentence(report: MonthlyReport): string {
  return `Period ${formatInstant(report.period.start)} to ${formatInstant(report.period.end)} UTC`;
}

export function policySentence(report: MonthlyReport): string {
  const { policy, year_occasions_used, year_hours_used } = report.maintenance;
  return (
    `Policy: at least ${counted(policy.min_notice_days, "day's", "days'")} notice, at most ${counted(policy.max_occasions_per_year, "occasion")} and ${formatHours(policy.max_hours_per_year)} per year. ` +
    `Used from January 1 to the end of ${monthTitle(report.month)}: ${counted(year_occasions_used, "occasion")}, ${formatHours(year_hours_used)}.`
  );
}

/** A missed category's figures against its objectives, above its incidents. */
export function objectiveSentence(c: CategoryRow): string {
  return `Availability ${formatPct(c.availability_pct)} against ${formatTarget(c.availability_target_pct)}; p99 ${formatMs(c.latency_p99_ms)} against ${formatCount(c.latency_objective_ms)} ms.`;
}

/**
 * At most this many incidents (and slow hours) of a category that missed an objective in Markdown
 * and HTML, the worst first, and SHOWN_INCIDENTS_MET of one that met them; the JSON has all.
 * Together they keep a 13-category month's PDF within 6 pages.
 */
export const SHOWN_INCIDENTS = 5;
export const SHOWN_INCIDENTS_MET = 3;
export const INCIDENTS_INTRO =
  "Failure periods of every category that had any, worst first (most failed requests, then the longest); hours whose p99 exceeded the objective for every latency miss.";
export const NO_INCIDENTS = "No failure periods in any category, and no latency objective missed.";
export const NO_SLOW_HOURS = "No single hour's p99 exceeded the objective.";

export interface CategoryIncidents {
  readonly row: CategoryRow;
  /** The worst first, at most SHOWN_INCIDENTS. */
  readonly incidents: readonly Incident[];
  /** Incidents left to the JSON form. */
  readonly more: number;
  /** Hours over the latency objective (only for a latency miss), the slowest first, at most SHOWN_INCIDENTS. */
  readonly slowHours: readonly LatencyIncident[];
  /** Slow hours left to the JSON form. */
  readonly moreSlowHours: number;
}

/** By impact: most failed requests, then the longest, then the earliest. */
export function byImpact(a: Incident, b: Incident): number {
  return (
    b.failed_requests - a.failed_requests || b.duration_ms - a.duration_ms || (a.start < b.start ? -1 : 1)
  );
}

/** Every category with a failure period or a miss, in report order, its incidents ranked by impact. */
export function incidentsByCategory(report: MonthlyReport): CategoryIncidents[] {
  return report.categories
    .map((row) => {
      const own = report.incidents.filter((i) => i.category === row.category).sort(byImpact);
      const slow = report.latency_incidents
        .filter((l) => l.category === row.category)
        .sort((a, b) => b.p99_ms - a.p99_ms || (a.start < b.start ? -1 : 1));
      const shown = categoryVerdict(row) === "missed" ? SHOWN_INCIDENTS : SHOWN_INCIDENTS_MET;
      return {
        row,
        incidents: own.slice(0, shown),
        more: Math.max(0, own.length - shown),
        slowHours: slow.slice(0, SHOWN_INCIDENTS),
        moreSlowHours: Math.max(0, slow.length - SHOWN_INCIDENTS),
      };
    })
    .filter((c) => c.incidents.length > 0 || categoryVerdict(c.row) === "missed");
}

/** A category's verdict and figures above its incidents. */
export function categoryIncidentSentence(c: CategoryRow): string {
  const verdict =
    categoryVerdict(c) === "missed" ? `Missed (${missedParts(c).join(", ")})` : "Met its objectives";
  return `${verdict}. ${objectiveSentence(c)}`;
}

export function moreIncidentsSentence(more: number): string {
  return `${counted(more, "further failure period")} with less impact ${more === 1 ? "is" : "are"} listed in the JSON form.`;
}

export function slowHoursIntro(c: CategoryRow, shown: number, more: number): string {
  const which = more > 0 ? `The ${shown} slowest of ${more + shown} hours` : "Hours";
  const rest = more > 0 ? " (the JSON form lists them all)" : "";
  return `${which} whose p99 exceeded ${formatCount(c.latency_objective_ms)} ms${rest}:`;
}

export function slowHourTexts(l: LatencyIncident) {
  return {
    start: formatInstant(l.start),
    end: formatInstant(l.end),
    p99: formatMs(l.p99_ms),
    requests: formatCount(l.requests),
  };
}

/** The correlation ids a document shows, and a note for the rest. */
export function shownCorrelationIds(incident: Incident): { shown: string[]; rest: string | null } {
  const shown = incident.correlation_ids.slice(0, SHOWN_CORRELATION_IDS);
  const more = incident.correlation_ids.length - shown.length;
  return { shown, rest: more > 0 ? `and ${more} more (JSON form)` : null };
}

export function failedOfRequests(incident: Incident): string {
  return `${formatCount(incident.failed_requests)} / ${formatCount(incident.requests)}`;
}

/** "503 ×12"; `code` is the code already made safe for the document. */
export function countedText(counted: CountedCode, code = counted.code): string {
  return `${code} ×${counted.count}`;
}

export function spanOf(interval: { readonly start: string; readonly end: string }): string {
  return formatDuration(Date.parse(interval.end) - Date.parse(interval.start));
}

export function intervalText(interval: { readonly start: string; readonly end: string }): string {
  return `${formatInstant(interval.start)} to ${formatInstant(interval.end)} (${spanOf(interval)})`;
}

export function evidenceSentence(report: MonthlyReport): string {
  return `${counted(report.evidence.records, "record")} in the evidence log for this month; digest of their content (SHA-256):`;
}

/** The line above the report's own digest (contract section 13), signed or not. */
export function reportDigestSentence(report: MonthlyReport): string {
  return report.report_signature
    ? `This report's JSON form is signed whole by agent key ${report.report_signature.key_id}; its digest (SHA-256 of its RFC 8785 bytes without report_signature, checked by slo-agent verify --report FILE.json):`
    : "Digest of this report's JSON form (SHA-256 of its RFC 8785 bytes; the report is not signed):";
}

export function verifyCommand(report: MonthlyReport): string {
  return `slo-agent verify --month ${report.month}`;
}

/** A category's summary figures as both documents show them. */
export function categoryTexts(c: CategoryRow) {
  return {
    availability: formatPct(c.availability_pct),
    measured: formatPct(c.measured_availability_pct),
    target: formatTarget(c.availability_target_pct),
    p99: formatMs(c.latency_p99_ms),
    objective: `${formatCount(c.latency_objective_ms)} ms`,
    requests: formatCount(c.requests),
    excluded: formatCount(c.excluded),
    budgetUsed: formatRatio(c.error_budget_used_ratio),
    verdict: categoryVerdict(c),
    missed: missedParts(c).join(", "),
  };
}

export function classTexts(s: ServiceClassRow) {
  return {
    requests: formatCount(s.requests),
    served: formatCount(s.successful),
    availability: formatPct(s.availability_pct),
    target: formatTarget(s.availability_target_pct),
    verdict: classVerdict(s),
  };
}

export function windowTexts(w: MaintenanceRow) {
  return {
    start: formatInstant(w.start),
    end: formatInstant(w.end),
    announced: formatInstant(w.announced_at),
    excludedTime: formatHours(w.qualified_hours),
    excludedRequests: formatExcluded(w.excluded_requests),
    note: [w.reason === null ? "" : reasonText(w.reason), feedNote(w)].filter((x) => x !== "").join("; "),
  };
}

/** Where the provider's announced time and the agent's first sighting of a feed window disagree. */
export function feedNote(w: MaintenanceRow): string {
  if (w.source !== "feed" || !w.announcement_disputed) return "";
  return `from the maintenance feed: the provider says announced ${formatInstant(w.provider_announced_at!)}, first seen by this agent ${formatInstant(w.first_seen_at!)}; notice counts from the first sighting`;
}

/** Said under the maintenance table when some window came from the maintenance feed. */
export const FEED_WINDOWS =
  "Windows from the maintenance feed count their notice from when this agent first saw them in the provider's status page (the notice the evidence proves), not from the provider's own announcement time; a window declared in the configuration (of its own id) can vouch for an earlier announcement.";

export function exclusionTexts(x: ExclusionRow) {
  return { span: spanOf(x), excludedRequests: formatExcluded(x.excluded_requests) };
}

/** The measurement validity section (contract section 8), in words. */
export const VALIDITY_INTRO =
  "Measured availability counts every request made; the SLA figure leaves out maintenance, declared exclusions and the automatic exclusions below (requests the evidence shows were not the provider's).";
export const NO_AUTOMATIC_EXCLUSIONS = "No request was excluded automatically.";

export function automaticEvidenceText(x: AutomaticExclusionRow): string {
  if (x.evidence.controls) {
    return x.evidence.controls
      .map(
        (c) =>
          `control ${c.control}: ${formatCount(c.failed_results)} failed (${c.errors.join(", ")}) ${formatInstant(c.first)} to ${formatInstant(c.last)}`,
      )
      .join("; ");
  }
  return (x.evidence.failures ?? []).map((f) => `${f.detail} ×${formatCount(f.requests)}`).join("; ");
}

const PROBLEM_WHAT: Record<MeasurementProblemFigures["kind"], string> = {
  auth_failed: "401/403 not expected (credentials?)",
  unexpected_status: "status outside expect",
  control_unhealthy:
    "controls were failing too but had not answered in the 10 minutes before: no witnesses, counted as the provider's (check the controls)",
  control_flapping:
    "controls were failing too but alternating between answering and failing: no witnesses, counted as the provider's (check the controls)",
  target_unreached:
    "the probe's target never answered under its configuration (a closed port, a wrong host name?): excluded, not the provider's (check the probe)",
};

/**
 * One line per window whose schedule or scope changed: each version as observed; and one per
 * declared window the agent's log first shows after its declared announced_at. A window judged
 * in parts is listed once here. Empty when no window changed.
 */
export function windowHistoryLines(
  windows: readonly {
    readonly id: string;
    readonly history: readonly {
      seen_at: string;
      start: string;
      end: string;
      categories: readonly string[];
    }[];
    readonly declared_announced_at?: string;
    readonly declared_notice?: string;
  }[],
): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const w of windows) {
    if (seen.has(w.id)) continue;
    seen.add(w.id);
    const first = w.history[0];
    if (w.declared_notice === "loaded_later" && w.declared_announced_at && first) {
      lines.push(
        `${w.id} is declared announced ${formatInstant(w.declared_announced_at)}, but this agent's log shows it announced no earlier than ${formatInstant(first.seen_at)}: its notice counts from then.`,
      );
    }
    if (w.history.length < 2) continue;
    const versions = w.history.map(
      (v) =>
        `seen ${formatInstant(v.seen_at)}: ${formatInstant(v.start)} to ${formatInstant(v.end)} (${v.categories.length > 0 ? v.categories.join(", ") : "no category: called off, deleted or left with no mapped component"})`,
    );
    lines.push(
      `${w.id} changed after it was announced; each change is judged from when it was first seen: ${versions.join("; ")}.`,
    );
  }
  return lines;
}

/** "payment_request 12.5 min, ...": each category's minutes inside merchant_side episodes. */
export function merchantSideMinutesText(
  rows: readonly { readonly category: string; readonly merchant_side_excluded_minutes: number }[],
): string {
  const list = rows.map((r) => `${r.category} ${r.merchant_side_excluded_minutes} min`).join(", ");
  return `Excluded as merchant_side (minutes inside episodes, per category): ${list || "none"}.`;
}

export function measurementProblemText(p: MeasurementProblemFigures): string {
  const what = PROBLEM_WHAT[p.kind];
  const noun =
    p.kind === "control_unhealthy" || p.kind === "control_flapping" || p.kind === "target_unreached"
      ? "failure"
      : "response";
  return `${p.kind}: ${formatCount(p.requests)} ${p.requests === 1 ? noun : `${noun}s`}, ${what}, ${formatInstant(p.first)} to ${formatInstant(p.last)}`;
}

/**
 * The summary's figures in plain words, for a reader who is not an engineer (finance, vendor
 * management): what p99 and "error budget used" mean, with the month's own worst figure.
 */
export function plainSummaryLines(report: MonthlyReport): string[] {
  const worst = [...report.categories]
    .filter((c) => c.error_budget_used_ratio !== null)
    .sort((a, b) => (b.error_budget_used_ratio ?? 0) - (a.error_budget_used_ratio ?? 0))[0];
  const used = worst?.error_budget_used_ratio ?? null;
  const example =
    worst === undefined || used === null
      ? ""
      : used > 1
        ? ` ${worst.title} used ${formatRatio(used)}: ${formatTimes(used)} as many failed requests as its SLA allows in a month, so it missed its target.`
        : ` The most any category used is ${formatRatio(used)} (${worst.title}): within what its SLA allows.`;
  return [
    "In plain words: p99 is the time within which 99 of every 100 requests were answered; only the slowest 1 in 100 took longer.",
    `Error budget used: the SLA allows a small share of requests to fail each month (1 in 100 for a 99.0 % target); 100 % means that allowance is used up.${example}`,
  ];
}

function formatTimes(ratio: number): string {
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1)} times`;
}

/** RFC 8785 in plain words, beside the signed statement and the digests. */
export const PLAIN_RFC_8785 =
  "In plain words: RFC 8785 is one fixed way of writing JSON, so the same figures always give the same bytes and the same digest; change any figure and the digest and the signature no longer match.";

/** Where the p99 figures come from (contract section 1, amended): exact, or HDR for pruned months. */
export function latencySourceLine(report: MonthlyReport): string {
  const histogram = report.categories.filter((c) => c.latency_source === "histogram").map((c) => c.category);
  const exact =
    "p99 latency is exact: the nearest-rank 99th percentile of the raw durations (timeouts at their probe's timeout)";
  if (histogram.length === 0) return `${exact}.`;
  return `${exact}, except for ${histogram.join(", ")}: their raw records were pruned, so their p99 comes from stored HDR histograms (3 significant digits).`;
}

/** The merchant requests section (contract section 19, docs/traffic.md). */
export const MERCHANT_REQUESTS_INTRO =
  "The merchant's own requests to the provider, reported by its OpenTelemetry traces (route templates only; requests its own client failed left out).";
