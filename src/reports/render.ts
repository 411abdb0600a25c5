import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { renderCsv } from "./csv.js";
import { renderHtml } from "./html.js";
import { renderJson } from "./json.js";
import { renderMarkdown } from "./markdown.js";
import { isMerged, mergedHtml, mergedMarkdown } from "./merged-sections.js";
import type { MonthlyReport } from "./model.js";

/** The text forms, rendered in-process. */
export const TEXT_FORMATS = ["json", "md", "html", "csv"] as const;
export type TextFormat = (typeof TEXT_FORMATS)[number];
/** Every form `report` writes: the text forms and a PDF printed from the HTML by Chromium. */
export const REPORT_FORMATS = [...TEXT_FORMATS, "pdf"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const RENDERERS: Record<TextFormat, (report: MonthlyReport) => string> = {
  json: renderJson,
  md: renderMarkdown,
  html: renderHtml,
  csv: renderCsv,
};

/** Spellings accepted for --format and recognised as file extensions. */
const ALIASES: Record<string, ReportFormat> = {
  json: "json",
  md: "md",
  markdown: "md",
  html: "html",
  htm: "html",
  csv: "csv",
  pdf: "pdf",
};

export function renderReport(report: MonthlyReport, format: TextFormat): string {
  const text = RENDERERS[format](report);
  // A report merged from several agents (report --from-agents) also says who measured what.
  if (!isMerged(report)) return text;
  if (format === "md") return `${text.trimEnd()}\n\n${mergedMarkdown(report)}`;
  if (format === "html") return text.replace("</main>", `${mergedHtml(report)}</main>`);
  return text;
}

/** The format a --format value names, or null. */
export function parseFormat(value: string): ReportFormat | null {
  return ALIASES[value.toLowerCase()] ?? null;
}

/** The format an --out file's extension names, or null (no extension, or one of no known format). */
export function formatOfFile(out: string): ReportFormat | null {
  return parseFormat(extname(out).slice(1));
}

/**
 * The format when --format is not given: the --out file's (the caller refuses an --out whose
 * extension names no format), else Markdown for a person at a terminal and JSON for a pipe.
 */
export function defaultFormat(out: string | undefined, stdoutIsTerminal: boolean): ReportFormat | null {
  if (out !== undefined) return formatOfFile(out);
  return stdoutIsTerminal ? "md" : "json";
}

/** Writes beside the target and renames over it, so that a reader never sees half a report. */
export async function writeAtomically(file: string, content: string | Uint8Array): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, content, { flag: "wx" });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
