/**
 * Per-client request counting in fixed windows aligned to the epoch, the way Klarna reports it in
 * X-Ratelimit-* headers. Without a rate_limit fault the headers show a nominal limit that is
 * never enforced, so every response carries them.
 */
import type { RateLimitFault } from "./scenario.js";

export const NOMINAL_RATE_LIMIT: RateLimitFault = { limit: 1000, windowMs: 60_000 };

export interface RateLimitVerdict {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Whole seconds until the window resets (at least 1): X-Ratelimit-Reset and Retry-After. */
  readonly resetS: number;
}

interface WindowCount {
  window: number;
  count: number;
}

/** Counters kept at most; beyond this, counters of past windows are dropped. */
const MAX_COUNTERS = 10_000;

export class RateLimiter {
  readonly #counts = new Map<string, WindowCount>();

  /** Counts one request of `client` and says whether `rule` lets it through (no rule: always). */
  take(client: string, rule: RateLimitFault | undefined, now: number): RateLimitVerdict {
    const effective = rule ?? NOMINAL_RATE_LIMIT;
    const window = Math.floor(now / effective.windowMs);
    const key = `${effective.limit}/${effective.windowMs}|${client}`;
    const entry = this.#counts.get(key);
    const counter = entry && entry.window === window ? entry : { window, count: 0 };
    counter.count += 1;
    this.#counts.set(key, counter);
    if (this.#counts.size > MAX_COUNTERS) this.#dropPastWindows(now);
    const resetS = Math.max(1, Math.ceil(((window + 1) * effective.windowMs - now) / 1000));
    return {
      allowed: rule === undefined || counter.count <= effective.limit,
      limit: effective.limit,
      remaining: Math.max(0, effective.limit - counter.count),
      resetS,
    };
  }

  #dropPastWindows(now: number): void {
    for (const [key, entry] of this.#counts) {
      const windowMs = Number(key.slice(key.indexOf("/") + 1, key.indexOf("|")));
      if (entry.window < Math.floor(now / windowMs)) this.#counts.delete(key);
    }
  }
}
