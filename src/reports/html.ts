import { statementBytes } from "../record/index.js";
import { AVAILABILITY_CHART, dailySeriesSvg, LATENCY_CHART } from "./charts.js";
import { CLAIM_TITLE, claimBlocks, claimPreparation } from "./claim-text.js";
import { unverifiedBanner } from "./evidence.js";
import {
  categoryVerdict,
  coverageSentence,
  formatCount,
  formatDuration,
  formatInstant,
  formatMs,
  formatPct,
  formatRatio,
  headline,
  monthTitle,
} from "./format.js";
import { REPORT_CSS } from "./html-style.js";
import { type Cell, mark, named, num, pill, table, when } from "./html-table.js";
import type { Incident, MonthlyReport } from "./model.js";
import { reportDigest } from "./signature.js";
import { escapeXml as e } from "./svg.js";
import { timelineSvg } from "./timeline.js";
import { timestampTexts } from "./timestamp-text.js";
import * as say from "./wording.js";

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
<div class="meta">${e(say.periodSentence(report))} · generated ${e(formatInstant(report.generated_at))} UTC</div>
<dl class="context">${say
    .contextPairs(report)
    .map(([label, value]) => `<div><dt>${e(label)}</dt><dd>${e(value)}</dd></div>`)
    .join("")}</dl>
${preliminaryBanner(report)}${unverifiedBanner(report.evidence) ? `<div class="verdict missed" data-verdict="unverified">${e(unverifiedBanner(report.evidence)!)}</div>` : ""}${(report.warnings ?? []).map((w) => `<div class="verdict missed" data-verdict="warning">Warning: ${e(w)}</div>`).join("")}
<div class="verdict ${verdict}" data-verdict="${verdict}">${e(headline(summary.missed, summary.objectives_met))}</div>
<div class="cards">${card(`${metCount} of ${categories.length}`, "categories met every objective")}${card(String(summary.missed.length), "objectives missed")}${card(formatCount(requests), "requests counted")}${card(formatRatio(coverage.ratio), "probe coverage")}</div>
</header>`;
}

/** An id such as transaction_non_critical that may wrap after its underscores, never mid-word. */
function breakableId(id: string): string {
  return e(id).replaceAll("_", "_<wbr>");
}

function preliminaryBanner(report: MonthlyReport): string {
  const sentence = say.preliminarySentence(report);
  return sentence === null ? "" : `<div class="preliminary" role="alert">${e(sentence)}</div>\n`;
}

function summaryTable(report: MonthlyReport): string {
  const rows = report.categories.map((c) => {
    const t = say.categoryTexts(c);
    return {
      missed: t.verdict === "missed",
      cells: [
        { html: named(c.title, c.category) },
        { html: `<code>${breakableId(c.service_class)}</code>` },
        mark(t.availability, c.availability_met === false),
        num(t.target),
        num(t.measured),
        mark(t.p99, c.latency_met === false),
        num(t.objective),
        num(t.requests),
        num(t.excluded),
        num(t.budgetUsed),
        { html: pill(t.verdict, t.missed) },
      ],
    };
  });
  const head: Cell[] = [
    "Category",
    "Service class",
    num("Availability"),
    num("Target"),
    num("Measured"),
    num("p99"),
    num("Objective"),
  ];
  head.push(num("Requests"), num("Excluded"), num("Budget used"), "Result");
  const source = `<p class="latency-source">${e(say.latencySourceLine(report))}</p>${say
    .plainSummaryLines(report)
    .map((line) => `<p class="plain-words">${e(line)}</p>`)
    .join("")}`;
  return `<section id="summary"><h2>Summary</h2>${table(head, rows)}${source}${categoryNotes(report)}</section>`;
}

/** Flags and body errors worth a look before escalating; nothing when there are none. */
function categoryNotes(report: MonthlyReport): string {
  const notes = say.categoryNotes(report);
  if (notes.length === 0) return "";
  const items = notes.map(
    ({ row, note }) =>
      `<li><strong>${e(row.title)}</strong> <code>${e(row.category)}</code>: ${e(note)}</li>`,
  );
  return `<div class="notes"><p>${e(say.NOTES_INTRO)}</p><ul class="plain">${items.join("")}</ul></div>`;
}

function charts(report: MonthlyReport): string {
  const figure = (caption: string, svg: string) =>
    `<figure><figcaption>${e(caption)}</figcaption>${svg}</figure>`;
  return `<section id="charts" class="page"><h2>Charts</h2>
