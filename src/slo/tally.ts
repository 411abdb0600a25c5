import type { CategoryId, ProbeId } from "../model/config.js";
import { latencyMsOf, type ProbeResult, STATUS_CLASSES, type StatusClass } from "../model/result.js";
import { DAY_MS, type Interval } from "../model/time.js";
import { StatusCounts } from "./availability.js";
import type { ExcludedBy, ExclusionIndex } from "./exclusions.js";
import { LatencyHistogram, type LatencyHistogramOptions } from "./histogram.js";
import type { QualifiedWindow } from "./maintenance.js";
import { DurationList } from "./percentile.js";

/** Each probe's timeout: a timeout counts in latency at max(duration, timeout) (contract section 1, amended). */
export type ProbeTimeouts = ReadonlyMap<ProbeId, number>;

const NO_TIMEOUTS: ProbeTimeouts = new Map();

/** Where a p99 came from: the raw durations (exact nearest rank) or stored HDR histograms (pruned months). */
export type LatencySource = "exact" | "histogram";

/**
 * One category's non-excluded requests over one minute, already judged against the exclusions:
 * the shape of a stored per-minute rollup. `byClass` and `latency` hold non-excluded requests only.
 */
export interface MinuteRollup {
  readonly category: CategoryId;
  /** Epoch ms of the minute's start. */
  readonly minute: number;
  readonly byClass: Readonly<Record<StatusClass, number>>;
  readonly excluded: number;
  /** Null when no request of the minute counts for latency. */
  readonly latency: LatencyHistogram | null;
}

/** Counts and latency of one category over one period: what every figure is computed from. */
export class CategoryTally {
  readonly counts = new StatusCounts();
  readonly latency: LatencyHistogram;
  /** Every latency-counted duration while they all came from raw results; null once a rollup's histogram was merged. */
  exact: DurationList | null = new DurationList();

  constructor(options: LatencyHistogramOptions = {}) {
    this.latency = new LatencyHistogram(options);
  }

  /** Counts a result whose exclusion has already been decided. */
  add(result: ProbeResult, excluded: boolean, timeoutMs?: number): void {
    if (excluded) {
      this.counts.excluded += 1;
      return;
    }
    this.counts.count(result);
    const ms = latencyMsOf(result, timeoutMs);
    if (ms === null) return;
    this.latency.record(ms);
    this.exact?.push(ms);
  }

  /**
   * Durations a MonthTally kept per day, added to the exact list only: recorded in the histogram
   * too once a rollup makes the histogram the source (a pruned month's raw part must count there).
   */
  addDurations(list: DurationList): void {
    if (this.exact === null) {
      list.forEach((ms) => {
        this.latency.record(ms);
      });
      return;
    }
    this.exact.append(list);
    this.#unrecorded.push(list);
  }

  readonly #unrecorded: DurationList[] = [];

  addRollup(rollup: MinuteRollup): void {
    for (const [statusClass, n] of Object.entries(rollup.byClass)) {
      this.counts.byClass[statusClass as StatusClass] += n;
    }
    this.counts.excluded += rollup.excluded;
    if (rollup.latency && rollup.latency.count > 0) {
      for (const list of this.#unrecorded.splice(0))
        list.forEach((ms) => {
          this.latency.record(ms);
        });
      this.latency.merge(rollup.latency);
      this.exact = null;
    }
  }

  /** The p99: exact from the raw durations where every one is known, else from the histogram. */
  p99(): { readonly ms: number | null; readonly source: LatencySource } {
    if (this.exact) return { ms: this.exact.percentile(99), source: "exact" };
    return { ms: this.latency.percentile(99), source: "histogram" };
  }
}

/**
 * Whether a result not excluded by maintenance or a declared exclusion is excluded automatically
 * (merchant_side, agent_error: src/slo/controls.ts). Called once per such result, in ts order.
 */
export type AutomaticJudge = (result: ProbeResult) => boolean;

/** Counts results per excluding interval id, for the report's audit trail. */
export class ExclusionLedger {
  readonly excludedRequests = new Map<string, number>();
  readonly #byPart = new Map<QualifiedWindow, number>();
  /** What excluded the result judged last; null when nothing declared did (the bundle's classification). */
  lastExcludedBy: ExcludedBy | null = null;

  constructor(readonly index: ExclusionIndex) {}

  /** Whether the result is excluded; remembers what excluded it. */
  judge(result: ProbeResult): boolean {
    const by = this.index.excludedBy(result.category, result.ts);
    this.lastExcludedBy = by;
    if (!by) return false;
    const key = `${by.kind}:${by.id}`;
    this.excludedRequests.set(key, (this.excludedRequests.get(key) ?? 0) + 1);
    if (by.part) this.#byPart.set(by.part, (this.#byPart.get(by.part) ?? 0) + 1);
    return true;
  }

