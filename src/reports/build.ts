import type { CategoryId, SloConfig } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { DAY_MS, type EpochMs, type Interval, isoUtc, monthInterval } from "../model/time.js";
import { isTrafficProbeId } from "../model/traffic.js";
import {
  type AutomaticReason,
  CONTROL_CATEGORY,
  controlIdOf,
  measurementProblemOf,
} from "../model/validity.js";
import type { FeedLeftOut, FeedOutage, ImportedRecords, InputsOutOfTime } from "../record/index.js";
import {
  AutomaticExclusionLog,
  automaticVerdictOf,
  availabilityPct,
  CONTROL_LOOKBACK_MS,
  type ControlSettings,
  ControlTimeline,
  controlSettingsOf,
  creditAmountOf,
  creditPctOf,
  type DailyFigures,
  type FiguresConfig,
  MeasurementProblemLog,
  type MinuteRollup,
  type MonthlyFigures,
  monthFigures,
  StatusCounts,
  sharedIdWarnings,
  TargetReach,
} from "../slo/index.js";
import { CategoryCoverage, mergedIntervals } from "./category-coverage.js";
import { ClassificationTally } from "./classification.js";
import { preliminaryReasons, reportContext } from "./context.js";
import { DataGapFinder, expectedProbeRuns, FALLBACK_PROBE_INTERVAL_MS, probeIntervalOf } from "./coverage.js";
import {
  importedEvidenceOf,
  importedWarnings,
  probeIntervalsAround,
  unconfiguredProbesOf,
} from "./imported.js";
import { IncidentDetector, MERGE_PROBE_INTERVALS } from "./incidents.js";
import { HourlyLatencyWatch } from "./latency-incidents.js";
import {
  type Coverage,
  type DailyRow,
  type MonthlyReport,
  missedObjectives,
  type ReportSummary,
} from "./model.js";
import { decidesFigures, sourcesDisagreeWarnings, TrafficTally } from "./traffic-figures.js";
import { type RecordVerdict, verdictOf } from "./verdicts.js";
import {
  type Backdated,
  backdatedWarning,
  controlChangeWarnings,
  controlsOnPathWarnings,
  controlsOnProviderHostWarnings,
  coverageWarning,
  DescriptorExhaustion,
  declaredNoticeWarnings,
  ForeignAgentRecords,
  feedLeftOutWarnings,
  feedMappingWarnings,
  feedOutageWarnings,
  inputsOutOfTimeWarning,
  policyWarnings,
  stallGuardWarnings,
  unsignedRunsWarning,
} from "./warnings.js";

/** What the report reads from the evidence store (src/record's store satisfies it). */
export interface EvidenceSource {
  /** Results with from <= ts < to, in ts order. */
  results(query: {
    readonly from: EpochMs;
    readonly to: EpochMs;
    readonly categories?: readonly CategoryId[];
  }): Iterable<ProbeResult>;
  /** The hash chain over the records of [from, to). */
  chainHead(range: { readonly from: EpochMs; readonly to: EpochMs }): {
    readonly records: number;
    readonly sha256: string;
  };
  /** Agent runs overlapping [from, to). */
  runIntervals(range: { readonly from: EpochMs; readonly to: EpochMs }): readonly unknown[];
  /** Stretches of [from, to) when no agent was running. */
  unmonitoredIntervals(from: EpochMs, to: EpochMs): readonly Interval[];
  /** Where the runs of [from, to) rest on the unsigned runs table of an older store; null: none do; absent: not known. */
  unsignedRunsUntil?(range: { readonly from: EpochMs; readonly to: EpochMs }): EpochMs | null;
  /** Input records deciding figures that are dated out of time (a clock set back or ahead); absent: not known. */
  inputsOutOfTime?(now: EpochMs): InputsOutOfTime | null;
  /** Records of [from, to) chained after a record an hour or more past `to` (back-dated); absent: not known. */
  backdatedRecords?(range: { readonly from: EpochMs; readonly to: EpochMs }): Backdated | null;
  /** Records of [from, to) that `import` stored, and those between the agent's own consecutive runs. */
  importedRecords?(
    range: { readonly from: EpochMs; readonly to: EpochMs },
    intervalOf: (probe: string) => number | null,
  ): ImportedRecords | null;
  /** Where raw results begin after retention pruned older ones; null when none were pruned. */
  prunedUntil?(): EpochMs | null;
  /** The configuration records (input log) in force during [from, to). */
  configRecords?(period: { readonly from: EpochMs; readonly to: EpochMs }): readonly {
    readonly ts: EpochMs;
    readonly payload: string;
  }[];
  /** Whether the probe got an HTTP response sent in [from, to) (target_unreached). */
  answeredBetween?(probe: string, from: EpochMs, to: EpochMs): boolean;
  /** Whether a response recorded before `before` came from `address` (target_unreached). */
  answeredFrom?(address: string, before: EpochMs): boolean;
  /** Stretches overlapping [from, to) in which the maintenance feed could not be read; absent: not known. */
  feedOutages?(range: { readonly from: EpochMs; readonly to: EpochMs }): readonly FeedOutage[];
  feedLeftOut?(range: { readonly from: EpochMs; readonly to: EpochMs }): readonly FeedLeftOut[];
  /** Stored rollups of [from, to) (minute or compacted hour rows), for the pruned part of a month. */
  rollups?(query: {
    readonly from: EpochMs;
    readonly to: EpochMs;
    readonly categories?: readonly CategoryId[];
  }): Iterable<MinuteRollup & { readonly spanMs: number; readonly probe?: string }>;
}