${figure("Daily availability per category; dashed line: the target. Red points are days below it; a day below the axis sits on its floor with its figure; hollow points are days with under a tenth of the usual requests.", dailySeriesSvg(AVAILABILITY_CHART, report))}
${figure("Daily p99 latency per category; dashed line: the objective. Red points are days above it.", dailySeriesSvg(LATENCY_CHART, report))}
${figure("The month at a glance: failure periods, maintenance and declared exclusions per category.", timelineSvg(report))}
</section>`;
}

function classes(report: MonthlyReport): string {
  const credits = say.showsCredits(report);
  const rows = report.service_classes.map((s) => {
    const t = say.classTexts(s);
    return {
      missed: t.verdict === "missed",
      cells: [
        { html: named(s.title, s.service_class) },
        num(t.requests),
        num(t.served),
        mark(t.availability, s.availability_met === false),
        num(t.target),
        { html: pill(t.verdict) },
        ...(credits ? [num(say.creditText(s.credit_pct))] : []),
      ],
    };
  });
  const head: Cell[] = [
    "Service class",
    num("Requests"),
    num("Served"),
    num("Availability"),
    num("Target"),
    "Result",
    ...(credits ? [num("Service credit")] : []),
  ];
  return `<section id="service-classes"><h2>Service classes</h2><p class="meta">${e(say.classPooling(report))}</p>${table(head, rows)}</section>`;
}

function maintenance(report: MonthlyReport): string {
  const m = report.maintenance;
  const rows = m.windows.map((w) => {
    const t = say.windowTexts(w);
    return {
      missed: !w.qualified,
      cells: [
        { html: `<code>${e(w.id)}</code>` },
        when(w.start),
        when(w.end),
        when(w.announced_at),
        w.categories.join(", "),
        { html: w.qualified ? "yes" : '<span class="bad">no</span>' },
        // One cell for time and requests keeps the table inside an A4 page.
        num(`${t.excludedTime} · ${t.excludedRequests} req.`),
        t.note,
      ],
    };
  });
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
  const feed = m.windows.some((w) => w.source === "feed") ? `<p class="meta">${e(say.FEED_WINDOWS)}</p>` : "";
  const history = say
    .windowHistoryLines(m.windows)
    .map((line) => `<p class="meta">${e(line)}</p>`)
    .join("");
  const body = rows.length === 0 ? `<p>${e(say.NO_WINDOWS)}</p>` : table(head, rows) + feed + history;
  return `<section id="maintenance"><h2>Maintenance windows</h2><p class="meta">${e(say.policySentence(report))}</p>${body}</section>`;
}

function exclusions(report: MonthlyReport): string {
  const rows = report.exclusions.map((x) => ({
    cells: [
      { html: `<code>${e(x.id)}</code>` },
      when(x.start),
      when(x.end),
      num(say.exclusionTexts(x).span),
      x.categories.join(", "),
      num(say.exclusionTexts(x).excludedRequests),
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
  const body = rows.length === 0 ? `<p>${e(say.NO_EXCLUSIONS)}</p>` : table(head, rows);
  return `<section id="exclusions"><h2>Exclusions</h2>${body}</section>`;
}

function incidentRow(i: Incident) {
  const { shown, rest } = say.shownCorrelationIds(i);
  const ids = shown.map((id) => `<code>${e(id)}</code>`);
  if (rest) ids.push(rest);
  return {
    cells: [
      when(i.start),
      {
        html: `<span class="when">${e(formatInstant(i.end))}</span>${i.recovered ? "" : say.NOT_RECOVERED}`,
      },
      num(formatDuration(i.duration_ms)),
      num(say.failedOfRequests(i)),
      {
        html: i.failures.map((f) => `<span class="when">${say.countedText(f, e(f.code))}</span>`).join(", "),
      },
      {
        html: i.error_codes
          .map((f) => `<span class="when">${say.countedText(f, `<code>${e(f.code)}</code>`)}</span>`)
          .join(", "),
      },
      // A column, not a line of its own: one short id per row keeps a 13-category month on six pages.
      { html: `<span class="ids">${ids.join(" ")}</span>` },
    ],
    detail: say
      .incidentNotes(i)
      .map((note) => `<div class="note">${e(note)}</div>`)
      .join(""),
  };
}

const INCIDENT_HEAD: Cell[] = [
  "Start",
  "End",
  num("Duration"),
  num("Failed / requests"),
  "Failures",
  "Error codes",
  "Correlation ids",
];

/** A category's failure periods, worst first, and its hours over the latency objective. */
function categoryIncidents({
  row: c,
  incidents: own,
  more,
  slowHours,
  moreSlowHours,
}: say.CategoryIncidents): string[] {
  // How many more the JSON holds goes on the category's line, not a line of its own under the table.
  const sentence = [say.categoryIncidentSentence(c), ...(more > 0 ? [say.moreIncidentsSentence(more)] : [])];
  const parts = [
    `<h3>${e(c.title)} <code>${e(c.category)}</code></h3>`,
    `<p class="meta">${e(sentence.join(" "))}</p>`,
  ];
  if (own.length === 0) parts.push(`<p>${e(say.NO_FAILURE_PERIODS)}</p>`);
  else parts.push(`<div class="incident-table">${table(INCIDENT_HEAD, own.map(incidentRow))}</div>`);
  if (c.latency_met === false) {
    if (slowHours.length === 0) parts.push(`<p>${e(say.NO_SLOW_HOURS)}</p>`);
    else {
      const rows = slowHours.map((l) => {
        const t = say.slowHourTexts(l);
        return { missed: true, cells: [when(l.start), when(l.end), num(t.p99), num(t.requests)] };
      });
      const head: Cell[] = ["Hour", "End", num("p99"), num("Requests")];
      parts.push(
        `<p>${e(say.slowHoursIntro(c, slowHours.length, moreSlowHours))}</p>`,
        `<div class="latency-incidents">${table(head, rows)}</div>`,
      );
    }
  }
  return parts;
}

/**
 * The heading, its introduction and the first category's heading and line are one block that a
 * printed page does not split (Chromium does not keep a heading with what follows by
 * break-after: avoid alone), so "Incidents" never ends a page by itself.
 */
function incidents(report: MonthlyReport): string {
  const sections = say.incidentsByCategory(report);
  const lead = ["<h2>Incidents</h2>"];
  if (sections.length === 0) lead.push(`<p>${e(say.NO_INCIDENTS)}</p>`);
  else lead.push(`<p class="meta">${e(say.INCIDENTS_INTRO)}</p>`);
  const [first, ...rest] = sections.map(categoryIncidents);
  const parts = [
    '<section id="incidents">',
    `<div class="keep-together">${[...lead, ...(first ?? []).slice(0, 3)].join("\n")}</div>`,
    ...(first ?? []).slice(3),
    ...rest.flat(),
    "</section>",
  ];
  return parts.join("\n");
}

/**
 * The statement's JSON, escaped, cut after each "," and ":" into pieces that do not wrap inside
 * (a date, a key), with a break opportunity between them: it wraps between tokens and copies as
 * the same bytes. Only a piece longer than a line (a digest) may still wrap inside.
 */
function tokenBreaks(json: string): string {
  return (json.match(/[^,:]*[,:]?/g) ?? [])
    .filter((piece) => piece !== "")
    .map((piece) => `<span class="${piece.length > 40 ? "tok long" : "tok"}">${e(piece)}</span>`)
    .join("<wbr>");
}

function intervalList(intervals: readonly { start: string; end: string }[]): string {
  const items = intervals.map((u) => `<li>${e(say.intervalText(u))}</li>`);
  return `<ul class="plain">${items.join("")}</ul>`;
}

function coverageAndEvidence(report: MonthlyReport): string {
  const { coverage: c, unmonitored, data_gaps } = report;
  const parts = [`<section id="coverage"><h2>Coverage</h2><p>${e(coverageSentence(report))}</p>`];
  if (data_gaps.length > 0) parts.push(`<p>${e(say.GAPS_INTRO)}</p>${intervalList(data_gaps)}`);
  if (c.agent_runs === 0) parts.push(`<p class="meta">${e(say.IMPORTED_ONLY)}</p>`);
  else if (unmonitored.length > 0)
    parts.push(`<p>${e(say.UNMONITORED_INTRO)}</p>${intervalList(unmonitored)}`);
  parts.push("</section>");
  return `${parts.join("\n")}
