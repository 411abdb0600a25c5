import type { Control } from "../model/config.js";
import type { FailureReason, ProbeResult } from "../model/result.js";
import type { EpochMs } from "../model/time.js";
import { type AutomaticReason, controlIdOf } from "../model/validity.js";

/**
 * "The controls were failing" at a provider request's `ts` (docs/sla-arithmetic.md): for EVERY
 * configured control, its latest result sent strictly before `ts` exists, is no older than the
 * control's `every + timeout_ms`, and got no HTTP response. One control answering, one control
 * with no fresh result, or no controls at all: not failing. The same function serves the daemon
 * (once the controls' results before `ts` are all in, see settledFor) and the report (from the
 * stored control results), so both classify every request identically.
 */

/** Failures that a broken merchant-side network produces; protocol/aborted/5xx never are. */
const NETWORK_FAILURES: ReadonlySet<FailureReason> = new Set(["timeout", "connect", "dns", "tls", "reset"]);

/** How long after `ts` a control run started before `ts` may still be on its way to the record. */
export const SETTLE_GRACE_MS = 2_000;

/** One control result that made the controls count as failing. */
export interface ControlFailure {
  readonly control: string;
  readonly ts: EpochMs;
  readonly error: FailureReason | null;
}

interface ControlSeries {
  readonly control: Control;
  readonly ts: number[];
  readonly results: (ControlFailure | null)[];
}

/** The control results seen so far, per control, in ts order. */
export class ControlTimeline {
  readonly #series = new Map<string, ControlSeries>();

  constructor(controls: readonly Control[]) {
    for (const control of controls) this.#series.set(control.id, { control, ts: [], results: [] });
  }

  get empty(): boolean {
    return this.#series.size === 0;
  }

  /** Records a control result (others, and results of unconfigured controls, are ignored). */
  add(result: ProbeResult): void {
    const id = controlIdOf(result);
    const series = id === null ? undefined : this.#series.get(id);
    if (!series) return;
    // A control whose request failed inside the agent says nothing about the network: unknown.
    const failed = result.status === null && !result.flags?.includes("agent_error");
    const entry = failed ? { control: series.control.id, ts: result.ts, error: result.error } : null;
    const at = upperBound(series.ts, result.ts);
    series.ts.splice(at, 0, result.ts);
    series.results.splice(at, 0, entry);
  }

  /** The failing control results that make `ts` merchant-side, or null when the controls were not all failing. */
  failingAt(ts: EpochMs): ControlFailure[] | null {
    if (this.#series.size === 0) return null;
    const evidence: ControlFailure[] = [];
    for (const { control, ts: times, results } of this.#series.values()) {
      const i = lowerBound(times, ts) - 1;
      if (i < 0 || ts - times[i]! > control.intervalMs + control.timeoutMs) return null;
      const failure = results[i];
      if (!failure) return null;
      evidence.push(failure);
    }
    return evidence;
  }

  /** Whether some control answered in [from, to): the controls recovered in between. */
  answeredBetween(from: EpochMs, to: EpochMs): boolean {
    for (const { ts: times, results } of this.#series.values()) {
      for (let i = lowerBound(times, from); i < times.length && times[i]! < to; i++) {
        if (results[i] === null) return true;
      }
    }
    return false;
  }

  /**
   * Whether every control result sent before `ts` is known at `now`: each control has a result
   * sent at or after `ts`, or any run it started before `ts` has hit its deadline (plus grace).
   */
  settledFor(ts: EpochMs, now: EpochMs): boolean {
    for (const { control, ts: times } of this.#series.values()) {
      const last = times.at(-1);
      if ((last === undefined || last < ts) && now < ts + control.timeoutMs + SETTLE_GRACE_MS) return false;
    }
    return true;
  }

  /** Forgets results older than `before` (the daemon's memory bound). */
  prune(before: EpochMs): void {
    for (const series of this.#series.values()) {
      // Keep the latest result before the cut: it may still be the one that decides.
      const cut = Math.max(0, lowerBound(series.ts, before) - 1);
      series.ts.splice(0, cut);
      series.results.splice(0, cut);
    }
  }
}

/**
 * Why a provider result is excluded automatically, or null when it counts: a failure inside the
 * agent (flag agent_error) is agent_error; a request with no response of a network kind while
 * the controls were failing is merchant_side. Control results themselves are never classified.
 */
export function automaticReasonOf(result: ProbeResult, controls: ControlTimeline): AutomaticReason | null {
  if (controlIdOf(result) !== null) return null;
  if (result.flags?.includes("agent_error")) return "agent_error";
  if (isNetworkFailure(result) && controls.failingAt(result.ts) !== null) return "merchant_side";
  return null;
}

/** A request that the merchant's own network could have caused to fail: no response, of a network kind. */
export function isNetworkFailure(result: Pick<ProbeResult, "status" | "error">): boolean {
  return result.status === null && result.error !== null && NETWORK_FAILURES.has(result.error);
}

/** First index with times[i] >= ts. */
function lowerBound(times: readonly number[], ts: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with times[i] > ts. */
function upperBound(times: readonly number[], ts: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
