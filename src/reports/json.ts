import type { MonthlyReport } from "./model.js";

/**
 * The JSON form: full precision, keys in the order the report was built in, so that the same data
 * and configuration give the same bytes apart from `generated_at`.
 */
export function renderJson(report: MonthlyReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
