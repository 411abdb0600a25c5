import type { CategoryId, SloConfig } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import {
  type CategorySnapshot,
  SLO_WINDOWS,
  type SloSnapshot,
  type SloWindow,
  type WindowFigures,
} from "../model/snapshot.js";
import { DAY_MS, type EpochMs, HOUR_MS, MINUTE_MS, monthInterval, monthOf } from "../model/time.js";
import { availabilityRatio, meetsAvailabilityTarget } from "./availability.js";
import { TimeBucket, type WindowTotals, windowTotals } from "./buckets.js";
import { burnRate, errorBudget } from "./budget.js";
import { ExclusionIndex } from "./exclusions.js";
import { LatencyHistogram, meetsLatencyObjective } from "./histogram.js";
import { qualifyMaintenanceWindows } from "./maintenance.js";

/** Minute detail is kept this long: enough for the 3d window to start on its exact minute. */
export const MINUTE_DETAIL_MS = 3 * DAY_MS + HOUR_MS;
/** Hour buckets are kept this long: a 30-day window rounded down to its hour, or a 31-day month. */
export const HOUR_DETAIL_MS = 31 * DAY_MS + HOUR_MS;

const FIXED_WINDOW_MS: Readonly<Record<Exclude<SloWindow, "month">, number>> = {
  "5m": 5 * MINUTE_MS,
  "30m": 30 * MINUTE_MS,
  "1h": HOUR_MS,
  "6h": 6 * HOUR_MS,
  "1d": DAY_MS,
  "3d": 3 * DAY_MS,
  "30d": 30 * DAY_MS,
};

const MINUTES_PER_HOUR = 60;

class CategoryBuckets {
  readonly minutes = new Map<number, TimeBucket>();
  readonly hours = new Map<number, TimeBucket>();
  /** Moves with every change to the buckets: a window's figures computed at the same version and minute still hold. */
  version = 0;

  add(result: ProbeResult, excluded: boolean): void {
    this.version++;
    const minute = Math.floor(result.ts / MINUTE_MS);
    const hour = Math.floor(minute / MINUTES_PER_HOUR);
    bucketAt(this.minutes, minute).add(result, excluded);
    bucketAt(this.hours, hour).add(result, excluded);
  }

  /** Buckets covering the whole minutes [first, last]: hours where whole hours fit, minutes at the edges. */
  covering(first: number, last: number): TimeBucket[] {
    const out: TimeBucket[] = [];
    const firstHour = Math.ceil(first / MINUTES_PER_HOUR);
    const endHour = Math.floor((last + 1) / MINUTES_PER_HOUR);
    if (firstHour >= endHour) {
      collect(this.minutes, first, last, out);
      return out;
    }
    collect(this.minutes, first, firstHour * MINUTES_PER_HOUR - 1, out);
    collect(this.hours, firstHour, endHour - 1, out);
    collect(this.minutes, endHour * MINUTES_PER_HOUR, last, out);
    return out;
  }

  prune(oldestMinute: number, oldestHour: number): void {
    const held = this.minutes.size + this.hours.size;
    for (const key of this.minutes.keys()) if (key < oldestMinute) this.minutes.delete(key);
    for (const key of this.hours.keys()) if (key < oldestHour) this.hours.delete(key);
    if (this.minutes.size + this.hours.size !== held) this.version++;
  }
}

function bucketAt(map: Map<number, TimeBucket>, key: number): TimeBucket {
  let bucket = map.get(key);
  if (!bucket) {
    bucket = new TimeBucket();
    map.set(key, bucket);
  }
  return bucket;
}

function collect(map: ReadonlyMap<number, TimeBucket>, first: number, last: number, out: TimeBucket[]): void {
  for (let key = first; key <= last; key++) {
    const bucket = map.get(key);
    if (bucket) out.push(bucket);
  }
}

/**
 * The minutes [first, last] a window covers at `now`. Windows end with the minute that contains
 * `now`. A window reaching further back than the minute detail (30d) starts at the beginning of
 * the hour holding its exact start; `month` starts at the month's first minute.
 */
export function windowMinutes(window: SloWindow, now: EpochMs): { first: number; last: number } {
  const last = Math.floor(now / MINUTE_MS);
  if (window === "month") return { first: monthInterval(monthOf(now)).start / MINUTE_MS, last };
  const span = FIXED_WINDOW_MS[window] / MINUTE_MS;
  const first = last - span + 1;
  if ((span - 1) * MINUTE_MS < MINUTE_DETAIL_MS) return { first, last };
  return { first: Math.floor(first / MINUTES_PER_HOUR) * MINUTES_PER_HOUR, last };
}

/**
 * The daemon's in-memory SLO state: per-category minute buckets for the last 3 days and hour
 * buckets for the last 31, so every window of SLO_WINDOWS is computed from at most ~860 buckets
 * without rescanning results. Exclusion is decided when a result is recorded. Seed it after a
 * restart by recording the stored results again; call prune() now and then to bound memory.
 */
export class RollingWindows {
  readonly #config: Pick<SloConfig, "categories" | "serviceClasses">;
  readonly #index: ExclusionIndex;
  readonly #buckets = new Map<CategoryId, CategoryBuckets>();
  /**
   * Each category's window figures as last computed, with the buckets' version and the minute
   * they were computed at. A snapshot (every 5 s) recomputed every window of every category, ~2.4
   * ms at the shipped profile, where most categories had no new result since the last one and
   * the windows move only at each minute (issue 30, idle CPU).
   */
  readonly #figures = new Map<
    CategoryId,
    { version: number; minute: number; windows: readonly WindowFigures[] }
  >();
  #firstRecordedAt = Number.POSITIVE_INFINITY;

