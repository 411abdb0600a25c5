import type { ProbeResult } from "../../src/model/result.js";
import { canonicalForm } from "../../src/record/evidence/canonical.js";

/** The 13 Klarna SLO categories, one probe each, as the shipped profile declares them. */
export const CATEGORIES = [
  "account_onboarding",
  "account_operations",
  "customer_token_charge",
  "disputes",
  "identity",
  "read_only_identity",
  "personalized_message_placements",
  "messaging_placements",
  "payment_confirmation",
  "payment_request",
  "payment_transaction_general",
  "read_only_payment_transaction",
  "settlements",
] as const;

export function probeOf(category: string): string {
  return `${category.replaceAll("_", "-")}-probe`;
}

/**
 * Results of every category every `intervalMs` from `start`, `count` in all, with a mix of
 * outcomes (mostly 200, some 404, 503, timeouts and resets) derived from the index, not random.
 */
export function* generateResults(start: number, count: number, intervalMs = 30_000): Generator<ProbeResult> {
  for (let i = 0; i < count; i++) {
    const category = CATEGORIES[i % CATEGORIES.length]!;
    const tick = Math.floor(i / CATEGORIES.length);
    const kind = i % 97;
    const failed = kind === 3 ? "timeout" : kind === 5 ? "reset" : null;
    yield {
      ts: start + tick * intervalMs + (i % CATEGORIES.length) * 7,
      probe: probeOf(category),
      category,
      status: failed ? null : kind === 7 ? 503 : kind === 11 ? 404 : 200,
      durationMs: failed === "timeout" ? 10_000 : 50 + ((i * 37) % 400) + (i % 1000) / 1000,
      error: failed,
      errorCode: kind === 11 ? "NOT_FOUND" : null,
      correlationId: kind === 11 ? `corr-${i}` : null,
    };
  }
}

/** A result as one NDJSON line of contract section 3 (the canonical form is exactly that). */
export function ndjsonLine(result: ProbeResult): string {
  return canonicalForm(result);
}
