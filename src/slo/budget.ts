import { DAY_MS, type EpochMs, HOUR_MS, MINUTE_MS } from "../model/time.js";
import { decimal, type Tally, targetFraction } from "./availability.js";

export interface BudgetInput extends Tally {
  /** The availability target as a ratio, e.g. 0.99. */
  readonly target: number;
}

export interface ErrorBudget {
  /** (1 - target) * R: how many of the period's requests may fail. */
  readonly budgetRequests: number;
  /** (R - SR) / budgetRequests; null when the budget is 0 (no traffic, or a 100% target). Not clamped. */
  readonly usedRatio: number | null;
  /** 1 - usedRatio; negative once the budget is overspent; null with usedRatio. */
  readonly remainingRatio: number | null;
}

/** The share of requests allowed to fail, without binary noise (0.99 -> exactly 0.01). */
export function allowedFailureRatio(target: number): number {
  return decimal(1 - target);
}

/**
 * Failures allowed per `denominator` requests, in integers (99.5% allows 5 per 1000): every budget
 * figure is then one division of exact integers, so 0.01 * 70 reads 0.7, not 0.7000000000000001.
 */
function allowedFailures(target: number): { readonly allowed: number; readonly denominator: number } {
  const { numerator, denominator } = targetFraction(target);
  return { allowed: denominator - numerator, denominator };
}

/** (R - SR) / ((1 - target) * R), rounded once; the caller rules out R = 0 and a 100% target. */
function spentRatio(target: number, requests: number, served: number): number {
  const { allowed, denominator } = allowedFailures(target);
  return ((requests - served) * denominator) / (allowed * requests);
}

export function errorBudget({ target, requests, served }: BudgetInput): ErrorBudget {
  const { allowed, denominator } = allowedFailures(target);
  const budgetRequests = (allowed * requests) / denominator;
  if (budgetRequests === 0) return { budgetRequests, usedRatio: null, remainingRatio: null };
  const usedRatio = spentRatio(target, requests, served);
  return { budgetRequests, usedRatio, remainingRatio: 1 - usedRatio };
}

/**
 * (1 - SR/R) / (1 - target): 1 spends the budget exactly over the period, 14.4 spends a 30-day
 * budget in 50 hours. Null with no traffic, and for a 100% target (there is no budget to burn).
 */
export function burnRate({ target, requests, served }: BudgetInput): number | null {
  if (requests === 0 || allowedFailures(target).allowed === 0) return null;
  return spentRatio(target, requests, served);
}

export interface ExhaustionInput extends BudgetInput {
  readonly monthStart: EpochMs;
  readonly monthEnd: EpochMs;
  readonly now: EpochMs;
  /** The burn rate expected from now on (e.g. over the last 6 h); null uses the month-to-date rate. */
  readonly recentBurnRate: number | null;
}

/**
 * When the month's error budget runs out if requests keep arriving at the month-to-date rate and
 * fail at `recentBurnRate` from now on; null when it lasts the month (or there is nothing to go on).
 * With u the used ratio so far, b the burn rate and d = now - monthStart, the used ratio reaches 1
 * at monthStart + d * (b - u) / (b - 1); see docs/sla-arithmetic.md.
 */
export function projectedExhaustion(input: ExhaustionInput): EpochMs | null {
  const { monthStart, monthEnd, now } = input;
  const used = errorBudget(input).usedRatio;
  if (used === null || now <= monthStart || now >= monthEnd) return null;
  if (used >= 1) return now;
  const rate = input.recentBurnRate ?? used;
  if (rate <= 1) return null;
  const at = monthStart + ((now - monthStart) * (rate - used)) / (rate - 1);
  return at < monthEnd ? Math.ceil(at) : null;
}

/** The windows burn rates are computed over (the SRE workbook's long and short windows). */
export const BURN_RATE_WINDOWS = [
  { window: "5m", ms: 5 * MINUTE_MS },
  { window: "30m", ms: 30 * MINUTE_MS },
  { window: "1h", ms: HOUR_MS },
  { window: "2h", ms: 2 * HOUR_MS },
  { window: "6h", ms: 6 * HOUR_MS },
  { window: "1d", ms: DAY_MS },
  { window: "3d", ms: 3 * DAY_MS },
] as const;
export type BurnRateWindow = (typeof BURN_RATE_WINDOWS)[number]["window"];

export function burnRateWindowMs(window: BurnRateWindow): number {
  return BURN_RATE_WINDOWS.find((w) => w.window === window)!.ms;
}

export interface MultiWindowAlert {
  readonly severity: "page" | "ticket";
  readonly long: BurnRateWindow;
  readonly short: BurnRateWindow;
  /** Fires when the burn rate over both windows is at least this. */
  readonly factor: number;
  /** Share of a 30-day budget spent when the long window burns at `factor` (why the factor was chosen). */
  readonly budgetSpent: number;
}

/** Multi-window, multi-burn-rate alerts: Google SRE workbook, "Alerting on SLOs", table 5-8. */
export const MULTI_WINDOW_ALERTS: readonly MultiWindowAlert[] = [
  { severity: "page", long: "1h", short: "5m", factor: 14.4, budgetSpent: 0.02 },
  { severity: "page", long: "6h", short: "30m", factor: 6, budgetSpent: 0.05 },
  { severity: "ticket", long: "1d", short: "2h", factor: 3, budgetSpent: 0.1 },
  { severity: "ticket", long: "3d", short: "6h", factor: 1, budgetSpent: 0.1 },
];
