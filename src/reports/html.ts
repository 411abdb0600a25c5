import { AVAILABILITY_CHART, dailySeriesSvg, LATENCY_CHART } from "./charts.js";
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
import { REPORT_CSS } from "./html-style.js";
import { type Cell, mark, named, num, pill, table, when } from "./html-table.js";
import type { Incident, MonthlyReport } from "./model.js";
import { escapeXml as e } from "./svg.js";
import { timelineSvg } from "./timeline.js";

function header(report: MonthlyReport): string {
  const { summary, categories, coverage } = report;
  const verdict = summary.objectives_met === null ? "nodata" : summary.objectives_met ? "met" : "missed";
  const metCount = categories.filter((c) => categoryVerdict(c) === "met").length;
  const requests = categories.reduce((sum, c) => sum + c.requests, 0);
  const card = (value: string, label: string) =>
    `<div class="card"><div class="value">${e(value)}</div><div class="label">${e(label)}</div></div>`;
  return `<header>
<div class="kicker">SLA evidence report</div>
<h1>${e(monthTitle(report.month))}</h1>
<div class="meta">Period ${e(formatInstant(report.period.start))} to ${e(formatInstant(report.period.end))} UTC · generated ${e(formatInstant(report.generated_at))} UTC</div>
<div class="verdict ${verdict}" data-verdict="${verdict}">${e(headline(summary.missed, summary.objectives_met))}</div>
<div class="cards">${card(`${metCount} of ${categories.length}`, "categories met every objective")}${card(String(summary.missed.length), "objectives missed")}${card(formatCount(requests), "requests counted")}${card(formatRatio(coverage.ratio), "probe coverage")}</div>
</header>`;
}

function summaryTable(report: MonthlyReport): string {
  const rows = report.categories.map((c) => ({
    missed: categoryVerdict(c) === "missed",
    cells: [
      { html: named(c.title, c.category) },
      { html: `<code>${e(c.service_class)}</code>` },
      mark(formatPct(c.availability_pct), c.availability_met === false),
      num(formatTarget(c.availability_target_pct)),
      mark(formatMs(c.latency_p99_ms), c.latency_met === false),
      num(`${formatCount(c.latency_objective_ms)} ms`),
      num(formatCount(c.requests)),
      num(formatCount(c.excluded)),
      num(formatRatio(c.error_budget_used_ratio)),
      { html: pill(categoryVerdict(c), missedParts(c).join(", ")) },
    ],
  }));
  const head: Cell[] = [
    "Category",
    "Service class",
    num("Availability"),
    num("Target"),
    num("p99"),
    num("Objective"),
  ];
  head.push(num("Requests"), num("Excluded"), num("Budget used"), "Result");
  return `<section id="summary"><h2>Summary</h2>${table(head, rows)}</section>`;
}

function charts(report: MonthlyReport): string {
  const figure = (caption: string, svg: string) =>
    `<figure><figcaption>${e(caption)}</figcaption>${svg}</figure>`;
  return `<section id="charts" class="page"><h2>Charts</h2>
${figure("Daily availability per category; dashed line: the target. Red points are days below it.", dailySeriesSvg(AVAILABILITY_CHART, report))}
${figure("Daily p99 latency per category; dashed line: the objective. Red points are days above it.", dailySeriesSvg(LATENCY_CHART, report))}
${figure("The month at a glance: failure periods, maintenance and declared exclusions per category.", timelineSvg(report))}
</section>`;
}

function classes(report: MonthlyReport): string {
  const rows = report.service_classes.map((s) => ({
    missed: classVerdict(s) === "missed",
    cells: [
      { html: named(s.title, s.service_class) },
      num(formatCount(s.requests)),
      num(formatCount(s.successful)),
      mark(formatPct(s.availability_pct), s.availability_met === false),
      num(formatTarget(s.availability_target_pct)),
      { html: pill(classVerdict(s)) },
    ],
  }));
  const head: Cell[] = [
    "Service class",
    num("Requests"),
    num("Served"),
    num("Availability"),
    num("Target"),
    "Result",
  ];
  return `<section id="service-classes" class="page"><h2>Service classes</h2><p class="meta">A class's availability pools the requests of all its categories.</p>${table(head, rows)}</section>`;
}

function maintenance(report: MonthlyReport): string {
  const m = report.maintenance;
  const policy = `Policy: at least ${m.policy.min_notice_days} days' notice, at most ${m.policy.max_occasions_per_year} occasions and ${formatHours(m.policy.max_hours_per_year)} per year. Used from January 1 to the end of ${monthTitle(report.month)}: ${m.year_occasions_used} occasions, ${formatHours(m.year_hours_used)}.`;
  const rows = m.windows.map((w) => ({
    missed: !w.qualified,
    cells: [
      { html: `<code>${e(w.id)}</code>` },
      when(w.start),
      when(w.end),
      when(w.announced_at),
      w.categories.join(", "),
      { html: w.qualified ? "yes" : '<span class="bad">no</span>' },
      // One cell for time and requests keeps the table inside an A4 page.
      num(`${formatHours(w.qualified_hours)} · ${formatExcluded(w.excluded_requests)} req.`),
      w.reason === null ? "" : reasonText(w.reason),
    ],
  }));
  const head: Cell[] = [
    "Window",
    "Start",
    "End",
    "Announced",
    "Categories",
    "Qualified",
    num("Excluded"),
    "Note",
  ];
  const body = rows.length === 0 ? "<p>No maintenance windows in this month.</p>" : table(head, rows);
  return `<section id="maintenance"><h2>Maintenance windows</h2><p class="meta">${e(policy)}</p>${body}</section>`;
}

