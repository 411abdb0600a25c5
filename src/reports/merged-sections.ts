import { formatCount, formatMs, formatPct } from "./format.js";
import { mdCode, mdText } from "./markdown.js";
import type { MergedReport as Merged } from "./merge.js";
import type { MonthlyReport } from "./model.js";

/** Whether the report was merged from several agents (`report --from-agents`). */
export function isMerged(report: MonthlyReport): report is Merged {
  return Array.isArray((report as { merged_from?: unknown }).merged_from);
}

function agentLines(report: Merged): string[][] {
  return report.merged_from.map((a) => [
    a.agent,
    a.region,
    formatCount(a.evidence.records),
    a.evidence.sha256,
    a.evidence.verified === false ? "UNVERIFIED" : a.evidence.signature ? "signed" : "unsigned",
  ]);
}

function regionLines(report: Merged): string[][] {
  return report.categories.flatMap((c) =>
    c.regions.map((r) => [
      c.category,
      r.region,
      formatCount(r.requests),
      formatCount(r.successful),
      formatPct(r.availability_pct),
      formatMs(r.latency_p99_ms),
    ]),
  );
}

const AGENT_HEAD = ["Agent", "Region", "Records", "Evidence SHA-256", "Statement"];
const REGION_HEAD = ["Category", "Region", "Requests", "Successful", "Availability", "p99"];

function intro(report: Merged): string {
  return `Merged from ${report.merged_from.length} agent${report.merged_from.length === 1 ? "" : "s"}: counts are added exactly and each p99 is the nearest rank of all the agents' durations pooled. Each agent's own statement is signed with its key (JSON: merged_from[].evidence).`;
}

/** The Markdown section: the agents, their evidence, and every category per region. */
export function mergedMarkdown(report: Merged): string {
  const row = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const table = (head: readonly string[], rows: readonly string[][]) => [
    row(head),
    row(head.map(() => "---")),
    ...rows.map((cells) => row(cells)),
  ];
  return [
    "## Agents",
    "",
    intro(report),
    "",
    ...table(
      AGENT_HEAD,
      agentLines(report).map(([agent, region, ...rest]) => [mdCode(agent!), mdText(region!), ...rest]),
    ),
    "",
    "## Regions",
    "",
    ...table(
      REGION_HEAD,
      regionLines(report).map(([category, region, ...rest]) => [mdCode(category!), mdText(region!), ...rest]),
    ),
    "",
  ].join("\n");
}

const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The same section in HTML, placed at the end of the report's main element. */
export function mergedHtml(report: Merged): string {
  const table = (head: readonly string[], rows: readonly string[][]) =>
    `<table><thead><tr>${head.map((h) => `<th>${html(h)}</th>`).join("")}</tr></thead><tbody>${rows
      .map((cells) => `<tr>${cells.map((c) => `<td>${html(c)}</td>`).join("")}</tr>`)
      .join("")}</tbody></table>`;
  return `<section id="agents"><h2>Agents</h2><p>${html(intro(report))}</p>${table(AGENT_HEAD, agentLines(report))}<h2>Regions</h2>${table(REGION_HEAD, regionLines(report))}</section>\n`;
}
