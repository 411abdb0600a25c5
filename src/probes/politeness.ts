import type { Clock } from "../clock/clock.js";
import type { EpochMs } from "../model/time.js";

/** Why a target is paused, for the log line and the docs. */
export type PauseCause = "retry_after" | "ratelimit_reset" | "backoff";

export interface Pause {
  readonly until: EpochMs;
  readonly cause: PauseCause;
}

/** A vendor cannot make us wait longer than this in one go (a typo'd Retry-After, say). */
export const MAX_PAUSE_MS = 3_600_000;
const BACKOFF_START_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;
/** X-Ratelimit-Reset values above this are epoch seconds, below it seconds from now. */
const EPOCH_SECONDS_THRESHOLD = 1_000_000_000;

/**
 * The manners the agent keeps towards one target: it stops sending while the vendor asked it to
 * (429 with Retry-After, X-Ratelimit-Remaining: 0 until X-Ratelimit-Reset, or exponential back-off
 * after a 429 that named no time) and never exceeds max_requests_per_second (a token bucket).
 */
export class TargetPoliteness {
  readonly #clock: Clock;
  readonly #ratePerMs: number | null;
  readonly #capacity: number;
  #tokens: number;
  #refilledAt: number;
  #pause: Pause | null = null;
  #backoffMs = BACKOFF_START_MS;

  constructor(clock: Clock, maxRequestsPerSecond: number | null) {
    this.#clock = clock;
    this.#ratePerMs = maxRequestsPerSecond && maxRequestsPerSecond > 0 ? maxRequestsPerSecond / 1000 : null;
    // A burst of at most one second's worth (and at least one request).
    this.#capacity = Math.max(1, maxRequestsPerSecond ?? 1);
    this.#tokens = this.#capacity;
    this.#refilledAt = clock.monotonic();
  }

  /** The pause in force now, if any. */
  pausedNow(): Pause | null {
    if (this.#pause && this.#clock.now() >= this.#pause.until) this.#pause = null;
    return this.#pause;
  }

  /**
   * Takes a send slot from the bucket: 0 to send now, else the ms to wait for it; null when the
   * wait would exceed maxWaitMs (the slot is then not taken).
   */
  reserve(maxWaitMs: number): number | null {
    if (this.#ratePerMs === null) return 0;
    const now = this.#clock.monotonic();
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#refilledAt) * this.#ratePerMs);
    this.#refilledAt = now;
    const waitMs = this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#ratePerMs;
    if (waitMs > maxWaitMs) return null;
    this.#tokens -= 1; // may go negative: later callers queue behind this one
    return waitMs;
  }

  /** Learns from a response; returns the pause it started, if it started one. */
  observe(status: number | null, headers: Readonly<Record<string, string>>): Pause | null {
    if (status === null) return null;
    const now = this.#clock.now();
    let pause: Pause | null = null;
    if (status === 429) {
      const retryAt = retryAfterOf(headers["retry-after"], now);
      pause = retryAt !== null ? { until: retryAt, cause: "retry_after" } : this.#backoff(now);
    } else {
      this.#backoffMs = BACKOFF_START_MS;
    }
    const resetAt = rateLimitResetOf(headers, now);
    if (resetAt !== null && (pause === null || resetAt > pause.until)) {
      pause = { until: resetAt, cause: "ratelimit_reset" };
    }
    if (pause === null || pause.until <= now) return null;
    pause = { until: Math.min(pause.until, now + MAX_PAUSE_MS), cause: pause.cause };
    if (this.#pause && this.#pause.until >= pause.until) return null;
    this.#pause = pause;
    return pause;
  }

  #backoff(now: EpochMs): Pause {
    const pause: Pause = { until: now + this.#backoffMs, cause: "backoff" };
    this.#backoffMs = Math.min(BACKOFF_MAX_MS, this.#backoffMs * 2);
    return pause;
  }
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 section 10.2.3); null if neither. */
export function retryAfterOf(value: string | undefined, now: EpochMs): EpochMs | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return now + Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : date;
}

function rateLimitResetOf(headers: Readonly<Record<string, string>>, now: EpochMs): EpochMs | null {
  if (headers["x-ratelimit-remaining"]?.trim() !== "0") return null;
  const reset = Number(headers["x-ratelimit-reset"]?.trim());
  if (!Number.isFinite(reset) || reset <= 0) return null;
  return reset > EPOCH_SECONDS_THRESHOLD ? reset * 1000 : now + reset * 1000;
}