  /** Requests excluded by the interval with this id; given a part of a maintenance window, by that part alone. */
  countFor(kind: "maintenance" | "exclusion", id: string, part?: QualifiedWindow): number {
    if (part) return this.#byPart.get(part) ?? 0;
    return this.excludedRequests.get(`${kind}:${id}`) ?? 0;
  }
}

/** One category of a MonthTally: counts for every day, the open day's durations, the closed days' kept for the month. */
class CategoryMonth {
  readonly month = new CategoryTally();
  readonly days: StatusCounts[];
  readonly dayP99: (number | null)[];
  openDay = new DurationList();

  constructor(days: number) {
    this.days = Array.from({ length: days }, () => new StatusCounts());
    this.dayP99 = new Array<number | null>(days).fill(null);
  }

  closeDay(day: number): void {
    this.dayP99[day] = this.openDay.percentile(99);
    this.month.addDurations(this.openDay);
    this.openDay = new DurationList();
  }
}

/**
 * A month of results tallied per category for the month and for each UTC day in one pass.
 * Results must arrive in ts order (as the evidence store yields them). Latency is exact: every
 * counted duration is kept (8 bytes each), the open day's read for its p99 and added to the
 * month's when the next day starts.
 */
export class MonthTally {
  readonly ledger: ExclusionLedger;
  readonly days: number;
  readonly #period: Interval;
  readonly #categories = new Map<CategoryId, CategoryMonth>();
  readonly #timeouts: ProbeTimeouts;
  #openDay = 0;
  #finished = false;

  readonly #automatic: AutomaticJudge;

  constructor(
    index: ExclusionIndex,
    categories: Iterable<CategoryId>,
    period: Interval,
    timeouts: ProbeTimeouts = NO_TIMEOUTS,
    automatic: AutomaticJudge = () => false,
  ) {
    this.ledger = new ExclusionLedger(index);
    this.#timeouts = timeouts;
    this.#automatic = automatic;
    this.#period = period;
    this.days = Math.round((period.end - period.start) / DAY_MS);
    for (const id of categories) this.#categories.set(id, new CategoryMonth(this.days));
  }

  /** Tallies one result: whether it was excluded, or null when it is outside the month or of no known category. */
  add(result: ProbeResult): boolean | null {
    if (this.#finished) throw new RangeError("a month tally takes no results once its figures were read");
    const { ts } = result;
    if (ts < this.#period.start || ts >= this.#period.end) return null;
    const category = this.#categories.get(result.category);
    if (!category) return null;
    const day = Math.floor((ts - this.#period.start) / DAY_MS);
    if (day !== this.#openDay) this.#advanceTo(day);
    const counts = category.days[day]!;
    // Declared maintenance and exclusions first; only what they leave is judged automatically.
    if (this.ledger.judge(result) || this.#automatic(result)) {
      counts.excluded += 1;
      return true;
    }
    counts.count(result);
    const ms = latencyMsOf(result, this.#timeouts.get(result.probe));
    if (ms !== null) category.openDay.push(ms);
    return false;
  }

  /** The month's tally of a category, every day included. */
  month(category: CategoryId): CategoryTally {
    this.#finish();
    return this.#categoryMonth(category).month;
  }

  /** One UTC day of a category (day 0 is the month's first). */
  day(category: CategoryId, day: number): { readonly counts: StatusCounts; readonly p99: number | null } {
    this.#finish();
    const month = this.#categoryMonth(category);
    return { counts: month.days[day]!, p99: month.dayP99[day]! };
  }

  #categoryMonth(category: CategoryId): CategoryMonth {
    const month = this.#categories.get(category);
    if (!month) throw new RangeError(`category "${category}" is not tallied`);
    return month;
  }

  #advanceTo(day: number): void {
    if (day < this.#openDay) {
      throw new RangeError("a month tally needs its results in ts order");
    }
    for (const category of this.#categories.values()) category.closeDay(this.#openDay);
    this.#openDay = day;
  }

  /** Closes the open day and sums the days' counts into the month's (once, rather than per result). */
  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    for (const category of this.#categories.values()) {
      category.closeDay(this.#openDay);
      const total = category.month.counts;
      for (const counts of category.days) {
        for (const c of STATUS_CLASSES) total.byClass[c] += counts.byClass[c];
        total.excluded += counts.excluded;
      }
    }
  }
}