export interface MonthlyReportInput {
  readonly config: SloConfig;
  readonly store: EvidenceSource;
  /** "YYYY-MM", a UTC calendar month. */
  readonly month: string;
  /** From the injected clock: stamps the report and ends coverage for a month still running. */
  readonly now: EpochMs;
  /** Only these categories (and the service classes they belong to); all when absent. */
  readonly categories?: readonly CategoryId[];
  /** Who writes the report (the host name), for its context; null when not known. */
  readonly agent?: string | null;
  /** Sees every result of the month and whether it was excluded, in the same pass (the agent's summary). */
  readonly observeResult?: (result: ProbeResult, excluded: boolean) => void;
  /** Sees every result of the month with its verdict, in the same pass (the evidence bundle's classification). */
  readonly classify?: (result: ProbeResult, verdict: RecordVerdict) => void;
  /**
   * The month's results as the evidence verification reads them (every category, ts order) and
   * the digest it makes of them: the report reads the month in that pass instead of twice more.
   */
  readonly verified?: {
    readonly results: Iterable<ProbeResult>;
    digest(): { readonly records: number; readonly sha256: string };
  };
}

/**
 * The results of `categories`, in ts order, after handing every provider result (of any
 * category) to the control timeline: a provider answer is consistency evidence against a failing
 * control (src/slo/controls.ts), and the daemon sees every category's answers too. Each result
 * is also shown to `reach` (every one, maintenance or not: an answer is an answer) and
 * `unreached` told its verdict just before it is yielded.
 */
function* answersNoted(
  results: Iterable<ProbeResult>,
  timeline: ControlTimeline,
  categories: ReadonlySet<CategoryId>,
  traffic: SourceSplit,
  reach: TargetReach,
  unreached: (result: ProbeResult, verdict: boolean, since: EpochMs | null) => void,
) {
  for (const result of results) {
    if (controlIdOf(result) !== null) continue;
    timeline.add(result);
    if (result.source === "traffic") {
      // A merchant request has no probe configuration: target_unreached is the probes' own rule.
      if (!categories.has(result.category)) continue;
      traffic.tally.add(result);
      unreached(result, false, null);
      if (traffic.decides) yield result;
      continue;
    }
    const verdict = reach.observe(result);
    if (!categories.has(result.category)) continue;
    traffic.probes.add(result);
    unreached(result, verdict, reach.epochOf(result.probe));
    if (traffic.probesDecide) yield result;
  }
}

