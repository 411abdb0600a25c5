import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { renderCsv } from "./csv.js";
import { renderHtml } from "./html.js";
import { renderJson } from "./json.js";
import { renderMarkdown } from "./markdown.js";
import type { MonthlyReport } from "./model.js";

export const REPORT_FORMATS = ["json", "md", "html", "csv"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const RENDERERS: Record<ReportFormat, (report: MonthlyReport) => string> = {
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
};

export function renderReport(report: MonthlyReport, format: ReportFormat): string {
  return RENDERERS[format](report);
}

/** The format a --format value names, or null. */
export function parseFormat(value: string): ReportFormat | null {
  return ALIASES[value.toLowerCase()] ?? null;
}

/**
 * The format when --format is not given: from the --out file's extension when it has a known
 * one, else Markdown for a person at a terminal and JSON for a pipe or a file.
 */
export function defaultFormat(out: string | undefined, stdoutIsTerminal: boolean): ReportFormat {
  if (out !== undefined) return parseFormat(extname(out).slice(1)) ?? "json";
  return stdoutIsTerminal ? "md" : "json";
}

/** Writes beside the target and renames over it, so that a reader never sees half a report. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, text, { encoding: "utf8", flag: "wx" });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
