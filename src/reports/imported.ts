import { type CategoryId, type ProbeSpec, recordedProbesOf } from "../model/config.js";
import type { EpochMs } from "../model/time.js";
import { CONSECUTIVE_RUNS_WITHIN, type ImportedRecords } from "../record/index.js";
import { type FirePlan, firePlansFor } from "../schedule/index.js";
import type { ImportedEvidence } from "./model.js";

/**
 * Each configured probe's interval between runs around `at` (a cron schedule's next gap), by the
 * probe ids its results carry (a flow's steps: `flow/step`); null for an id the configuration
 * does not have.
 */
export function probeIntervalsAround(
  probes: readonly ProbeSpec[],
  at: EpochMs,
): (probe: string) => number | null {
  const plans = firePlansFor(probes);
  const intervals = new Map<string, number>();
  for (const probe of probes) {
    const interval =
      probe.schedule.kind === "every" ? probe.schedule.intervalMs : cronGap(plans.get(probe.id)!, at);
    intervals.set(probe.id, interval);
    for (const recorded of recordedProbesOf(probe)) intervals.set(recorded.probe, interval);
  }
  return (probe) => intervals.get(probe) ?? null;
}

function cronGap(plan: FirePlan, at: EpochMs): number {
  const first = plan.next(at);
  return plan.next(first) - first;
}

/** The report's `evidence.imported`, for the selected categories; null when none was imported. */
export function importedEvidenceOf(
  imported: ImportedRecords | null | undefined,
  categories: readonly CategoryId[],
): ImportedEvidence | null {
  const rows = (imported?.byCategory ?? []).filter((c) => categories.includes(c.category));
  if (rows.length === 0) return null;
  return {
    records: rows.reduce((sum, c) => sum + c.records, 0),
    interleaved: rows.reduce((sum, c) => sum + c.interleaved, 0),
    by_category: rows.map(({ category, records, interleaved }) => ({ category, records, interleaved })),
  };
}

/** The imported records of the selected categories under probe ids the configuration does not have. */
export function unconfiguredProbesOf(
  imported: ImportedRecords | null | undefined,
  categories: readonly CategoryId[],
): ImportedRecords["unconfiguredProbes"] {
  return (imported?.unconfiguredProbes ?? []).filter((p) => categories.includes(p.category));
}

/**
 * Imported records are counted, never refused (an agent offline, another agent's results); the
 * warnings say how many, under which probe ids the configuration does not have, and, loudly, how
 * many sit between the agent's own consecutive runs of the same probe or category.
 */
export function importedWarnings(
  imported: ImportedEvidence | null,
  unconfigured: ImportedRecords["unconfiguredProbes"] = [],
): string[] {
  if (imported === null) return [];
  const per = (key: "records" | "interleaved") =>
    imported.by_category
      .filter((c) => c[key] > 0)
      .map((c) => `${c.category} ${c[key]}`)
      .join(", ");
  const n = imported.records;
  const named =
    unconfigured.length === 0
      ? ""
      : ` Imported under probe ids this configuration does not have: ${unconfigured.map((p) => `${p.probe} (${p.category} ${p.records})`).join(", ")}.`;
  const lines = [
    `${n} record${n === 1 ? " was" : "s were"} stored by slo-agent import (the evidence log's import input records), not measured by this agent's own run (${per("records")}); they count in these figures.${named}`,
  ];
  const i = imported.interleaved;
  if (i > 0)
    lines.push(
      `IMPORTED RESULTS INTERLEAVE WITH THE AGENT'S OWN: ${i} imported record${i === 1 ? " lies" : "s lie"} between two consecutive runs that this agent measured itself for the same probe, or the same category, and agent (less than ${CONSECUTIVE_RUNS_WITHIN} probe intervals apart), where its schedule leaves no run (${per("interleaved")}). They cannot be results of that agent's probes, yet they count in these figures.`,
    );
  return lines;
}