/** Contract section 19: merchant requests are tallied beside the probes; sla.source says which decide. */
interface SourceSplit {
  readonly tally: TrafficTally;
  /** The probes' results counted the same way, to cross-check the merchant's (sourcesDisagreeWarnings). */
  readonly probes: TrafficTally;
  /** Whether merchant requests enter the SLA figures. */
  readonly decides: boolean;
  /** Whether the probes' results enter them. */
  readonly probesDecide: boolean;
}

function sourceSplitOf(config: SloConfig): SourceSplit {
  return {
    tally: new TrafficTally(),
    probes: new TrafficTally(),
    decides: decidesFigures(config.sla.figuresFrom, true),
    probesDecide: decidesFigures(config.sla.figuresFrom, false),
  };
}

/**
 * Whether each probe's target had answered under its configuration, from the evidence log: the
 * configuration records up to the period's end and the answers before it (src/slo/target-reach.ts).
 */
function targetReachOf(store: EvidenceSource, period: Interval): TargetReach {
  const records = store.configRecords?.({ from: Number.MIN_SAFE_INTEGER, to: period.end }) ?? [];
  const answered = store.answeredBetween?.bind(store) ?? (() => false);
  const answeredFrom = store.answeredFrom?.bind(store) ?? (() => false);
  return new TargetReach(records, period.start, answered, answeredFrom);
}

/** A category id that the configuration does not know; the message lists the known ones. */
export class UnknownCategoryError extends RangeError {
  constructor(
    readonly unknown: readonly string[],
    readonly known: readonly string[],
  ) {
    super(`unknown category ${unknown.map((c) => `"${c}"`).join(", ")} (known: ${known.join(", ")})`);
    this.name = "UnknownCategoryError";
  }
}

/** The configuration narrowed to the selected categories and the classes they belong to. */
function scopedConfig(config: SloConfig, selected: readonly CategoryId[] | undefined): FiguresConfig {
  if (!selected) return config;
  const known = [...config.categories.keys()];
  const unknown = selected.filter((c) => !config.categories.has(c));
  if (unknown.length > 0) throw new UnknownCategoryError(unknown, known);
  const categories = new Map([...config.categories].filter(([id]) => selected.includes(id)));
  const classIds = new Set([...categories.values()].map((c) => c.serviceClass));
  const serviceClasses = new Map([...config.serviceClasses].filter(([id]) => classIds.has(id)));
  return { ...config, categories, serviceClasses };
}

/** Per class that `--category` left some categories of out, the categories its figures pool. */
function classesNarrowed(config: SloConfig, scoped: FiguresConfig): Map<string, CategoryId[]> {
  const narrowed = new Map<string, CategoryId[]>();
  for (const id of scoped.serviceClasses.keys()) {
    const all = [...config.categories.values()].filter((c) => c.serviceClass === id);
    const pooled = all.filter((c) => scoped.categories.has(c.id)).map((c) => c.id);
    if (pooled.length < all.length) narrowed.set(id, pooled);
  }
  return narrowed;
}

/** What the same pass over the month's results yields besides the SLA figures. */
class MonthWatch {
  recorded = 0;
  readonly incidents: IncidentDetector;
  readonly gaps: DataGapFinder;
  readonly latency: HourlyLatencyWatch;
  /** Flags and body errors of each category's counted (non-excluded) requests. */
  readonly classification = new Map<CategoryId, ClassificationTally>();
  /** Every request of each category, excluded or not: the measured availability. */
  readonly measured = new Map<CategoryId, StatusCounts>();
  /** The same per category and UTC day (index from the month's start), for the daily rows. */
  readonly #measuredDaily = new Map<CategoryId, StatusCounts[]>();
  readonly #periodStart: number;
  readonly problems = new MeasurementProblemLog();
  readonly #expectations: ReadonlyMap<string, SloConfig["probes"][number]["expect"]>;