function exclusions(report: MonthlyReport): string {
  const rows = report.exclusions.map((x) => ({
    cells: [
      { html: `<code>${e(x.id)}</code>` },
      when(x.start),
      when(x.end),
      num(formatDuration(Date.parse(x.end) - Date.parse(x.start))),
      x.categories.join(", "),
      num(formatExcluded(x.excluded_requests)),
      x.reason,
    ],
  }));
  const head: Cell[] = [
    "Exclusion",
    "Start",
    "End",
    num("Duration"),
    "Categories",
    num("Requests excluded"),
    "Reason",
  ];
  const body = rows.length === 0 ? "<p>No declared exclusions in this month.</p>" : table(head, rows);
  return `<section id="exclusions"><h2>Exclusions</h2>${body}</section>`;
}

function incidentRow(i: Incident) {
  const ids = i.correlation_ids.slice(0, SHOWN_CORRELATION_IDS).map((id) => `<code>${e(id)}</code>`);
  const more = i.correlation_ids.length - ids.length;
  if (more > 0) ids.push(`and ${more} more (JSON form)`);
  return {
    cells: [
      when(i.start),
      {
        html: `<span class="when">${e(formatInstant(i.end))}</span>${i.recovered ? "" : " (no recovery seen)"}`,
      },
      num(formatDuration(i.duration_ms)),
      num(`${formatCount(i.failed_requests)} / ${formatCount(i.requests)}`),
      { html: i.failures.map((f) => `<span class="when">${e(f.code)} ×${f.count}</span>`).join(", ") },
      {
        html: i.error_codes
          .map((f) => `<span class="when"><code>${e(f.code)}</code> ×${f.count}</span>`)
          .join(", "),
      },
    ],
    detail:
      ids.length === 0
        ? ""
        : `<span class="label">Correlation ids</span> <span class="ids">${ids.join(" ")}</span>`,
  };
}

function incidents(report: MonthlyReport): string {
  const missed = report.categories.filter((c) => categoryVerdict(c) === "missed");
  const parts = ['<section id="incidents" class="page"><h2>Incidents behind missed objectives</h2>'];
  if (missed.length === 0) parts.push("<p>No category missed an objective.</p>");
  for (const c of missed) {
    const own = report.incidents.filter((i) => i.category === c.category);
    parts.push(
      `<h3>${e(c.title)} <code>${e(c.category)}</code></h3>`,
      `<p class="meta">Availability ${e(formatPct(c.availability_pct))} against ${e(formatTarget(c.availability_target_pct))}; p99 ${e(formatMs(c.latency_p99_ms))} against ${e(formatCount(c.latency_objective_ms))} ms.</p>`,
    );
    if (own.length === 0) {
      parts.push("<p>No failure periods: every request was served.</p>");
      continue;
    }
    const head: Cell[] = [
      "Start",
      "End",
      num("Duration"),
      num("Failed / requests"),
      "Failures",
      "Error codes",
    ];
    parts.push(`<div class="incident-table">${table(head, own.map(incidentRow))}</div>`);
  }
  const others = report.incidents.filter((i) => !missed.some((c) => c.category === i.category)).length;
  if (others > 0) {
    parts.push(
      `<p class="meta">${others} further failure periods in categories that met their objectives are listed in the JSON form.</p>`,
    );
  }
  parts.push("</section>");
  return parts.join("\n");
}

function intervalList(intervals: readonly { start: string; end: string }[]): string {
  const items = intervals.map((u) => {
    const span = formatDuration(Date.parse(u.end) - Date.parse(u.start));
    return `<li>${e(formatInstant(u.start))} to ${e(formatInstant(u.end))} (${e(span)})</li>`;
  });
  return `<ul class="plain">${items.join("")}</ul>`;
}

function coverageAndEvidence(report: MonthlyReport): string {
  const { coverage: c, unmonitored, data_gaps } = report;
  const parts = [`<section id="coverage"><h2>Coverage</h2><p>${e(coverageSentence(report))}</p>`];
  if (data_gaps.length > 0)
    parts.push(`<p>Stretches with no recorded result at all:</p>${intervalList(data_gaps)}`);
  if (c.agent_runs === 0)
    parts.push('<p class="meta">No agent run was recorded in this month: its results were imported.</p>');
  else if (unmonitored.length > 0)
    parts.push(`<p>Time the agent was not running:</p>${intervalList(unmonitored)}`);
  parts.push("</section>");
  return `${parts.join("\n")}
<section id="evidence"><h2>Evidence</h2>
<p>${e(formatCount(report.evidence.records))} records in the evidence log for this month; chain digest (SHA-256):</p>
<div class="digest mono">${e(report.evidence.sha256)}</div>
<p class="meta">Anyone holding the data directory can re-check it with <code>slo-agent verify --month ${e(report.month)}</code>.</p>
</section>`;
}

/** One self-contained HTML file: inline CSS and SVG, no scripts, nothing fetched from the network. */
export function renderHtml(report: MonthlyReport): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>SLA evidence report: ${e(monthTitle(report.month))}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
${header(report)}
${summaryTable(report)}
${charts(report)}
${classes(report)}
${maintenance(report)}
${exclusions(report)}
${incidents(report)}
${coverageAndEvidence(report)}
<footer>Produced by slo-agent from its evidence store. Availability is rounded to 3 decimals and p99 to 1 decimal for display; the JSON form holds full precision.</footer>
</main>
</body>
</html>
`;
}
