import type { CategoryId, ProbeSpec, SloConfig } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { DAY_MS, type Interval, isoUtc, monthInterval } from "../model/time.js";
import { availabilityPct } from "./availability.js";
import { type ExcludedBy, ExclusionIndex } from "./exclusions.js";
import {
  type CategoryFigures,
  categoryFigures,
  type ExcludedCount,
  type ExclusionFigures,
  exclusionFigures,
  type MaintenanceFigures,
  maintenanceFigures,
  type ServiceClassFigures,
  serviceClassFigures,
} from "./figures.js";
import { type QualifiedWindow, qualifyMaintenanceWindows } from "./maintenance.js";
import {
  type AutomaticJudge,
  CategoryTally,
  ExclusionLedger,
  type MinuteRollup,
  MonthTally,
  type ProbeTimeouts,
} from "./tally.js";

/**
 * The parts of the configuration the figures depend on; the probes, when given, for their
 * timeouts (an imported timeout counts at max(duration, timeout)).
 */
export type FiguresConfig = Pick<
  SloConfig,
  "categories" | "serviceClasses" | "maintenance" | "exclusions"
> & {
  readonly probes?: readonly Pick<ProbeSpec, "id" | "timeoutMs">[];
};

function timeoutsOf(config: FiguresConfig): ProbeTimeouts {
  return new Map((config.probes ?? []).map((p) => [p.id, p.timeoutMs]));
}

export interface MonthlyFigures {
  readonly month: string;
  readonly period: { readonly start: string; readonly end: string };
  readonly categories: readonly CategoryFigures[];
  readonly service_classes: readonly ServiceClassFigures[];
  readonly maintenance: MaintenanceFigures;
  readonly exclusions: readonly ExclusionFigures[];
}

export interface MonthlyInput {
  readonly config: FiguresConfig;
  /** "YYYY-MM", a UTC calendar month. */
  readonly month: string;
  /** Raw results; those outside the month or of unknown categories are ignored. */
  readonly results: Iterable<ProbeResult>;
  /** Automatic exclusions (merchant_side, agent_error); none when absent. */
  readonly automatic?: AutomaticJudge;
}

export interface MonthlyRollupInput {
  readonly config: FiguresConfig;
  readonly month: string;
  /** Minute rollups judged against the same exclusions; those outside the month are ignored. */
  readonly rollups: Iterable<MinuteRollup>;
}

/** The maintenance verdicts and exclusion index of a configuration. */
export function exclusionsOf(config: FiguresConfig): { qualified: QualifiedWindow[]; index: ExclusionIndex } {
  const qualified = qualifyMaintenanceWindows(config.maintenance.windows, config.maintenance.policy);
  return { qualified, index: new ExclusionIndex(qualified, config.exclusions) };
}

function emptyTallies(config: FiguresConfig): Map<CategoryId, CategoryTally> {
  return new Map([...config.categories.keys()].map((id) => [id, new CategoryTally()]));
}

/** Contract section 4's figures for one month, from the raw results (the authoritative path). */
export function monthlyFigures({ config, month, results, automatic }: MonthlyInput): MonthlyFigures {
  const period = monthInterval(month);
  const { qualified, index } = exclusionsOf(config);
  const ledger = new ExclusionLedger(index);
  const tallies = emptyTallies(config);
  const timeouts = timeoutsOf(config);
  for (const result of results) {
    if (result.ts < period.start || result.ts >= period.end) continue;
    const tally = tallies.get(result.category);
    if (tally)
      tally.add(result, ledger.judge(result) || (automatic?.(result) ?? false), timeouts.get(result.probe));
  }
  const counted: ExcludedCount = (kind, id, part) => ledger.countFor(kind, id, part);
  return assemble(config, month, period, tallies, qualified, counted);
}

/**
 * The same figures from per-minute rollups (cheaper for a month of data). Exclusions were decided
 * when the rollups were made, so per-window excluded counts are unknown (null).
 */
export function monthlyFiguresFromRollups({ config, month, rollups }: MonthlyRollupInput): MonthlyFigures {
  const period = monthInterval(month);
  const { qualified } = exclusionsOf(config);
  const tallies = emptyTallies(config);
  for (const rollup of rollups) {
    if (rollup.minute < period.start || rollup.minute >= period.end) continue;
    tallies.get(rollup.category)?.addRollup(rollup);
  }
  return assemble(config, month, period, tallies, qualified, () => null);
}

