import type { Clock } from "../clock/clock.js";
import type { CategoryId, ProbeId, TargetId } from "../model/config.js";
import { DIAGNOSTIC_CATEGORY, isServed, isWithoutHttp, type ProbeResult } from "../model/result.js";
import { isoUtc } from "../model/time.js";
import type { LogFields, Logger, LogLevel } from "./log.js";

export interface ProbeEventsOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** The target a probe sends to (from the running configuration). */
  readonly targetOf: (probe: ProbeId) => TargetId | undefined;
  /** At most one line per event kind and key this often; the rest are counted. Default 10 min. */
  readonly intervalMs?: number;
  /** Consecutive failed results of a category that make an outage. Default 3. */
  readonly outageAfter?: number;
}

interface CategoryState {
  failing: number;
  firstFailureAt: number | null;
  reasons: Set<string>;
  /** The outage in progress, if one started; `logged` is false when its start was rate-limited. */
  outage: { since: number; failed: number; logged: boolean } | null;
}

const DEFAULT_INTERVAL_MS = 10 * 60_000;
const DEFAULT_OUTAGE_AFTER = 3;
const RECENT_FAILURES = 20;

/**
 * Turns the stream of probe results into the few log lines an operator needs: a category's
 * outage starting and ending, the first failure of each reason per target, authentication
 * failures, and the store's trouble and recovery. Every kind is rate-limited per key.
 */
export class ProbeEvents {
  readonly #options: ProbeEventsOptions;
  readonly #interval: number;
  readonly #outageAfter: number;
  readonly #categories = new Map<CategoryId, CategoryState>();
  readonly #lastLogged = new Map<string, { at: number; suppressed: number }>();
  #storeWritable = true;
  /** The latest failed results, newest last, for /status. */
  readonly #recentFailures: ProbeResult[] = [];

  constructor(options: ProbeEventsOptions) {
    this.#options = options;
    this.#interval = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.#outageAfter = options.outageAfter ?? DEFAULT_OUTAGE_AFTER;
  }

  observe(result: ProbeResult): void {
    const target = this.#options.targetOf(result.probe) ?? "unknown";
    // A tls, dns or tcp run has no status: it failed when it says why.
    const failed = isWithoutHttp(result) ? result.error !== null : !isServed(result.status);
    const reason = failureReasonOf(result);
    if (result.status === 401 || result.status === 403) {
      this.#emit("error", "auth_failure", target, "authentication failure at the target", {
        target,
        probe: result.probe,
        status: result.status,
        error_code: result.errorCode,
        correlation_id: result.correlationId,
      });
    }
    if (failed) {
      this.#recentFailures.push(result);
      if (this.#recentFailures.length > RECENT_FAILURES) this.#recentFailures.shift();
      this.#emit("warn", "failure_reason", `${target}|${reason}`, "probe failure", {
        target,
        probe: result.probe,
        category: result.category,
        reason,
        status: result.status,
        error_code: result.errorCode,
        correlation_id: result.correlationId,
        detail: result.detail ?? null,
      });
    }
    // Diagnostics share one reserved category: their failures are alerted per probe, not as an outage.
    if (result.category !== DIAGNOSTIC_CATEGORY) this.#track(result, failed, reason);
  }

  /** The latest failed results, newest first. */
  recentFailures(): ProbeResult[] {
    return [...this.#recentFailures].reverse();
  }

  /** Called with the store's state now and then; logs the changes only. */
  storeHealth(writable: boolean, buffered: number): void {
    if (writable === this.#storeWritable) return;
    this.#storeWritable = writable;
    if (writable) this.#options.log("info", "evidence store writable again", { buffered });
    else this.#options.log("error", "evidence store not writable; results are held in memory", { buffered });
  }

  #track(result: ProbeResult, failed: boolean, reason: string): void {
    let state = this.#categories.get(result.category);
    if (!state) {
      state = { failing: 0, firstFailureAt: null, reasons: new Set(), outage: null };
      this.#categories.set(result.category, state);
    }
    if (failed) {
      state.failing++;
      state.firstFailureAt ??= result.ts;
      state.reasons.add(reason);
      if (state.outage) state.outage.failed++;
      else if (state.failing >= this.#outageAfter) this.#startOutage(result.category, state);
      return;
    }
    const outage = state.outage;
    if (outage?.logged) {
      this.#options.log("warn", "category outage ended", {
        category: result.category,
        since: isoUtc(outage.since),
        until: isoUtc(result.ts),
        duration_ms: result.ts - outage.since,
        failed: outage.failed,
        reasons: [...state.reasons],
      });
    }
    state.failing = 0;
    state.firstFailureAt = null;
    state.reasons.clear();
    state.outage = null;
  }

  #startOutage(category: CategoryId, state: CategoryState): void {
    const since = state.firstFailureAt!;
    // The provider's outage is no fault of the agent: warn, so level=error stays the agent's own trouble.
    const logged = this.#emit("warn", "outage", category, "category outage started", {
      category,
      since: isoUtc(since),
      failed: state.failing,
      reasons: [...state.reasons],
    });
    state.outage = { since, failed: state.failing, logged };
  }

  /** Logs unless the same kind and key was logged within the interval; says how many were held back. */
  #emit(level: LogLevel, kind: string, key: string, message: string, fields: LogFields): boolean {
    const now = this.#options.clock.now();
    const id = `${kind}\u0000${key}`;
    const last = this.#lastLogged.get(id);
    if (last && now - last.at < this.#interval) {
      last.suppressed++;
      return false;
    }
    const suppressed = last?.suppressed ?? 0;
    this.#lastLogged.set(id, { at: now, suppressed: 0 });
    this.#options.log(level, message, suppressed > 0 ? { ...fields, suppressed } : fields);
    return true;
  }
}

/** The failure reason (timeout, connection_refused, ...) or the HTTP status of a 5xx. */
function failureReasonOf(result: ProbeResult): string {
  if (result.error !== null) return result.error;
  return result.status === null ? "no_response" : `http_${result.status}`;
}