  constructor(config: SloConfig, categories: readonly CategoryId[], period: Interval) {
    this.#expectations = new Map(config.probes.map((p) => [p.id, p.expect]));
    this.#periodStart = period.start;
    const timeouts = new Map(config.probes.map((p) => [p.id, p.timeoutMs]));
    this.latency = new HourlyLatencyWatch((probe) => timeouts.get(probe));
    const intervalOf = (category: CategoryId) => probeIntervalOf(config.probes, category, period.start);
    this.incidents = new IncidentDetector((category) => MERGE_PROBE_INTERVALS * intervalOf(category));
    // Nothing at all for a few runs of the slowest selected probe: nobody was measuring.
    const slowest = Math.max(
      ...categories.map(intervalOf),
      categories.length === 0 ? FALLBACK_PROBE_INTERVAL_MS : 0,
    );
    this.gaps = new DataGapFinder(period.start, MERGE_PROBE_INTERVALS * slowest);
  }

  /** Counts a result and watches it for failures (excluded requests are no incident) and gaps. */
  observe(result: ProbeResult, excluded: boolean): void {
    // Coverage counts the probes' runs; merchant requests are counted in their own block.
    const traffic = result.source === "traffic";
    if (!traffic) this.recorded += 1;
    this.gaps.observe(result.ts);
    let measured = this.measured.get(result.category);
    if (!measured) {
      measured = new StatusCounts();
      this.measured.set(result.category, measured);
    }
    measured.count(result);
    let days = this.#measuredDaily.get(result.category);
    if (!days) {
      days = [];
      this.#measuredDaily.set(result.category, days);
    }
    // A day index, not a `${category}|${day}` key: no string made and hashed per result.
    const day = Math.floor((result.ts - this.#periodStart) / DAY_MS);
    days[day] ??= new StatusCounts();
    days[day].count(result);
    // A merchant's own 401 is its request's answer, not a probe misconfigured.
    const problem = traffic
      ? null
      : measurementProblemOf(result.status, this.#expectations.get(result.probe));
    if (problem) this.problems.add(result.category, problem, result.ts);
    if (excluded) {
      this.incidents.observeExcluded(result);
      return;
    }
    this.incidents.observe(result);
    this.latency.observe(result);
    this.tallyOf(result.category).add(result);
  }

  validityOf(category: CategoryId, merchantSideMinutes: ReadonlyMap<CategoryId, number>) {
    const measured = this.measured.get(category);
    return {
      measured_availability_pct: measured ? availabilityPct(measured) : null,
      measurement_problems: this.problems.of(category),
      merchant_side_excluded_minutes: merchantSideMinutes.get(category) ?? 0,
    };
  }

  /** A daily row with its measured availability and merchant-side minutes. */
  withMeasured(
    row: DailyFigures,
    merchantSide: ReadonlyMap<CategoryId, ReadonlyMap<number, number>>,
  ): DailyRow {
    const day = Math.round((Date.parse(`${row.date}T00:00:00Z`) - this.#periodStart) / DAY_MS);
    const counts = this.#measuredDaily.get(row.category)?.[day];
    return {
      ...row,
      measured_availability_pct: counts ? availabilityPct(counts) : null,
      merchant_side_excluded_minutes: merchantSide.get(row.category)?.get(day) ?? 0,
    };
  }

  tallyOf(category: CategoryId): ClassificationTally {
    let tally = this.classification.get(category);
    if (!tally) {
      tally = new ClassificationTally();
      this.classification.set(category, tally);
    }
    return tally;
  }
}

function summaryOf(report: Pick<MonthlyFigures, "categories" | "service_classes">): ReportSummary {
  const missed = missedObjectives(report.categories, report.service_classes);
  const flags = report.categories.flatMap((c) => [c.availability_met, c.latency_met]);
  const anyFigure = flags.some((f) => f !== null);
  return { objectives_met: anyFigure ? missed.length === 0 : null, missed };
}

const iso = (intervals: readonly Interval[]) =>
  intervals.map((i) => ({ start: isoUtc(i.start), end: isoUtc(i.end) }));

/** Expected runs from the schedules, against what was recorded; agent downtime only where an agent ran. */
function coverageOf(
  input: MonthlyReportInput,
  categories: readonly CategoryId[],
  period: Interval,
  watch: MonthWatch,
  perCategory: CategoryCoverage,
): Pick<MonthlyReport, "coverage" | "unmonitored" | "data_gaps"> {
  const { config, store } = input;
  const until = Math.min(period.end, Math.max(period.start, input.now));
  const expected = expectedProbeRuns(config.probes, period.start, until, new Set(categories));
  const runs = store.runIntervals({ from: period.start, to: until }).length;
  const coverage: Coverage = {
    expected_probes: expected,
    recorded_probes: watch.recorded,
    ratio: expected === 0 ? null : watch.recorded / expected,
    agent_runs: runs,
  };
  const unmonitored = runs === 0 ? [] : store.unmonitoredIntervals(period.start, until);
  // A gap in one category's records is a gap even while other categories were recorded.
  // Where nothing at all was recorded the overall gap says so already (its own bounds kept).
  const overall = watch.gaps.gaps(until);
  const overlapsOverall = (g: Interval) => overall.some((o) => g.start < o.end && o.start < g.end);
  const gaps = mergedIntervals([...overall, ...perCategory.gaps(until).filter((g) => !overlapsOverall(g))]);
  return { coverage, unmonitored: iso(unmonitored), data_gaps: iso(gaps) };
}

/**
 * The control settings that judge the period's results, each from when the agent loaded it
 * (contract section 14): from the log's configuration records, the given configuration's without any.
 */
function controlSettingsIn(config: SloConfig, store: EvidenceSource, period: Interval): ControlSettings[] {
  const records = store.configRecords?.({ from: period.start - CONTROL_LOOKBACK_MS, to: period.end }) ?? [];
  return controlSettingsOf(records, config);
}

/**
 * The JSON report's `controls` (contract section 14): those in force when the period began and
 * each change loaded within it; none when no controls were configured in it.
 */
function controlsSection(
  settings: readonly ControlSettings[],
  period: Interval,
): Pick<MonthlyReport, "controls"> {
  const shown = (s: ControlSettings) => ({
    quorum: Math.min(s.quorum ?? 2, Math.max(1, s.controls.length)),
    controls: s.controls.map((c) => c.id),
  });
  const first = settings.findLast((s) => s.from <= period.start) ?? settings[0];
  const changes = settings.filter((s) => s !== first && s.from > period.start && s.from < period.end);
  if (first === undefined || [first, ...changes].every((s) => s.controls.length === 0)) return {};
  return {
    controls: {
      ...shown(first),
      ...(changes.length > 0
        ? { changes: changes.map((s) => ({ loaded_at: isoUtc(s.from), ...shown(s) })) }
        : {}),
    },
  };
}

/**
 * The stored control results that can decide requests of the period: from CONTROL_LOOKBACK_MS
 * before it (a control's witness state depends on when its run of failures began).
 */
function controlTimelineOf(
  config: SloConfig,
  store: EvidenceSource,
  period: Interval,
  settings = controlSettingsIn(config, store, period),
): ControlTimeline {
  const timeline = ControlTimeline.ofSettings(settings);
  if (timeline.empty) return timeline;
  const results = store.results({
    from: period.start - CONTROL_LOOKBACK_MS,
    to: period.end,
    categories: [CONTROL_CATEGORY],
  });
  for (const result of results) timeline.add(result);
  // The provider's answers of the day before the month: the consistency evidence of a control
  // run that began before it (the month's own are added in the pass, in ts order).
  const before = store.results({ from: period.start - CONTROL_LOOKBACK_MS, to: period.start });
  for (const result of before) if (controlIdOf(result) === null) timeline.add(result);
  return timeline;
}

/**
 * The rollups of the month's pruned part (contract section 1, amended: HDR only where the raw
 * records are gone): rows that end before the oldest kept result, so none overlaps a raw one.
 */
function* prunedRollups(
  store: EvidenceSource,
  period: Interval,
  categories: readonly CategoryId[],
  split: SourceSplit,
) {
  const until = store.prunedUntil?.() ?? null;
  if (until === null || until <= period.start || !store.rollups) return;
  const to = Math.min(until, period.end);
  for (const rollup of store.rollups({ from: period.start, to, categories })) {
    // Rollups are kept per probe id; a route's id says the minute's requests were merchant requests.
    const traffic = rollup.probe !== undefined && isTrafficProbeId(rollup.probe);
    const decides = traffic ? split.decides : split.probesDecide;
    if (decides && rollup.minute + rollup.spanMs <= until) yield rollup;
  }
}

/**
 * The records of the days retention did not prune. A record of a pruned day that the prune had to
 * keep (imported late, chained after newer records) is in that day's rollups: counted there, it is
 * left out here, so no request is counted twice or dropped (no import adds to a pruned day).
 */
function* rawDaysOnly(results: Iterable<ProbeResult>, prunedUntil: EpochMs | null): Iterable<ProbeResult> {
  for (const result of results) if (prunedUntil === null || result.ts >= prunedUntil) yield result;
}

/**
 * The monthly SLA evidence report from the evidence store and the configuration. Reads the month
 * once, in ts order: totals, daily series, incidents and gaps in the same pass.
 */
export function buildMonthlyReport(input: MonthlyReportInput): MonthlyReport {
  const { config, store, month } = input;
  const period = monthInterval(month);
  const scoped = scopedConfig(config, input.categories);
  const categories = [...scoped.categories.keys()];
  const query = { from: period.start, to: period.end, categories };
  const watch = new MonthWatch(config, categories, period);
  const foreign = new ForeignAgentRecords(config.agent.id);
  const descriptors = new DescriptorExhaustion();
  const perCategory = new CategoryCoverage(config, categories, period);
  const controlSettings = controlSettingsIn(config, store, period);
  const automatic = new AutomaticExclusionLog(controlTimelineOf(config, store, period, controlSettings));
  // The automatic reason of the result being judged, for its verdict once the pass has counted it.
  let reasonOfLast: AutomaticReason | null = null;
  let unreachedLast = false;
  let unreachedSince: EpochMs | null = null;
  const failingControls = (ts: number, probe: string) => automatic.controls.failingAt(ts, probe);
  const split = sourceSplitOf(config);
  const { monthly: figures, daily } = monthFigures({
    config: scoped,
    month,
    // Every category's answers are the controls' consistency evidence, as in the daemon.
    results: answersNoted(
      rawDaysOnly(
        input.verified?.results ?? store.results({ ...query, categories: [...config.categories.keys()] }),
        store.prunedUntil?.() ?? null,
      ),
      automatic.controls,
      new Set(categories),
      split,
      targetReachOf(store, period),
      (result, verdict, since) => {
        unreachedLast = verdict;
        unreachedSince = since;
        // A measurement problem even inside maintenance: the probe measures nothing either way.
        if (verdict) watch.problems.add(result.category, "target_unreached", result.ts);
      },
    ),
    rollups: prunedRollups(store, period, categories, split),
    automatic: (result) => {
      const { reason, problem } = automaticVerdictOf(result, automatic.controls, unreachedLast);
      automatic.observe(result, reason);
      reasonOfLast = reason;
      if (problem) watch.problems.add(result.category, problem, result.ts);
      return reason !== null;
    },
    observe: (result, excluded, by) => {
      watch.observe(result, excluded);
      perCategory.observe(result);
      foreign.observe(result);
      descriptors.observe(result);
      input.observeResult?.(result, excluded);
      input.classify?.(
        result,
        verdictOf(excluded, by, reasonOfLast, failingControls, result, unreachedSince),
      );
      reasonOfLast = null;
    },
  });
  const { coverage, unmonitored, data_gaps } = coverageOf(input, categories, period, watch, perCategory);
  // With --category, windows and exclusions that cover none of the selected categories are noise.
  const touches = (x: { readonly categories: readonly string[] }) =>
    x.categories.includes("all") || x.categories.some((c) => scoped.categories.has(c));
  const narrowedClasses = classesNarrowed(config, scoped);
  const importedRecords = store.importedRecords?.(
    { from: period.start, to: period.end },
    probeIntervalsAround(config.probes, period.start),
  );
  const imported = importedEvidenceOf(importedRecords, categories);
  const context = reportContext(
    config,
    input.agent ?? null,
    store.configRecords?.({ from: period.start, to: period.end }) ?? [],
  );
  const warnings = [
    ...[...narrowedClasses].map(
      ([id, pooled]) =>
        `--category: service class ${id} pools only ${pooled.join(", ")} of its categories: its availability, result and credit are not the class's SLA figures`,
    ),
    ...importedWarnings(imported, unconfiguredProbesOf(importedRecords, categories)),
    ...foreign.warnings(),
    ...descriptors.warnings(),
    ...controlsOnPathWarnings(automatic.controls.droppedOnPath()),
    ...controlsOnProviderHostWarnings(automatic.controls.witnessedOnProviderHost()),
    ...backdatedWarning(store.backdatedRecords?.({ from: period.start, to: period.end })),
    ...inputsOutOfTimeWarning(store.inputsOutOfTime?.(input.now)),
    ...coverageWarning(coverage.ratio),
    ...unsignedRunsWarning(
      coverage.agent_runs === 0
        ? null
        : (store.unsignedRunsUntil?.({
            from: period.start,
            to: Math.min(period.end, Math.max(period.start, input.now)),
          }) ?? null),
    ),
    ...perCategory.warnings(Math.min(period.end, Math.max(period.start, input.now))),
    ...sourcesDisagreeWarnings(split.tally, split.probes),
    ...declaredNoticeWarnings(figures.maintenance.windows.filter(touches)),
    ...policyWarnings(config.maintenance),
    ...sharedIdWarnings(config.maintenance.windows, period),
    ...stallGuardWarnings(context.max_stall_ms),
    ...controlChangeWarnings(controlsSection(controlSettings, period).controls),
    ...feedOutageWarnings(store.feedOutages?.({ from: period.start, to: period.end }) ?? []),
    ...feedLeftOutWarnings(
      store.feedLeftOut?.({ from: period.start, to: period.end }) ?? [],
      new Set(config.maintenance.windows.flatMap((w) => (w.feed ? [w.feed.providerId] : []))),
    ),
    ...feedMappingWarnings(store.configRecords?.({ from: period.start, to: period.end }) ?? []),
  ];
  const chain = input.verified?.digest() ?? store.chainHead({ from: period.start, to: period.end });
  const preliminary_reasons = preliminaryReasons(period, input.now, coverage);
  const merchantSideMinutes = automatic.merchantSideMinutes();
  const merchantSideByDay = automatic.merchantSideMinutesByDay(period.start);
  return {
    month,
    generated_at: isoUtc(input.now),
    period: figures.period,
    context,
    preliminary: preliminary_reasons.length > 0,
    preliminary_reasons,
    categories: figures.categories.map((c) => ({
      ...c,
      ...watch.validityOf(c.category, merchantSideMinutes),
      ...watch.tallyOf(c.category).counts(),
      // Only where traffic is configured or decides: reports of probe-only agents keep their shape.
      ...(config.traffic || split.decides ? { traffic: split.tally.figuresOf(c.category) } : {}),
    })),
    service_classes: figures.service_classes.map((s) => {
      const credit_pct = creditPctOf({ requests: s.requests, served: s.successful }, config.sla.credits);
      const pooled = narrowedClasses.get(s.service_class);
      return {
        ...s,
        credit_pct,
        credit_amount: creditAmountOf(credit_pct, config.sla.monthlyFee),
        ...(pooled ? { pooled_categories: pooled } : {}),
      };
    }),
    maintenance: { ...figures.maintenance, windows: figures.maintenance.windows.filter(touches) },
    ...controlsSection(controlSettings, period),
    exclusions: figures.exclusions.filter(touches),
    coverage,
    evidence: { records: chain.records, sha256: chain.sha256, ...(imported ? { imported } : {}) },
    summary: summaryOf(figures),
    automatic_exclusions: automatic.episodes(),
    incidents: watch.incidents.incidents(),
    latency_incidents: watch.latency.incidents((category) => {
      const row = figures.categories.find((c) => c.category === category);
      return row?.latency_met === false ? row.latency_objective_ms : null;
    }),
    unmonitored,
    data_gaps,
    daily: daily.map((row) => ({
      ...watch.withMeasured(row, merchantSideByDay),
      ...(config.traffic || split.decides
        ? { traffic: split.tally.dayFiguresOf(row.category, row.date) }
        : {}),
    })),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}
