import { CATALOG, type CatalogEntry, type RetryAdvice } from "../model/catalog.js";
import { LABEL, METRIC } from "./names.js";

const ADVICE: Readonly<Record<RetryAdvice, string>> = {
  none: "no action needed",
  do_not_retry: "do not retry",
  correct_and_resubmit: "correct the request and resubmit",
  new_session: "start a new session",
  backoff: "retry with exponential back-off",
  retry_after: "retry after the delay in Retry-After",
};

/** "CODE (HTTP 502/503, tier T0): retry with exponential back-off" for one catalogue entry. */
export function adviceLine(entry: CatalogEntry): string {
  const http = entry.httpStatuses.length > 0 ? `HTTP ${entry.httpStatuses.join("/")}, ` : "";
  return `${entry.code} (${http}tier ${entry.tier}): ${ADVICE[entry.retry]}`;
}

/** Catalogue codes the vendor answers with a 5xx: the ones that burn the error budget. */
function budgetBurningCodes(): CatalogEntry[] {
  return CATALOG.filter((e) => e.kind === "error_code" && e.httpStatuses.some((s) => s >= 500));
}

const TOP_CODES = `topk(5, sum by (${LABEL.errorCode}) (increase(${METRIC.vendorErrors}{${LABEL.category}="{{ $labels.category }}"}[1h])))`;

/** Runbook text for availability alerts, drawn from the vendor's error catalogue. */
export function availabilityRunbook(): string {
  return [
    `Top vendor error codes: ${TOP_CODES}.`,
    `Codes that count against availability: ${budgetBurningCodes().map(adviceLine).join("; ")}.`,
    "4xx answers (e.g. TOO_MANY_REQUESTS) count as served and do not burn the budget.",
    "If the cause is outside the vendor's control (force majeure, a third party, the merchant), declare an exclusion in slo.yaml.",
  ].join(" ");
}

/**
 * The vendor error-code hints of availabilityRunbook for the agent's own alert payloads: the same
 * catalogue lines, without the PromQL that only Prometheus can evaluate.
 */
export function availabilityHints(): string {
  return [
    `Codes that count against availability: ${budgetBurningCodes().map(adviceLine).join("; ")}.`,
    "4xx answers (e.g. TOO_MANY_REQUESTS) count as served and do not burn the budget.",
    "See the vendor error codes on /metrics (slo_vendor_errors_total) for what the vendor answered.",
  ].join(" ");
}

/** latencyRunbook for the agent's own payloads (no PromQL). */
export function latencyHints(): string {
  return [
    "slo_probe_phase_seconds shows where the time went: phase wait is the vendor's processing time; dns, connect and tls point at the network between the agent and the vendor.",
    ...CATALOG.filter((e) => e.retry === "retry_after").map(
      (e) => `Rate limiting slows answers too: ${adviceLine(e)}.`,
    ),
  ].join(" ");
}

/** Runbook text for latency alerts: where in the request the time went. */
export function latencyRunbook(): string {
  return [
    `Phase timing: histogram_quantile(0.99, sum by (le, ${LABEL.phase}) (rate(${METRIC.probePhase}_bucket{${LABEL.category}="{{ $labels.category }}"}[1h]))).`,
    'phase="wait" is the vendor\'s processing time; dns, connect and tls point at the network between the agent and the vendor.',
    ...CATALOG.filter((e) => e.retry === "retry_after").map(
      (e) => `Rate limiting slows answers too: ${adviceLine(e)}.`,
    ),
  ].join(" ");
}
