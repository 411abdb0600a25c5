import type { MaintenancePolicy, SloConfig } from "../model/config.js";
import type { ProbeResult } from "../model/index.js";
import { type EpochMs, isoUtc } from "../model/time.js";
import { BACKDATED_BEHIND_MS, type BackdatedRecords, type FeedOutage } from "../record/index.js";
import { formatInstant } from "./format.js";

/**
 * Oddities that do not break the chain but that a reader of the figures must know (issue 23,
 * item 7): each is one sentence in the report's `warnings`, shown by every format.
 */

/** Counts the month's records that name another agent than the one reporting. */
export class ForeignAgentRecords {
  readonly #counts = new Map<string, number>();

  constructor(private readonly own: string) {}

  observe(result: ProbeResult): void {
    const agent = result.agent;
    if (agent == null || agent === this.own) return;
    this.#counts.set(agent, (this.#counts.get(agent) ?? 0) + 1);
  }

  warnings(): string[] {
    return [...this.#counts]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(
        ([agent, n]) =>
          `${n} record${n === 1 ? "" : "s"} of the month name agent "${agent}", not this agent "${this.own}": another agent's results count in these figures (imported or merged); the same request under two agent ids counts twice.`,
      );
  }
}

/** Records of the month chained well after newer ones (store.backdatedRecords). */
export type Backdated = BackdatedRecords;

/** Counted, not refused: an honest late import (the agent was offline) is back-dated too. */
export function backdatedWarning(backdated: Backdated | null | undefined): string[] {
  if (!backdated || backdated.records === 0) return [];
  const perCategory = backdated.byCategory.map((c) => `${c.category} ${c.records}`).join(", ");
  return [
    `${backdated.records} record${backdated.records === 1 ? " was" : "s were"} back-dated: chained after records at least ${BACKDATED_BEHIND_MS / 60_000} minutes newer (first at seq ${backdated.firstSeq}), so written well after they were observed, by a late import or a clock that went back (${perCategory}); they count in these figures.`,
  ];
}

/**
 * A store from before runs were input records: its unmonitored time up to `until` comes from the
 * unsigned `runs` table, which a row inserted or edited there changes unseen (docs/evidence-store.md).
 */
export function unsignedRunsWarning(until: EpochMs | null): string[] {
  if (until === null) return [];
  return [
    `the agent runs before ${isoUtc(until)} come from the store's unsigned runs table (written before runs were signed input records): the unmonitored periods before then rest on it, and a row inserted or edited there would change them unseen.`,
  ];
}

export function coverageWarning(ratio: number | null): string[] {
  if (ratio === null || ratio <= 1) return [];
  return [
    `coverage is ${ratio.toFixed(3)}: more results than the schedules expect, so some requests may be counted twice (duplicate imports, several agents, or a changed schedule).`,
  ];
}

/**
 * The report's warnings for declared windows whose notice the agent's log cannot bear out: one in
 * no configuration the agent loaded, and one announced before the log began that qualifies on it.
 * A window judged in parts is named once.
 */
export function declaredNoticeWarnings(
  windows: readonly {
    readonly id: string;
    readonly qualified: boolean;
    readonly declared_notice?: string;
    readonly declared_announced_at?: string;
  }[],
): string[] {
  const lines = new Map<string, string>();
  for (const w of windows) {
    const declared = w.declared_announced_at;
    if (lines.has(w.id) || declared === undefined) continue;
    if (w.declared_notice === "not_loaded")
      lines.set(
        w.id,
        `maintenance window ${w.id} is in no configuration this agent loaded: its notice counts from when this report was made (generated_at), not from its declared announced_at ${formatInstant(declared)}.`,
      );
    else if (w.declared_notice === "before_log" && w.qualified)
      lines.set(
        w.id,
        `maintenance window ${w.id} qualifies on its declared announced_at ${formatInstant(declared)}, before this agent's log began: unverified (the log cannot show it was announced then).`,
      );
  }
  return [...lines.values()];
}

/** A maintenance policy as one phrase: "at least 7 days' notice, at most 5 occasions and 15 hours per year". */
function policyText(p: MaintenancePolicy): string {
  return `at least ${p.minNoticeDays} days' notice, at most ${p.maxOccasionsPerYear} occasions and ${p.maxHoursPerYear} hours per year`;
}

/**
 * The maintenance policy's history within the month and a given policy the log does not hold
 * (contract section 14; slo/feed-windows.ts policyOfMonth): the figures use the logged one.
 */
export function policyWarnings(maintenance: SloConfig["maintenance"]): string[] {
  const log = maintenance.policyLog;
  if (log === undefined) return [];
  const judged = policyText(maintenance.policy);
  const changes = log.changes.map(
    (v) =>
      `the maintenance policy changed on ${formatInstant(isoUtc(v.loadedAt))} UTC to ${policyText(v.policy)}: the month is judged by the policy in force when it began (${judged}); a change takes effect from the next month.`,
  );
  const unapplied =
    log.unapplied === null
      ? []
      : [
          `the maintenance policy given now (${policyText(log.unapplied)}) is none the agent's log holds for the month: not applied; the month is judged by the logged policy (${judged}).`,
        ];
  return [...changes, ...unapplied];
}

/**
 * A maintenance feed the agent could not read (src/record/feed-reachability.ts): a window the
 * provider announced meanwhile is in no figure, so a provider failure it covered counts as
 * downtime here (or a window it cancelled still excludes), and the reader must know.
 */
export function feedOutageWarnings(outages: readonly FeedOutage[]): string[] {
  return outages.map(
    (o) =>
      `the maintenance feed ${o.feed} could not be read from ${isoUtc(o.from)} to ${o.to === null ? "the end of what the log holds (still unreadable at its last record)" : isoUtc(o.to)} (${o.attempts} attempt${o.attempts === 1 ? "" : "s"}${o.problem ? `, first: ${o.problem}` : ""}): windows it announced then are not known to this report.`,
  );
}
