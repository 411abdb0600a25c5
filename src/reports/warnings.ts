import { looserTerms } from "../config/policy-terms.js";
import { DEFAULT_STALL_MS, type MaintenancePolicy, type SloConfig } from "../model/config.js";
import type { ProbeResult } from "../model/index.js";
import { type EpochMs, isoUtc } from "../model/time.js";
import {
  BACKDATED_BEHIND_MS,
  type BackdatedRecords,
  type FeedLeftOut,
  type FeedOutage,
  type InputsOutOfTime,
} from "../record/index.js";
import { formatInstant } from "./format.js";
import { printable } from "./printable.js";

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

/**
 * Counts the month's runs that failed inside the agent because it ran out of file descriptors
 * (EMFILE: the process's limit, ENFILE: the system's): agent_error, excluded, so the provider was
 * not measured then, and a reader must know those runs are missing rather than healthy.
 */
export class DescriptorExhaustion {
  #runs = 0;
  #first: EpochMs | null = null;
  #last: EpochMs | null = null;

  observe(result: ProbeResult): void {
    if (!result.flags?.includes("agent_error")) return;
    // A transport failure's code is in its detail ("connect EMFILE 127.0.0.1:443"), not errorCode (the vendor's).
    if (!/\bE[MN]FILE\b/.test(result.detail ?? "")) return;
    this.#runs++;
    this.#first ??= result.ts;
    this.#last = result.ts;
  }

