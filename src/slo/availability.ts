import {
  type ProbeResult,
  STATUS_CLASSES,
  type StatusClass,
  servedOf,
  statusClassOf,
} from "../model/result.js";

/** R and SR of contract section 1: non-excluded requests, and those of them answered 200–499. */
export interface Tally {
  readonly requests: number;
  readonly served: number;
}

/** A% = SR / R * 100 at full precision; null for no traffic (never 100). */
export function availabilityPct(tally: Tally): number | null {
  // SR * 100 is an exact integer, so one division gives the correctly rounded percentage:
  // 619 of 625 is 99.04, where (SR / R) * 100 would print 99.03999999999999.
  return tally.requests === 0 ? null : (tally.served * 100) / tally.requests;
}

/** SR / R as a ratio in [0, 1]; null for no traffic. */
export function availabilityRatio(tally: Tally): number | null {
  return tally.requests === 0 ? null : tally.served / tally.requests;
}

/** Adds tallies: how service classes pool their categories' requests (not a mean of means). */
export function pooledTally(tallies: Iterable<Tally>): Tally {
  let requests = 0;
  let served = 0;
  for (const t of tallies) {
    requests += t.requests;
    served += t.served;
  }
  return { requests, served };
}

/**
 * A decimal percentage or ratio from the configuration, with binary floating-point noise removed,
 * so that a 99.0% target gives a budget of exactly 1% of R and reports "99" rather than 99.00000000000001.
 */
export function decimal(value: number): number {
  return Number(value.toPrecision(12));
}

/** The configured target ratio (0.99) as the report's percentage (99). */
export function targetPct(target: number): number {
  return decimal(target * 100);
}

/**
 * SR/R >= target, decided in integers (SR * 100 * 10^k >= target% * 10^k * R) so that an
 * availability of exactly 99% meets a 99.0% target whatever the floating-point rounding of SR/R.
 * Null for no traffic.
 */
export function meetsAvailabilityTarget(tally: Tally, target: number): boolean | null {
  if (tally.requests === 0) return null;
  const { numerator, denominator } = targetFraction(target);
  return tally.served * denominator >= numerator * tally.requests;
}

/** The target as a fraction of integers (99.95% is 9995 / 10000), for arithmetic that rounds once. */
export function targetFraction(target: number): { readonly numerator: number; readonly denominator: number } {
  const pct = targetPct(target);
  const decimals = (String(pct).split(".")[1] ?? "").length;
  const scale = 10 ** decimals;
  return { numerator: Math.round(pct * scale), denominator: 100 * scale };
}

/** Counts of one category over some period, by status class, plus what was excluded. */
export class StatusCounts implements Tally {
  readonly byClass: Record<StatusClass, number> = { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, none: 0 };
  excluded = 0;

  /** Counts a result that is not excluded. */
  count(result: Pick<ProbeResult, "status">): void {
    this.byClass[statusClassOf(result.status)] += 1;
  }

  get requests(): number {
    let sum = 0;
    for (const c of STATUS_CLASSES) sum += this.byClass[c];
    return sum;
  }

  get served(): number {
    return servedOf(this.byClass);
  }
}
