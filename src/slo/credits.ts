import type { CreditTier } from "../model/config.js";
import { type Tally, targetFraction } from "./availability.js";

/**
 * Contract section 10: the service credit a month's availability earns. The tier that applies is
 * the one with the lowest `below_pct` that the availability is under (strictly); 0 when it is
 * under none; null when there was no traffic or no tiers are configured. Decided in integers, like
 * the objectives, so that exactly 99% is not under a 99% tier.
 */
export function creditPctOf(tally: Tally, tiers: readonly CreditTier[]): number | null {
  if (tiers.length === 0 || tally.requests === 0) return null;
  let credit = 0;
  let lowest = Number.POSITIVE_INFINITY;
  for (const tier of tiers) {
    const { numerator, denominator } = targetFraction(tier.belowRatio);
    const under = tally.served * denominator < numerator * tally.requests;
    if (under && tier.belowRatio < lowest) {
      lowest = tier.belowRatio;
      credit = tier.creditPct;
    }
  }
  return credit;
}

/**
 * The credit in money: monthly_fee.amount * credit_pct / 100, rounded to the cent (half away
 * from zero); null without a fee or a credit percentage.
 */
export function creditAmountOf(
  creditPct: number | null,
  fee: { readonly amount: number } | null,
): number | null {
  if (creditPct === null || fee === null) return null;
  // amount * pct is the credit in hundredths of the currency unit: round there, then scale.
  return Math.round(fee.amount * creditPct) / 100;
}
