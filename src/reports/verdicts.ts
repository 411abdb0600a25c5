/**
 * Each record's verdict as the report decided it: counted, or excluded and by what. The evidence
 * bundle carries one line per record so that the provider can recompute every figure and dispute
 * any single exclusion against the windows, exclusions and control results beside it. The verdict
 * is taken from the report's own pass (src/slo decides); nothing here classifies a second time.
 */
import type { FeedWindow } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { isoUtc } from "../model/time.js";
import type { AutomaticReason } from "../model/validity.js";
import type { ControlFailure, ExcludedBy } from "../slo/index.js";
import type { MonthlyReport } from "./model.js";

export type RecordVerdict =
  | { readonly verdict: "counted" }
  | { readonly verdict: ExcludedBy["kind"]; readonly by: string }
  | { readonly verdict: "merchant_side"; readonly controls: readonly ControlFailure[] }
  | { readonly verdict: "agent_error" }
  /** `since`: when the configuration it was judged under took effect (null: from the first record). */
  | { readonly verdict: "target_unreached"; readonly since: number | null };

/** What the report's pass knows about one result once it was judged. */
export function verdictOf(
  excluded: boolean,
  by: ExcludedBy | null,
  automatic: AutomaticReason | null,
  failingControls: (ts: number, probe: string) => readonly ControlFailure[] | null,
  result: ProbeResult,
  unreachedSince: number | null = null,
): RecordVerdict {
  if (!excluded) return { verdict: "counted" };
  if (by) return { verdict: by.kind, by: by.id };
  // A merchant request its own client failed (flag client_side) is merchant_side by its span alone.
  if (automatic === "merchant_side" && result.flags?.includes("client_side"))
    return { verdict: "merchant_side", controls: [] };
  if (automatic === "merchant_side")
    return { verdict: "merchant_side", controls: failingControls(result.ts, result.probe) ?? [] };
  if (automatic === "agent_error") return { verdict: "agent_error" };
  if (automatic === "target_unreached") return { verdict: "target_unreached", since: unreachedSince };
  throw new RangeError(
    `result ${result.probe} at ${isoUtc(result.ts)} was excluded by nothing the report knows`,
  );
}

/**
 * One line of classification.ndjson: the record's identity (ts, probe, agent when it has one, and
 * for a merchant request source and correlation_id: the same members as its line in records.ndjson), its category and the verdict. Control results are
 * cited by control id, ts and error, so that they can be found among the bundle's records.
 */
export function verdictLine(result: ProbeResult, verdict: RecordVerdict): string {
  const line: Record<string, unknown> = { ts: isoUtc(result.ts), probe: result.probe };
  if (result.agent != null) line.agent = result.agent;
  // A merchant request's identity includes its span id (contract section 19).
  if (result.source === "traffic") {
    line.source = "traffic";
    line.correlation_id = result.correlationId;
  }
  line.category = result.category;
  line.verdict = verdict.verdict;
  if ("by" in verdict) line.by = verdict.by;
  if ("since" in verdict) line.since = verdict.since === null ? null : isoUtc(verdict.since);
  if ("controls" in verdict)
    line.controls = verdict.controls.map((c) => ({ control: c.control, ts: isoUtc(c.ts), error: c.error }));
  return JSON.stringify(line);
}

/**
 * The bundle's maintenance.json: the feed's windows as the store read them (epoch ms, the
 * configuration's units, so recompute.py merges them with the declared ones as the agent does),
 * and the report's verdict on every window, exclusion and automatic exclusion of the month.
 */
export function maintenanceDocument(report: MonthlyReport, feedWindows: readonly FeedWindow[]): string {
  const document = {
    month: report.month,
    feed_windows: feedWindows,
    windows: report.maintenance.windows,
    exclusions: report.exclusions,
    automatic_exclusions: report.automatic_exclusions,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
