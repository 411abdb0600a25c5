import {
  categoryVerdict,
  classVerdict,
  coverageSentence,
  formatCount,
  formatDuration,
  formatExcluded,
  formatHours,
  formatInstant,
  formatMs,
  formatPct,
  formatRatio,
  formatTarget,
  headline,
  missedParts,
  monthTitle,
  reasonText,
  SHOWN_CORRELATION_IDS,
} from "./format.js";
import type { CategoryRow, Incident, MonthlyReport } from "./model.js";

/** Free text from configuration or data, made inert inside Markdown (and any HTML it is rendered to). */
export function mdText(text: string): string {
  return text
    .replace(/[\\`*_[\]|~<>]|&(?=#?\w+;)/g, (c) =>
      c === "<" ? "&lt;" : c === ">" ? "&gt;" : c.startsWith("&") ? "&amp;" : `\\${c}`,
    )
    .replace(/\s*[\r\n]+\s*/g, " ");
}

/** An identifier as a code span; a pipe stays escaped so that it cannot split a table cell. */
export function mdCode(id: string): string {
  return `\`${id.replace(/[`\r\n]/g, "").replaceAll("|", "\\|")}\``;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map((h) => (/^(Requests|Served|Excluded|Failed|Duration)/.test(h) ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

function verdictCell(row: CategoryRow): string {
  const verdict = categoryVerdict(row);
  return verdict === "missed" ? `**missed** (${missedParts(row).join(", ")})` : verdict;
}

function summary(report: MonthlyReport): string[] {
  const rows = report.categories.map((c) => [
    `${mdText(c.title)} (${mdCode(c.category)})`,
    mdCode(c.service_class),
    `${formatPct(c.availability_pct)} / ${formatTarget(c.availability_target_pct)}`,
    `${formatMs(c.latency_p99_ms)} / ${formatCount(c.latency_objective_ms)} ms`,
    formatCount(c.requests),
    formatCount(c.excluded),
    formatRatio(c.error_budget_used_ratio),
    verdictCell(c),
  ]);
  return [
    "## Summary",
    "",
    ...table(
      [
        "Category",
        "Service class",
        "Availability / target",
        "p99 / objective",
        "Requests",
        "Excluded",
        "Error budget used",
        "Result",
      ],
      rows,
    ),
  ];
}

function serviceClasses(report: MonthlyReport): string[] {
  const rows = report.service_classes.map((s) => [
    `${mdText(s.title)} (${mdCode(s.service_class)})`,
    formatCount(s.requests),
    formatCount(s.successful),
    formatPct(s.availability_pct),
    formatTarget(s.availability_target_pct),
    classVerdict(s) === "missed" ? "**missed**" : classVerdict(s),
  ]);
  return [
    "## Service classes",
    "",
    "A class's availability pools the requests of all its categories.",
    "",
    ...table(["Service class", "Requests", "Served", "Availability", "Target", "Result"], rows),
  ];
}

function maintenance(report: MonthlyReport): string[] {
  const { windows, policy } = report.maintenance;
  const lines = [
    "## Maintenance windows",
    "",
    `Policy: at least ${policy.min_notice_days} days' notice, at most ${policy.max_occasions_per_year} occasions and ${formatHours(policy.max_hours_per_year)} per year. ` +
      `Used from January 1 to the end of ${monthTitle(report.month)}: ${report.maintenance.year_occasions_used} occasions, ${formatHours(report.maintenance.year_hours_used)}.`,
    "",
  ];
  if (windows.length === 0) return [...lines, "No maintenance windows in this month."];
  const rows = windows.map((w) => [
    mdCode(w.id),
    formatInstant(w.start),
    formatInstant(w.end),
    formatInstant(w.announced_at),
    w.categories.map(mdCode).join(", "),
    w.qualified ? "yes" : "**no**",
    formatHours(w.qualified_hours),
    formatExcluded(w.excluded_requests),
    w.reason === null ? "" : mdText(reasonText(w.reason)),
  ]);
  return [
    ...lines,
    ...table(
      [
        "Window",
        "Start",
        "End",
        "Announced",
        "Categories",
        "Qualified",
        "Excluded time",
        "Requests excluded",
        "Note",
      ],
      rows,
    ),
  ];
}

function exclusions(report: MonthlyReport): string[] {
  const lines = ["## Exclusions", ""];
  if (report.exclusions.length === 0) return [...lines, "No declared exclusions in this month."];
  const rows = report.exclusions.map((e) => [
    mdCode(e.id),
    formatInstant(e.start),
    formatInstant(e.end),
    formatDuration(Date.parse(e.end) - Date.parse(e.start)),
    e.categories.map(mdCode).join(", "),
    formatExcluded(e.excluded_requests),
    mdText(e.reason),
  ]);
  const header = ["Exclusion", "Start", "End", "Duration", "Categories", "Requests excluded", "Reason"];
  return [...lines, ...table(header, rows)];
}

function intervalList(intervals: readonly { start: string; end: string }[]): string[] {
  return intervals.map((u) => {
    const span = formatDuration(Date.parse(u.end) - Date.parse(u.start));
    return `- ${formatInstant(u.start)} to ${formatInstant(u.end)} (${span})`;
  });
}

function coverage(report: MonthlyReport): string[] {
  const { coverage: c, unmonitored, data_gaps } = report;
  const lines = ["## Coverage", "", coverageSentence(report)];
  if (data_gaps.length > 0)
    lines.push("", "Stretches with no recorded result at all:", "", ...intervalList(data_gaps));
  if (c.agent_runs === 0)
    lines.push("", "No agent run was recorded in this month: its results were imported.");
  else if (unmonitored.length > 0)
    lines.push("", "Time the agent was not running:", "", ...intervalList(unmonitored));
  return lines;
}

function evidence(report: MonthlyReport): string[] {
  return [
    "## Evidence",
    "",
    `${formatCount(report.evidence.records)} records in the evidence log for this month; chain digest (SHA-256):`,
    "",
    `    ${report.evidence.sha256}`,
    "",
    `Anyone holding the data directory can re-check it with \`slo-agent verify --month ${report.month}\`.`,
  ];
}

function incidentRow(i: Incident): string[] {
  const ids = i.correlation_ids.slice(0, SHOWN_CORRELATION_IDS).map(mdCode);
  const more = i.correlation_ids.length - ids.length;
  if (more > 0) ids.push(`and ${more} more (JSON form)`);
  return [
    formatInstant(i.start),
    `${formatInstant(i.end)}${i.recovered ? "" : " (no recovery seen)"}`,
    formatDuration(i.duration_ms),
    `${formatCount(i.failed_requests)} / ${formatCount(i.requests)}`,
    i.failures.map((f) => `${mdText(f.code)} ×${f.count}`).join(", "),
    i.error_codes.map((f) => `${mdCode(f.code)} ×${f.count}`).join(", "),
    ids.join(" "),
  ];
}

function incidents(report: MonthlyReport): string[] {
  const missed = report.categories.filter((c) => categoryVerdict(c) === "missed");
  const lines = ["## Incidents behind missed objectives", ""];
  if (missed.length === 0) lines.push("No category missed an objective.");
  for (const c of missed) {
    const own = report.incidents.filter((i) => i.category === c.category);
    lines.push(
      `### ${mdText(c.title)} (${mdCode(c.category)})`,
      "",
      `Availability ${formatPct(c.availability_pct)} against ${formatTarget(c.availability_target_pct)}; p99 ${formatMs(c.latency_p99_ms)} against ${formatCount(c.latency_objective_ms)} ms.`,
      "",
    );
    if (own.length === 0) {
      lines.push("No failure periods: every request was served.", "");
      continue;
    }
    const header = [
      "Start",
      "End",
      "Duration",
      "Failed / requests",
      "Failures",
      "Error codes",
      "Correlation ids",
    ];
    lines.push(...table(header, own.map(incidentRow)), "");
  }
  const others = report.incidents.filter((i) => !missed.some((c) => c.category === i.category)).length;
  if (others > 0)
    lines.push(
      `${others} further failure periods in categories that met their objectives are listed in the JSON form.`,
    );
  return lines;
}

/** The Markdown form: what a person reads, rounded for display (availability 3 decimals, p99 1 decimal). */
export function renderMarkdown(report: MonthlyReport): string {
  const sections = [
    [
      `# SLA evidence report: ${monthTitle(report.month)}`,
      "",
      `Period ${formatInstant(report.period.start)} to ${formatInstant(report.period.end)} UTC. Generated ${formatInstant(report.generated_at)} UTC.`,
      "",
      `**${headline(report.summary.missed, report.summary.objectives_met)}**`,
    ],
    summary(report),
    serviceClasses(report),
    maintenance(report),
    exclusions(report),
    incidents(report),
    coverage(report),
    evidence(report),
  ];
  return `${sections.map((s) => s.join("\n").trimEnd()).join("\n\n")}\n`;
}