function assemble(
  config: FiguresConfig,
  month: string,
  period: Interval,
  tallies: ReadonlyMap<CategoryId, CategoryTally>,
  qualified: readonly QualifiedWindow[],
  excludedCount: ExcludedCount,
): MonthlyFigures {
  const categories = [...config.categories.values()].map((category) =>
    categoryFigures(category, serviceClassOf(config, category.serviceClass), tallies.get(category.id)!),
  );
  const classes = [...config.serviceClasses.values()].map((cls) =>
    serviceClassFigures(
      cls,
      categories.filter((c) => c.service_class === cls.id),
    ),
  );
  return {
    month,
    period: { start: isoUtc(period.start), end: isoUtc(period.end) },
    categories,
    service_classes: classes,
    maintenance: maintenanceFigures(qualified, config.maintenance, period, excludedCount),
    exclusions: exclusionFigures(config.exclusions, period, excludedCount),
  };
}

function serviceClassOf(config: FiguresConfig, id: string) {
  const cls = config.serviceClasses.get(id);
  if (!cls) throw new RangeError(`category refers to unknown service class "${id}"`);
  return cls;
}

/** One category over one UTC day: the report's CSV rows and charts. */
export interface DailyFigures {
  /** "YYYY-MM-DD". */
  readonly date: string;
  readonly category: string;
  readonly service_class: string;
  readonly requests: number;
  readonly served: number;
  readonly excluded: number;
  readonly availability_pct: number | null;
  readonly latency_p99_ms: number | null;
}

/** A month's figures and its daily series, from one pass over results in ts order. */
export interface MonthFigures {
  readonly monthly: MonthlyFigures;
  /** Every category for every day of the month (days without traffic included, with null figures). */
  readonly daily: DailyFigures[];
}

/**
 * Contract section 4's figures and the daily series in one pass. The results must be in ts order
 * (the evidence store's order; a RangeError otherwise); `observe` sees each result of the month
 * with whether it was excluded and by which declared interval, so that a caller can watch the
 * same pass (incidents, coverage, the bundle's classification).
 */
export function monthFigures(
  input: MonthlyInput & {
    readonly observe?: (result: ProbeResult, excluded: boolean, by: ExcludedBy | null) => void;
    /**
     * Rollups of the part of the month whose raw results were pruned (none may overlap a raw
     * result): counted in the monthly figures, with latency from their HDR histograms.
     */
    readonly rollups?: Iterable<MinuteRollup>;
  },
): MonthFigures {
  const { config, month, results, observe } = input;
  const period = monthInterval(month);
  const { qualified, index } = exclusionsOf(config);
  const tally = new MonthTally(index, config.categories.keys(), period, timeoutsOf(config), input.automatic);
  for (const result of results) {
    const excluded = tally.add(result);
    // `by`: the maintenance window or exclusion that excluded it; null when counted or excluded automatically.
    if (excluded !== null && observe)
      observe(result, excluded, excluded ? tally.ledger.lastExcludedBy : null);
  }
  for (const rollup of input.rollups ?? []) {
    if (rollup.minute < period.start || rollup.minute >= period.end) continue;
    if (config.categories.has(rollup.category)) tally.month(rollup.category).addRollup(rollup);
  }
  const monthly = assemble(
    config,
    month,
    period,
    new Map([...config.categories.keys()].map((id) => [id, tally.month(id)])),
    qualified,
    (kind, id, part) => tally.ledger.countFor(kind, id, part),
  );
  return { monthly, daily: dailyRows(config, period, tally) };
}

function dailyRows(config: FiguresConfig, period: Interval, tally: MonthTally): DailyFigures[] {
  const rows: DailyFigures[] = [];
  for (let day = 0; day < tally.days; day++) {
    const date = isoUtc(period.start + day * DAY_MS).slice(0, 10);
    for (const category of config.categories.values()) {
      const { counts, p99 } = tally.day(category.id, day);
      rows.push({
        date,
        category: category.id,
        service_class: category.serviceClass,
        requests: counts.requests,
        served: counts.served,
        excluded: counts.excluded,
        availability_pct: availabilityPct(counts),
        latency_p99_ms: p99,
      });
    }
  }
  return rows;
}

/** Every category for every day of the month, from results in any order. */
export function dailyFigures({ config, month, results }: MonthlyInput): DailyFigures[] {
  const ordered = [...results].sort((a, b) => a.ts - b.ts);
  return monthFigures({ config, month, results: ordered }).daily;
}
