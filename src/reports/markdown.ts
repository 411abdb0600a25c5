import { statementBytes } from "../record/index.js";
import { CLAIM_TITLE, type ClaimBlock, claimBlocks, claimPreparation } from "./claim-text.js";
import { unverifiedBanner } from "./evidence.js";
import {
  coverageSentence,
  formatCount,
  formatDuration,
  formatInstant,
  formatMs,
  formatPct,
  headline,
  monthTitle,
} from "./format.js";
import type { Incident, MonthlyReport } from "./model.js";
import { reportDigest } from "./signature.js";
import { timestampTexts } from "./timestamp-text.js";
import * as say from "./wording.js";

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

function summary(report: MonthlyReport): string[] {
  const rows = report.categories.map((c) => {
    const t = say.categoryTexts(c);
    return [
      `${mdText(c.title)} (${mdCode(c.category)})`,
      mdCode(c.service_class),
      `${t.availability} / ${t.target}`,
      t.measured,
      `${t.p99} / ${t.objective}`,
      t.requests,
      t.excluded,
      t.budgetUsed,
      t.verdict === "missed" ? `**missed** (${t.missed})` : t.verdict,
    ];
  });
  return [
    "## Summary",
    "",
    ...table(
      [
        "Category",
        "Service class",
        "Availability / target",
        "Measured",
        "p99 / objective",
        "Requests",
        "Excluded",
        "Error budget used",
        "Result",
      ],
      rows,
    ),
    "",
    mdText(say.latencySourceLine(report)),
    ...say.plainSummaryLines(report).flatMap((line) => ["", `_${mdText(line)}_`]),
    ...categoryNotes(report),
  ];
}

/** Flags and body errors worth a look before escalating; nothing when there are none. */
function categoryNotes(report: MonthlyReport): string[] {
  const notes = say.categoryNotes(report);
  if (notes.length === 0) return [];
  const lines = notes.map(
    ({ row, note }) => `- ${mdText(row.title)} (${mdCode(row.category)}): ${mdText(note)}`,
  );
  return ["", say.NOTES_INTRO, "", ...lines];
}

function serviceClasses(report: MonthlyReport): string[] {
  const rows = report.service_classes.map((s) => {
    const t = say.classTexts(s);
    const verdict = t.verdict === "missed" ? "**missed**" : t.verdict;
    return [
      `${mdText(s.title)} (${mdCode(s.service_class)})`,
      t.requests,
      t.served,
      t.availability,
      t.target,
      verdict,
    ];
  });
  const credits = say.showsCredits(report);
  const header = ["Service class", "Requests", "Served", "Availability", "Target", "Result"];
  const withCredits = report.service_classes.map((s, i) => [...rows[i]!, say.creditText(s.credit_pct)]);
  return [
    "## Service classes",
    "",
    say.classPooling(report),
    "",
    ...(credits ? table([...header, "Service credit"], withCredits) : table(header, rows)),
  ];
}

function maintenance(report: MonthlyReport): string[] {
  const { windows } = report.maintenance;
  const lines = ["## Maintenance windows", "", mdText(say.policySentence(report)), ""];
  if (windows.length === 0) return [...lines, say.NO_WINDOWS];
  const rows = windows.map((w) => {
    const t = say.windowTexts(w);
    const scope = w.categories.map(mdCode).join(", ");
    const qualified = w.qualified ? "yes" : "**no**";
    return [
      mdCode(w.id),
      t.start,
      t.end,
      t.announced,
      scope,
      qualified,
      t.excludedTime,
      t.excludedRequests,
      mdText(t.note),
    ];
  });
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
    ...(windows.some((w) => w.source === "feed") ? ["", say.FEED_WINDOWS] : []),
    ...say.windowHistoryLines(windows).flatMap((line) => ["", mdText(line)]),
  ];
}

function exclusions(report: MonthlyReport): string[] {
  const lines = ["## Exclusions", ""];
  if (report.exclusions.length === 0) return [...lines, say.NO_EXCLUSIONS];
  const rows = report.exclusions.map((e) => [
    mdCode(e.id),
    formatInstant(e.start),
    formatInstant(e.end),
    say.exclusionTexts(e).span,
    e.categories.map(mdCode).join(", "),
    say.exclusionTexts(e).excludedRequests,
    mdText(e.reason),
  ]);
  const header = ["Exclusion", "Start", "End", "Duration", "Categories", "Requests excluded", "Reason"];
  return [...lines, ...table(header, rows)];
}

