import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { Statement } from "../record/evidence/signing.js";
import type { MonthlyReport } from "./model.js";
import { checkReportSignature, type ReportCheck, ReportUnreadable } from "./signature.js";
import { strictJsonProblem } from "./strict-json.js";

/** A report file whose bytes are not what was signed, or not the report asked for: exit 1. */
export class ReportRefused extends Error {
  override name = "ReportRefused";
}

/** A report is at most a few MB; a bound keeps /dev/zero or a mistaken file from filling memory. */
const MAX_REPORT_BYTES = 64 * 1024 * 1024;

/** What `verify --report` found in a report file that could be read. */
export type ReportFileCheck =
  | {
      readonly ok: true;
      readonly keyId: string;
      readonly digest: string;
      /** Why the report says its evidence did not verify; null: it says it did. */
      readonly unverified: string | null;
    }
  | { readonly ok: false; readonly problem: string };

/**
 * Checks a JSON report file's report_signature (contract section 13): a problem names the file;
 * a file that is not a regular file, too large, unreadable, not JSON or not a signed report
 * throws ReportUnreadable.
 */
export async function verifyReportFile(file: string): Promise<ReportFileCheck> {
  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new ReportUnreadable(`${file} is not a regular file`);
    if (info.size > MAX_REPORT_BYTES)
      throw new ReportUnreadable(`${file} is larger than ${MAX_REPORT_BYTES} bytes: not a report`);
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error instanceof ReportUnreadable) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ReportUnreadable(`cannot read ${file} (${reason})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ReportUnreadable(`${file} is not JSON (${(error as Error).message})`);
  }
  const strict = strictJsonProblem(text);
  if (strict !== null) return { ok: false, problem: `${file}: not the signed bytes: ${strict}` };
  const check = checkedOrUnreadable(file, parsed);
  if (!check.ok) return { ok: false, problem: `${file}: ${check.problem}` };
  const evidence = (parsed as { evidence?: { verified?: unknown; problem?: unknown } }).evidence;
  const unverified = evidence?.verified === false ? String(evidence.problem ?? "no reason given") : null;
  return { ok: true, keyId: check.keyId, digest: check.digest, unverified };
}

/**
 * `evidence export --report FILE.json`: the signed report the merchant already sent, checked as
 * `verify --report` checks it, and about the statement's month, records, configuration and key.
 * Its text and parsed form; ReportUnreadable (exit 2) or ReportRefused (exit 1) naming the file.
 */
export function givenReport(
  file: string,
  statement: Statement,
  keyId: string,
): { text: string; report: MonthlyReport } {
  let text: string;
  let parsed: unknown;
  try {
    text = readFileSync(file, "utf8");
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ReportUnreadable(`${file} cannot be read as JSON (${reason})`);
  }
  const strict = strictJsonProblem(text);
  if (strict !== null) throw new ReportRefused(`${file}: not the signed bytes: ${strict}`);
  const check = checkedOrUnreadable(file, parsed);
  if (!check.ok) throw new ReportRefused(`${file}: ${check.problem}`);
  const report = parsed as MonthlyReport;
  const ties: [string, unknown, unknown][] = [
    ["month", report.month, statement.month],
    ["evidence.records", report.evidence.records, statement.records],
    ["evidence.sha256", report.evidence.sha256, statement.sha256],
    ["evidence.config_sha256", report.evidence.config_sha256, statement.config_sha256],
    ["report_signature.key_id", check.keyId, keyId],
  ];
  // The bundle carries the report's own statement (its generated_at): every other member must be
  // the one the store's records give now.
  const own = report.evidence.statement;
  if (own === undefined || report.evidence.signature === undefined)
    throw new ReportRefused(`${file} carries no evidence.statement and evidence.signature to bundle`);
  for (const [member, value] of Object.entries(statement))
    if (member !== "generated_at") ties.push([`evidence.statement.${member}`, own[member], value]);
  for (const [member, value] of Object.entries(own))
    if (!(member in statement)) ties.push([`evidence.statement.${member}`, value, undefined]);
  for (const [what, stated, bundle] of ties)
    if (stated !== bundle)
      throw new ReportRefused(
        `${file} is not this month's report: ${what} is ${String(stated)}, the evidence's is ${String(bundle)}`,
      );
  return { text, report };
}

/** checkReportSignature, with ReportUnreadable naming the file. */
function checkedOrUnreadable(file: string, parsed: unknown): ReportCheck {
  try {
    return checkReportSignature(parsed);
  } catch (error) {
    if (error instanceof ReportUnreadable) throw new ReportUnreadable(`${file}: ${error.message}`);
    throw error;
  }
}
