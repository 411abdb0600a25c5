import type { Statement } from "../record/evidence/signing.js";
import { givenReport, type MonthlyReport, ReportRefused, ReportUnreadable } from "../reports/index.js";
import { CheckFailed, UsageError } from "./errors.js";

/**
 * `evidence export --report FILE.json` (reports/report-file.ts givenReport): the file's text and
 * parsed form; an unreadable file is bad usage (exit 2), a changed or other month's report exit 1.
 */
export function existingReport(
  command: string,
  file: string,
  statement: Statement,
  keyId: string,
): { text: string; report: MonthlyReport } {
  try {
    return givenReport(file, statement, keyId);
  } catch (error) {
    if (error instanceof ReportUnreadable) throw new UsageError(`${command}: --report ${error.message}`);
    if (error instanceof ReportRefused) throw new CheckFailed(`${command}: --report ${error.message}`);
    throw error;
  }
}