/**
 * The merchant's own requests per category (contract section 19), only where traffic: is
 * configured: a report of a probe-only agent is unchanged.
 */
function merchantRequests(report: MonthlyReport): string[] {
  const rows = report.categories.flatMap((c) =>
    c.traffic
      ? [
          [
            `${mdText(c.title)} (${mdCode(c.category)})`,
            formatCount(c.traffic.requests),
            formatCount(c.traffic.successful),
            formatPct(c.traffic.availability_pct),
            formatMs(c.traffic.latency_p99_ms),
          ],
        ]
      : [],
  );
  if (rows.length === 0) return [];
  return [
    "## Merchant requests",
    "",
    say.MERCHANT_REQUESTS_INTRO,
    "",
    ...table(["Category", "Requests", "Served", "Availability", "p99 latency"], rows),
  ];
}

/** Automatic exclusions and measurement problems (contract section 8). */
function validity(report: MonthlyReport): string[] {
  const lines = ["## Measurement validity", "", say.VALIDITY_INTRO, ""];
  if (report.automatic_exclusions.length === 0) lines.push(say.NO_AUTOMATIC_EXCLUSIONS);
  else {
    const rows = report.automatic_exclusions.map((x) => [
      mdCode(x.reason),
      formatInstant(x.start),
      formatInstant(x.end),
      x.categories.map(mdCode).join(", "),
      formatCount(x.requests),
      mdText(say.automaticEvidenceText(x)),
    ]);
    lines.push(...table(["Reason", "Start", "End", "Categories", "Requests excluded", "Evidence"], rows));
  }
  lines.push("", mdText(say.merchantSideMinutesText(report.categories)));
  const problems = report.categories.flatMap((c) =>
    c.measurement_problems.map(
      (p) => `- ${mdText(c.title)} (${mdCode(c.category)}): ${mdText(say.measurementProblemText(p))}`,
    ),
  );
  return problems.length === 0 ? lines : [...lines, "", ...problems];
}

function intervalList(intervals: readonly { start: string; end: string }[]): string[] {
  return intervals.map((u) => `- ${say.intervalText(u)}`);
}

function coverage(report: MonthlyReport): string[] {
  const { coverage: c, unmonitored, data_gaps } = report;
  const lines = ["## Coverage", "", coverageSentence(report)];
  if (data_gaps.length > 0) lines.push("", say.GAPS_INTRO, "", ...intervalList(data_gaps));
  if (c.agent_runs === 0) lines.push("", say.IMPORTED_ONLY);
  else if (unmonitored.length > 0) lines.push("", say.UNMONITORED_INTRO, "", ...intervalList(unmonitored));
  return lines;
}

function evidence(report: MonthlyReport): string[] {
  const e = report.evidence;
  const banner = unverifiedBanner(e);
  const lines = ["## Evidence", ""];
  if (banner) lines.push(`**${banner}**`, "");
  lines.push(say.evidenceSentence(report), "", `    ${e.sha256}`, "");
  lines.push(
    say.reportDigestSentence(report),
    "",
    `    ${reportDigest(report)}`,
    "",
    `_${say.PLAIN_RFC_8785}_`,
    "",
  );
  if (e.config_sha256) lines.push("Configuration digest (SHA-256):", "", `    ${e.config_sha256}`, "");
  if (e.signature && e.statement) {
    lines.push(
      `Signed by agent key \`${e.signature.key_id}\` (Ed25519) over this statement (RFC 8785 JSON):`,
      "",
      `    ${statementBytes(e.statement).toString("utf8")}`,
      "",
      "Signature (base64):",
      "",
      `    ${e.signature.value}`,
      "",
      "Public key:",
      "",
      ...e.signature.public_key_pem
        .trimEnd()
        .split("\n")
        .map((l) => `    ${l}`),
      "",
    );
  }
  if (e.timestamp) {
    const t = timestampTexts(e.timestamp, e.statement);
    lines.push(mdText(t.sentence), "", t.howTo(mdCode), "", `    ${t.command}`, "");
  }
  lines.push(`Anyone holding the data directory can re-check it with ${mdCode(say.verifyCommand(report))}.`);
  return lines;
}