<section id="evidence"><h2>Evidence</h2>
<p>${e(say.evidenceSentence(report))}</p>
<div class="digest mono">${e(report.evidence.sha256)}</div>
<p>${e(say.reportDigestSentence(report))}</p>
<div class="digest mono" data-report-digest>${e(reportDigest(report))}</div>
<p class="plain-words">${e(say.PLAIN_RFC_8785)}</p>
${signatureHtml(report)}
<p class="meta">Anyone holding the data directory can re-check it with <code>${e(say.verifyCommand(report))}</code>.</p>
</section>`;
}

function signatureHtml(report: MonthlyReport): string {
  const { config_sha256, statement, signature } = report.evidence;
  const parts: string[] = [];
  if (config_sha256)
    parts.push(`<p>Configuration digest (SHA-256):</p><div class="digest mono">${e(config_sha256)}</div>`);
  if (statement && signature) {
    parts.push(
      `<p>Signed by agent key <code>${e(signature.key_id)}</code> (Ed25519) over this statement (RFC 8785 JSON):</p>`,
      `<div class="digest mono statement">${tokenBreaks(statementBytes(statement).toString("utf8"))}</div>`,
      `<p>Signature (base64):</p><div class="digest mono">${e(signature.value)}</div>`,
      `<p>Public key:</p><pre class="mono">${e(signature.public_key_pem)}</pre>`,
    );
  }
  if (report.evidence.timestamp) {
    const t = timestampTexts(report.evidence.timestamp, statement);
    parts.push(
      `<div class="timestamp"><p>${e(t.sentence)}</p><p>${t.howTo((name) => `<code>${e(name)}</code>`)}</p><div class="digest mono">${e(t.command)}</div></div>`,
    );
  }
  return parts.join("\n");
}

/** One self-contained HTML file: inline CSS and SVG, no scripts, nothing fetched from the network. */
/** Automatic exclusions and measurement problems (contract section 8). */
function validity(report: MonthlyReport): string {
  const rows = report.automatic_exclusions.map((x) => ({
    cells: [
      { html: `<code>${e(x.reason)}</code>` },
      when(x.start),
      when(x.end),
      x.categories.join(", "),
      num(formatCount(x.requests)),
      say.automaticEvidenceText(x),
    ],
  }));
  const head: Cell[] = ["Reason", "Start", "End", "Categories", num("Requests excluded"), "Evidence"];
  const body = rows.length === 0 ? `<p>${e(say.NO_AUTOMATIC_EXCLUSIONS)}</p>` : table(head, rows);
  const problems = report.categories.flatMap((c) =>
    c.measurement_problems.map(
      (p) =>
        `<li><strong>${e(c.title)}</strong> <code>${e(c.category)}</code>: ${e(say.measurementProblemText(p))}</li>`,
    ),
  );
  const list = problems.length === 0 ? "" : `<ul class="plain">${problems.join("")}</ul>`;
  const minutes = `<p>${e(say.merchantSideMinutesText(report.categories))}</p>`;
  return `<section id="validity"><h2>Measurement validity</h2><p>${e(say.VALIDITY_INTRO)}</p>${body}${minutes}${list}</section>`;
}

/**
 * The merchant's own requests per category (contract section 19), only where traffic: is
 * configured: "" otherwise, so a probe-only report is unchanged to the byte.
 */
function merchantRequests(report: MonthlyReport): string {
  const rows = report.categories.flatMap((c) =>
    c.traffic
      ? [
          {
            cells: [
              { html: named(c.title, c.category) },
              num(formatCount(c.traffic.requests)),
              num(formatCount(c.traffic.successful)),
              num(formatPct(c.traffic.availability_pct)),
              num(formatMs(c.traffic.latency_p99_ms)),
            ],
          },
        ]
      : [],
  );
  if (rows.length === 0) return "";
  const head: Cell[] = ["Category", num("Requests"), num("Served"), num("Availability"), num("p99 latency")];
  return `<section id="traffic"><h2>Merchant requests</h2><p>${e(say.MERCHANT_REQUESTS_INTRO)}</p>${table(head, rows)}</section>`;
}

/** The letter to the provider, only with --claim, on a page of its own. */
function claim(report: MonthlyReport): string {
  if (!report.claim) return "";
  const blocks = claimBlocks(report.claim, reportDigest(report)).map((b) => {
    if (b.kind === "p") return `<p>${e(b.text)}</p>`;
    if (b.kind === "list") return `<ul>${b.items.map((i) => `<li>${e(i)}</li>`).join("")}</ul>`;
    return `<pre class="mono">${e(b.lines.join("\n"))}</pre>`;
  });
  const note = `<p class="merchant-note" data-merchant-note>${e(claimPreparation(report.claim))}</p>`;
  return `${note}<section id="claim" class="page claim"><h2>${e(CLAIM_TITLE)}</h2>${blocks.join("\n")}</section>`;
}

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
${validity(report)}${merchantRequests(report)}
${incidents(report)}
${coverageAndEvidence(report)}
${claim(report)}
<footer>Produced by slo-agent from its evidence store. Availability is rounded to 3 decimals and p99 to 1 decimal for display; the JSON form holds full precision.</footer>
</main>
</body>
</html>
`;
}
