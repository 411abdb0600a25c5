/**
 * Deciding what one request suffers. Faults are checked in a fixed order (the edge refuses first:
 * rate limit, maintenance; then the application: burst, hang, reset, latency, errors, delivery),
 * drawing from the seeded RNG in that same order so that a seed replays the same decisions.
 */
import { errorForStatus, type KlarnaError } from "./error-body.js";
import type { RateLimitVerdict } from "./rate-limit.js";
import type { Rng } from "./rng.js";
import type { Faults, LatencyFault } from "./scenario.js";

/** What happened to a request, as counted in GET /__sim/stats. */
export const OUTCOMES = [
  "answered",
  "client_error",
  "server_error",
  "burst",
  "maintenance",
  "rate_limited",
  "hang",
  "reset",
  "reset_mid_body",
  "slow_body",
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** How the response leaves the server. */
export type Delivery = "whole" | "slow_body" | "reset_mid_body" | "reset" | "hang";

export interface Plan {
  readonly outcome: Outcome;
  /** Wait before the response headers (or the reset). */
  readonly delayMs: number;
  /** A fault's error answered instead of the route's own answer; null for the route's answer. */
  readonly error: KlarnaError | null;
  readonly retryAfterS: number | null;
  readonly delivery: Delivery;
}

/** Retry-After of a maintenance 503: Klarna announces maintenance in hours, ask again in 5 minutes. */
export const MAINTENANCE_RETRY_AFTER_S = 300;

export function planRequest(faults: Faults, rng: Rng, now: number, rate: RateLimitVerdict): Plan {
  const refuse = (outcome: Outcome, status: number, retryAfterS: number | null): Plan => ({
    outcome,
    delayMs: 0,
    error: errorForStatus(status),
    retryAfterS,
    delivery: "whole",
  });
  if (!rate.allowed) return refuse("rate_limited", 429, rate.resetS);
  if (faults.maintenance) return refuse("maintenance", 503, MAINTENANCE_RETRY_AFTER_S);
  if (faults.hangProbability && rng.chance(faults.hangProbability)) {
    return { outcome: "hang", delayMs: 0, error: null, retryAfterS: null, delivery: "hang" };
  }
  const delayMs = sampleLatency(faults.latency, rng);
  const plan = (outcome: Outcome, error: KlarnaError | null, delivery: Delivery): Plan => ({
    outcome,
    delayMs,
    error,
    retryAfterS: null,
    delivery,
  });
  if (faults.burst && inBurst(faults.burst.everyMs, faults.burst.durationMs, now)) {
    return plan("burst", errorForStatus(faults.burst.status), "whole");
  }
  if (faults.resetProbability && rng.chance(faults.resetProbability)) return plan("reset", null, "reset");
  if (faults.errorRate && rng.chance(faults.errorRate)) {
    return plan("server_error", errorForStatus(faults.errorStatus ?? 500), "whole");
  }
  if (faults.clientErrorRate && rng.chance(faults.clientErrorRate)) {
    return plan("client_error", errorForStatus(faults.clientErrorStatus ?? 400), "whole");
  }
  if (faults.resetMidBodyProbability && rng.chance(faults.resetMidBodyProbability)) {
    return plan("reset_mid_body", null, "reset_mid_body");
  }
  if (faults.slowBody) return plan("slow_body", null, "slow_body");
  return plan("answered", null, "whole");
}

/** Bursts start at multiples of everyMs since the epoch, so their timing is predictable. */
export function inBurst(everyMs: number, durationMs: number, now: number): boolean {
  return now % everyMs < durationMs;
}

export function sampleLatency(latency: LatencyFault | undefined, rng: Rng): number {
  if (!latency) return 0;
  const centre =
    latency.tailProbability > 0 && rng.chance(latency.tailProbability) ? latency.tailMs : latency.medianMs;
  return centre > 0 ? rng.logNormal(centre, latency.sigma) : 0;
}
