/**
 * `evidence export --report FILE.json`: the bundle carries the signed report the merchant already
 * sent (the one whose digest the claim letter shows) instead of a second one with its own
 * generated_at, so the digest in the letter is the digest of the bundle's report.json. The file
 * is checked as `verify --report` checks it and must be about the bundle's month, records,
 * configuration and key.
 */
import { readFileSync } from "node:fs";
import type { Statement } from "../record/evidence/signing.js";
import {
  checkReportSignature,
  type MonthlyReport,
  ReportUnreadable,
  strictJsonProblem,
} from "../reports/index.js";
import { CheckFailed, UsageError } from "./errors.js";

/** The report file's text and its parsed form, or a UsageError/CheckFailed saying why not. */
export function existingReport(
  command: string,
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
    throw new UsageError(`${command}: --report ${file} cannot be read as JSON (${reason})`);
  }
  const strict = strictJsonProblem(text);
  if (strict !== null) throw new CheckFailed(`${command}: --report ${file}: not the signed bytes: ${strict}`);
  let check: ReturnType<typeof checkReportSignature>;
  try {
    check = checkReportSignature(parsed);
  } catch (error) {
    if (error instanceof ReportUnreadable)
      throw new UsageError(`${command}: --report ${file}: ${error.message}`);
    throw error;
  }
  if (!check.ok) throw new CheckFailed(`${command}: --report ${file}: ${check.problem}`);
  const report = parsed as MonthlyReport;
  const ties: [string, unknown, unknown][] = [
    ["month", report.month, statement.month],
    ["evidence.records", report.evidence.records, statement.records],
    ["evidence.sha256", report.evidence.sha256, statement.sha256],
    ["evidence.config_sha256", report.evidence.config_sha256, statement.config_sha256],
    ["report_signature.key_id", check.keyId, keyId],
  ];
  for (const [what, stated, bundle] of ties)
    if (stated !== bundle)
      throw new CheckFailed(
        `${command}: --report ${file} is not this month's report: ${what} is ${String(stated)}, the evidence's is ${String(bundle)}`,
      );
  return { text, report };
}