function incidentRow(i: Incident): string[] {
  const { shown, rest } = say.shownCorrelationIds(i);
  const ids = shown.map(mdCode);
  if (rest) ids.push(rest);
  return [
    formatInstant(i.start),
    `${formatInstant(i.end)}${i.recovered ? "" : say.NOT_RECOVERED}`,
    formatDuration(i.duration_ms),
    say.failedOfRequests(i),
    i.failures.map((f) => say.countedText(f, mdText(f.code))).join(", "),
    i.error_codes.map((f) => say.countedText(f, mdCode(f.code))).join(", "),
    ids.join(" "),
  ];
}

/** Below a category's incident table: one line per flagged incident, named by its start. */
function incidentNotes(own: readonly Incident[]): string[] {
  const lines = own.flatMap((i) =>
    say.incidentNotes(i).map((note) => `- ${formatInstant(i.start)}: ${mdText(note)}`),
  );
  return lines.length === 0 ? [] : [...lines, ""];
}

const INCIDENT_HEADER = [
  "Start",
  "End",
  "Duration",
  "Failed / requests",
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
  const lines = [`### ${mdText(c.title)} (${mdCode(c.category)})`, "", say.categoryIncidentSentence(c), ""];
  if (own.length === 0) lines.push(say.NO_FAILURE_PERIODS, "");
  else lines.push(...table(INCIDENT_HEADER, own.map(incidentRow)), "", ...incidentNotes(own));
  if (more > 0) lines.push(say.moreIncidentsSentence(more), "");
  if (c.latency_met === false) {
    if (slowHours.length === 0) lines.push(say.NO_SLOW_HOURS, "");
    else {
      const rows = slowHours.map((l) => {
        const t = say.slowHourTexts(l);
        return [t.start, t.end, t.p99, t.requests];
      });
      lines.push(
        say.slowHoursIntro(c, slowHours.length, moreSlowHours),
        "",
        ...table(["Hour", "End", "p99", "Requests"], rows),
        "",
      );
    }
  }
  return lines;
}

function incidents(report: MonthlyReport): string[] {
  const sections = say.incidentsByCategory(report);
  const lines = ["## Incidents", ""];
  if (sections.length === 0) return [...lines, say.NO_INCIDENTS];
  lines.push(say.INCIDENTS_INTRO, "");
  for (const section of sections) lines.push(...categoryIncidents(section));
  return lines;
}

function claimBlock(block: ClaimBlock): string[] {
  if (block.kind === "p") return [mdText(block.text), ""];
  if (block.kind === "list") return [...block.items.map((i) => `- ${mdText(i)}`), ""];
  return [...block.lines.map((l) => `    ${l}`), ""];
}

/** The letter to the provider, only with --claim. */
function claim(report: MonthlyReport): string[] {
  if (!report.claim) return [];
  return [
    `> ${mdText(claimPreparation(report.claim))}`,
    "",
    `## ${CLAIM_TITLE}`,
    "",
    ...claimBlocks(report.claim, reportDigest(report)).flatMap(claimBlock),
  ];
}

function preliminaryBanner(report: MonthlyReport): string[] {
  const sentence = say.preliminarySentence(report);
  return sentence === null ? [] : [`> **${sentence}**`, ""];
}

/** The Markdown form: what a person reads, rounded for display (availability 3 decimals, p99 1 decimal). */
export function renderMarkdown(report: MonthlyReport): string {
  const sections = [
    [
      `# SLA evidence report: ${mdText(monthTitle(report.month))}`,
      "",
      `${say.periodSentence(report)}. Generated ${formatInstant(report.generated_at)} UTC.`,
      "",
      ...say.contextPairs(report).map(([label, value]) => `- ${label}: ${mdText(value)}`),
      "",
      ...preliminaryBanner(report),
      `**${headline(report.summary.missed, report.summary.objectives_met)}**`,
      ...(unverifiedBanner(report.evidence) ? ["", `**${unverifiedBanner(report.evidence)}**`] : []),
      ...(report.warnings ?? []).flatMap((w) => ["", `**Warning:** ${mdText(w)}`]),
    ],
    summary(report),
    serviceClasses(report),
    maintenance(report),
    exclusions(report),
    validity(report),
    merchantRequests(report),
    incidents(report),
    coverage(report),
    evidence(report),
    claim(report),
  ].filter((s) => s.length > 0);
  return `${sections.map((s) => s.join("\n").trimEnd()).join("\n\n")}\n`;
}