  constructor(config: Pick<SloConfig, "categories" | "serviceClasses" | "maintenance" | "exclusions">) {
    this.#config = config;
    const qualified = qualifyMaintenanceWindows(config.maintenance.windows, config.maintenance.policy);
    this.#index = new ExclusionIndex(qualified, config.exclusions);
    for (const id of config.categories.keys()) this.#buckets.set(id, new CategoryBuckets());
  }

  /**
   * Counts one result; results of categories the configuration does not know (controls among
   * them) are ignored. `automaticallyExcluded`: merchant_side or agent_error (src/slo/controls.ts).
   */
  record(result: ProbeResult, automaticallyExcluded = false): void {
    const buckets = this.#buckets.get(result.category);
    if (!buckets) return;
    if (result.ts < this.#firstRecordedAt) this.#firstRecordedAt = result.ts;
    buckets.add(result, automaticallyExcluded || this.#index.excludedBy(result.category, result.ts) !== null);
  }

  /** The oldest result recorded (replayed ones included), or null before any: how long there is data. */
  firstRecordedAt(): EpochMs | null {
    return Number.isFinite(this.#firstRecordedAt) ? this.#firstRecordedAt : null;
  }

  /** Totals of one category over the whole minutes [first, last] (see windowMinutes). */
  totals(category: CategoryId, first: number, last: number): WindowTotals {
    const buckets = this.#buckets.get(category);
    if (!buckets) throw new RangeError(`unknown category "${category}"`);
    return windowTotals(buckets.covering(first, last));
  }

  /** Burn rate of one category over the last `durationMs` ending with the minute of `now` (e.g. the 2h alert window). */
  burnRateOver(category: CategoryId, durationMs: number, now: EpochMs): number | null {
    const last = Math.floor(now / MINUTE_MS);
    const totals = this.totals(category, last - Math.ceil(durationMs / MINUTE_MS) + 1, last);
    return burnRate({ target: this.#targetOf(category), ...totals });
  }

  snapshot(now: EpochMs): SloSnapshot {
    const categories: CategorySnapshot[] = [];
    for (const category of this.#config.categories.values()) {
      const target = this.#targetOf(category.id);
      const windows = this.#windowsOf(category.id, target, now);
      const month = windows.find((w) => w.window === "month")!;
      const monthTally = { requests: month.requests, served: month.served };
      categories.push({
        category: category.id,
        serviceClass: category.serviceClass,
        availabilityTarget: target,
        latencyObjectiveMs: category.latencyP99Ms,
        windows,
        errorBudgetRemaining: errorBudget({ target, ...monthTally }).remainingRatio,
        breach: {
          availability: meetsAvailabilityTarget(monthTally, target) === false,
          latency: meetsLatencyObjective(month.latencyP99Ms, category.latencyP99Ms, "histogram") === false,
        },
        maintenanceActive: this.#index.activeMaintenance(category.id, now),
      });
    }
    return { at: now, categories };
  }

  /** Drops the buckets no window needs any more at `now`. */
  prune(now: EpochMs): void {
    const minute = Math.floor(now / MINUTE_MS);
    const monthStartHour = monthInterval(monthOf(now)).start / HOUR_MS;
    const oldestHour = Math.min(monthStartHour, Math.floor((now - HOUR_DETAIL_MS) / HOUR_MS));
    for (const buckets of this.#buckets.values()) {
      buckets.prune(minute - MINUTE_DETAIL_MS / MINUTE_MS, oldestHour);
    }
  }

  /** Buckets held, for memory accounting. */
  get bucketCount(): { minutes: number; hours: number; latencyValues: number } {
    let minutes = 0;
    let hours = 0;
    let latencyValues = 0;
    for (const b of this.#buckets.values()) {
      minutes += b.minutes.size;
      hours += b.hours.size;
      for (const h of b.hours.values()) latencyValues += h.latencyEntries;
    }
    return { minutes, hours, latencyValues };
  }

  /** SLO_WINDOWS' figures of one category at `now`, computed again only when its buckets or the minute moved. */
  #windowsOf(category: CategoryId, target: number, now: EpochMs): readonly WindowFigures[] {
    const version = this.#buckets.get(category)!.version;
    const minute = Math.floor(now / MINUTE_MS);
    const cached = this.#figures.get(category);
    if (cached && cached.version === version && cached.minute === minute) return cached.windows;
    const windows = SLO_WINDOWS.map((window) => {
      const { first, last } = windowMinutes(window, now);
      return figuresOf(window, this.totals(category, first, last), target);
    });
    this.#figures.set(category, { version, minute, windows });
    return windows;
  }

  #targetOf(category: CategoryId): number {
    const cls = this.#config.categories.get(category)?.serviceClass;
    const target = cls === undefined ? undefined : this.#config.serviceClasses.get(cls)?.availabilityTarget;
    if (target === undefined) throw new RangeError(`no availability target for category "${category}"`);
    return target;
  }
}

function figuresOf(window: SloWindow, totals: WindowTotals, target: number): WindowFigures {
  return {
    window,
    requests: totals.requests,
    served: totals.served,
    excluded: totals.excluded,
    availability: availabilityRatio(totals),
    latencyP99Ms: totals.p99Us === null ? null : LatencyHistogram.readingOf(totals.p99Us / 1000),
    burnRate: burnRate({ target, ...totals }),
  };
}