  warnings(): string[] {
    if (this.#first === null || this.#last === null) return [];
    const n = this.#runs;
    return [
      `the agent ran out of file descriptors (EMFILE/ENFILE) between ${isoUtc(this.#first)} and ${isoUtc(this.#last)}: ${n} run${n === 1 ? " was" : "s were"} unmeasured (agent_error, excluded from these figures), so the provider's failures then are not in them; raise the agent's open-file limit (ulimit -n) or lower max_in_flight (check-config compares them).`,
    ];
  }
}

/**
 * Controls that failed with a probe but were no witness for it because they had reached an address
 * that probe reached or tried (the provider's host under another name, src/slo/controls.ts).
 */
export function controlsOnPathWarnings(dropped: readonly { control: string; probe: string }[]): string[] {
  return dropped.map(
    ({ control, probe }) =>
      `control "${control}" reached an address that probe "${probe}" reached or tried (the provider's host under another name), so it witnessed none of that probe's failures and they count as the provider's; move the control off the provider's network path.`,
  );
}

/**
 * Controls that witnessed some of a probe's failures (merchant_side) after reaching that probe's
 * host on another port (src/slo/controls.ts): the exclusions rest on a control the provider's own
 * machine can fail.
 */
export function controlsOnProviderHostWarnings(
  pairs: readonly { control: string; probe: string }[],
): string[] {
  return pairs.map(
    ({ control, probe }) =>
      `control "${control}" reached the host that probe "${probe}" reached, on another port, and witnessed failures of that probe as merchant-side: if the provider's host or process failed, the control failed with it and the provider's outage is excluded as the merchant's; move the control off the provider's machines.`,
  );
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
 * Configurations and maintenance observations dated out of time (contract 14, "When an input
 * counts as seen"): what they hold counts from the newest input before them, so a verdict resting
 * on their date is not what the log shows, and the clock that wrote them was wrong.
 */
export function inputsOutOfTimeWarning(out: InputsOutOfTime | null | undefined): string[] {
  if (!out) return [];
  const first = `input seq ${out.firstSeq}, dated ${isoUtc(out.firstTs)}`;
  const why = {
    after_report:
      "after this report was made: the agent's clock was set ahead when it wrote it, and every configuration and maintenance sighting recorded after it counts from that date (a provider's window can look late that was not)",
    after_later:
      "after an input chained after it: the agent's clock was wrong for one of the two (set ahead when this one was written, or set back when the later one was); if ahead, every configuration and maintenance sighting recorded after it counts from that date (a provider's window can look late that was not)",
    before_earlier:
      "before an input chained ahead of it: the agent's clock was wrong for one of the two (set back when this one was written, or set ahead when the earlier one was); what it recorded counts from the newest record before it",
  }[out.way];
  return [
    `${out.records} input record${out.records === 1 ? "" : "s"} of the evidence log ${out.records === 1 ? "is" : "are"} out of time, the first at ${first}, ${why}; maintenance verdicts and configurations resting on ${out.records === 1 ? "it" : "them"} are not borne out by the log.`,
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
  const judged = policyText(maintenance.policy);
  const loose = looserTerms(maintenance.policy);
  const looser =
    loose.length === 0
      ? []
      : [
          `the maintenance policy that judges this month (${judged}) is looser than the SLA's published terms (${loose.map((l) => l.term).join(", ")}; maintenance.policy ${loose.map((l) => l.field).join(", ")}): maintenance the SLA counts as downtime may be excluded here.`,
        ];
  const log = maintenance.policyLog;
  if (log === undefined) return looser;
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
  return [...looser, ...changes, ...unapplied];
}

/**
 * agent.max_stall_ms other than the contract's 50 (section 14): a larger value books more of the
 * agent's own delay as the provider's latency, a smaller one excludes more of the provider's
 * failures as agent_error.
 */
export function stallGuardWarnings(values: readonly number[] | undefined): string[] {
  return (values ?? [])
    .filter((ms) => ms !== DEFAULT_STALL_MS)
    .map(
      (ms) =>
        `agent.max_stall_ms was ${ms} ms for (part of) the month, not the contract's ${DEFAULT_STALL_MS}: ${ms > DEFAULT_STALL_MS ? "more of the agent's own delay is booked as the provider's latency or timeouts" : "more of the provider's failures are excluded as agent_error"} than the contract intends.`,
    );
}

/**
 * Each change of maintenance.feed.components (which categories a feed window's components cover)
 * among the configuration records of the month (in force at its start and loaded during it): the
 * feed windows observed before it keep the categories of the mapping they were observed with.
 */
export function feedMappingWarnings(
  recorded: readonly { readonly ts: EpochMs; readonly payload: string }[],
): string[] {
  const warnings: string[] = [];
  let last: string | undefined;
  for (const { ts, payload } of recorded) {
    const feed = (JSON.parse(payload) as { maintenance?: { feed?: { components?: unknown } | null } })
      .maintenance?.feed;
    if (feed === undefined || feed === null) continue;
    const mapping = JSON.stringify(feed.components ?? null);
    if (last !== undefined && mapping !== last)
      warnings.push(
        `maintenance.feed.components changed at ${isoUtc(ts)} (from ${last} to ${mapping}): feed windows read before keep the categories they were observed with; the new mapping applies only to feed windows read, or whose components the provider changes, from then on, and takes no category away from a window already read.`,
      );
    last = mapping;
  }
  return warnings;
}

/**
 * Each change of the controls within the month (contract section 14): the results sent before it
 * were judged by the earlier settings, so a reload after an outage cannot re-judge the outage.
 */
export function controlChangeWarnings(
  controls:
    | {
        readonly changes?: readonly {
          readonly loaded_at: string;
          readonly quorum: number;
          readonly controls: readonly string[];
        }[];
      }
    | undefined,
): string[] {
  return (controls?.changes ?? []).map(
    (c) =>
      `the controls changed on ${formatInstant(c.loaded_at)} UTC to ${c.controls.length === 0 ? "none" : `${c.controls.join(", ")} (quorum ${c.quorum})`}: results sent from then on are judged by them, the earlier ones by the controls in force when they were sent.`,
  );
}

/**
 * A maintenance feed the agent could not read (src/record/feed-reachability.ts): a window the
 * provider announced meanwhile is in no figure, so a provider failure it covered counts as
 * downtime here (or a window it cancelled still excludes), and the reader must know.
 */
/** How many left-out entries of one feed a report names; the rest are counted. */
export const LEFT_OUT_NAMED = 20;
/** How much of a left-out entry's line (the provider's text) a report shows. */
export const LEFT_OUT_CHARS = 200;

/**
 * Each entry of a readable maintenance feed the agent left out (an unmapped component, a malformed
 * entry): the provider's text made printable and cut to LEFT_OUT_CHARS, at most LEFT_OUT_NAMED per
 * feed and then how many more. `windowIds`: the provider ids of the feed windows the report
 * judges; an entry that is one of them (read before or after it was left out) says so, and is
 * named first.
 */
export function feedLeftOutWarnings(
  leftOut: readonly FeedLeftOut[],
  windowIds: ReadonlySet<string> = new Set(),
): string[] {
  const warnings: string[] = [];
  const byFeed = new Map<string, FeedLeftOut[]>();
  for (const l of leftOut) {
    const entries = byFeed.get(l.feed) ?? [];
    entries.push(l);
    byFeed.set(l.feed, entries);
  }
  const isWindow = (l: FeedLeftOut) => [...windowIds].some((id) => l.entry.startsWith(`${id} (`));
  for (const [feed, entries] of byFeed) {
    // The entries the report also judges as windows are named first.
    const named = [...entries.filter(isWindow), ...entries.filter((l) => !isWindow(l))];
    for (const l of named.slice(0, LEFT_OUT_NAMED)) {
      const raw = printable(l.entry);
      const entry = raw.length > LEFT_OUT_CHARS ? `${raw.slice(0, LEFT_OUT_CHARS)}… (cut)` : raw;
      warnings.push(
        `the maintenance feed ${feed} showed an entry the agent left out from ${isoUtc(l.from)}: ${entry}; ${
          isWindow(l)
            ? "the agent read it as a window at another time: it is judged as the maintenance window the report lists under its id."
            : "while left out it is no maintenance window of this report."
        }`,
      );
    }
    if (entries.length > LEFT_OUT_NAMED)
      warnings.push(
        `the maintenance feed ${feed} showed ${entries.length - LEFT_OUT_NAMED} more entries the agent left out (the evidence log lists them all).`,
      );
  }
  return warnings;
}

export function feedOutageWarnings(outages: readonly FeedOutage[]): string[] {
  return outages.map(
    (o) =>
      `the maintenance feed ${o.feed} could not be read from ${isoUtc(o.from)} to ${o.to === null ? "the end of what the log holds (still unreadable at its last record)" : isoUtc(o.to)} (${o.attempts} attempt${o.attempts === 1 ? "" : "s"}${o.problem ? `, first: ${o.problem}` : ""}): windows it announced then are not known to this report.`,
  );
}
