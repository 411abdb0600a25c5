import type { Clock } from "../clock/clock.js";
import type { ProbeExpectation, ProbeId, SloConfig } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { type EpochMs, isoUtc, monthOf } from "../model/time.js";
import {
  type AutomaticReason,
  controlIdOf,
  type MeasurementProblem,
  measurementProblemOf,
  type ProbeValidity,
} from "../model/validity.js";
import {
  AutomaticExclusionLog,
  automaticReasonOf,
  CONTROL_LOOKBACK_MS,
  type ControlSettings,
  ControlTimeline,
  isNetworkFailure,
  type TargetReach,
} from "../slo/index.js";
import type { Logger } from "./log.js";

/** Told once per provider result, when its automatic exclusion has been decided. */
export type Decided = (result: ProbeResult, reason: AutomaticReason | null) => void;

/** Control results kept in memory: as far back as the report reads them, so both judge alike. */
const CONTROL_MEMORY_MS = CONTROL_LOOKBACK_MS;

/**
 * The daemon's side of measurement validity. A provider failure that controls could make
 * merchant_side waits until every control result sent before it is in (ControlTimeline.settledFor),
 * then is decided by the same pure function the report uses; everything else is decided at once.
 * Keeps each probe's current validity and logs each episode once, at its start and its end.
 */
export class ValidityTracker {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #decided: Decided;
  readonly #timeline: ControlTimeline;
  #expectations: ReadonlyMap<ProbeId, ProbeExpectation | null | undefined>;
  readonly #pending: ProbeResult[] = [];
  readonly #state = new Map<ProbeId, ProbeValidity>();
  readonly #controlDown = new Set<string>();
  #episode: Record<AutomaticReason, number> = { merchant_side: 0, agent_error: 0, target_unreached: 0 };
  /** Whether each probe's target answered under its configuration, from the store (target_unreached). */
  readonly #reach: TargetReach;
  /** The month to date's automatic exclusion episodes, as the report groups them (for /status). */
  #month: { readonly month: string; readonly log: AutomaticExclusionLog } | null = null;

  constructor(options: {
    config: SloConfig;
    /** The control settings by when each was loaded (the log's); absent: the configuration's throughout. */
    controlSettings?: readonly ControlSettings[];
    clock: Clock;
    log: Logger;
    decided: Decided;
    /** Live results from the start on; the store answers for before (src/slo/target-reach.ts). */
    reach: TargetReach;
  }) {
    this.#reach = options.reach;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#decided = options.decided;
    this.#timeline = options.controlSettings
      ? ControlTimeline.ofSettings(options.controlSettings)
      : new ControlTimeline(options.config.controls ?? [], options.config.controlsQuorum);
    this.#expectations = new Map(options.config.probes.map((p) => [p.id, p.expect]));
  }

  /**
   * Takes a reloaded configuration's expectations (`expect:`); a removed probe leaves /metrics.
   * The next result of each probe is judged by them. Controls and their quorum are fixed until restart.
   */
  reconfigure(config: SloConfig): void {
    this.#expectations = new Map(config.probes.map((p) => [p.id, p.expect]));
    for (const probe of this.#state.keys()) if (!this.#expectations.has(probe)) this.#state.delete(probe);
  }

  /**
   * Takes stored results from before the start, control or provider, in ts order (nothing is
   * decided or logged for them); the provider's of the current month are grouped into the month's
   * episodes exactly as the report groups them, so /status matches it across a restart.
   */
  rememberResults(results: Iterable<ProbeResult>, reach: TargetReach): void {
    const month = monthOf(this.#clock.now());
    for (const result of results) {
      this.#timeline.add(result);
      if (controlIdOf(result) !== null) continue;
      const unreached = reach.observe(result);
      if (monthOf(result.ts) === month) {
        this.#observeMonth(result, automaticReasonOf(result, this.#timeline, unreached));
      }
    }
  }

  /** Minutes of each category inside the month to date's merchant_side episodes (the report's figure). */
  merchantSideMinutes(now: EpochMs = this.#clock.now()): ReadonlyMap<string, number> {
    return this.#month?.month === monthOf(now) ? this.#month.log.merchantSideMinutes() : new Map();
  }

  #observeMonth(result: ProbeResult, reason: AutomaticReason | null): void {
    const month = monthOf(result.ts);
    if (this.#month === null || this.#month.month < month) {
      this.#month = { month, log: new AutomaticExclusionLog(this.#timeline) };
    }
    if (this.#month.month === month) this.#month.log.observe(result, reason);
  }

  /** Takes every result the runner records, control or provider. */
  record(result: ProbeResult): void {
    const control = controlIdOf(result);
    if (control !== null) {
      this.#timeline.add(result);
      this.#noteControl(control, result);
      this.flush();
      return;
    }
    // A probe's runs never overlap, so its results come in ts order, as the report reads them.
    // A provider answer is the controls' consistency evidence, and every result says which
    // addresses the probe's target has (src/slo/controls.ts), before it is judged.
    this.#timeline.add(result);
    const unreached = this.#reach.observe(result);
    if (unreached) {
      this.#decide(result, true);
    } else if (!this.#timeline.empty && isNetworkFailure(result) && !result.flags?.includes("agent_error")) {
      this.#pending.push(result);
    } else {
      this.#decide(result);
    }
    this.flush();
  }

  /** Decides the pending results whose controls are all in; call now and then (the daemon's tick). */
  flush(now: EpochMs = this.#clock.now()): void {
    let kept = 0;
    for (const result of this.#pending) {
      if (this.#timeline.settledFor(result.ts, now)) this.#decide(result);
      else this.#pending[kept++] = result;
    }
    this.#pending.length = kept;
    this.#timeline.prune(now - CONTROL_MEMORY_MS);
  }

  /** Every provider probe's current validity (for /metrics and alerting). */
  validity(): ProbeValidity[] {
    return [...this.#state.values()];
  }

  #decide(result: ProbeResult, unreached = false): void {
    const reason = automaticReasonOf(result, this.#timeline, unreached);
    this.#observeMonth(result, reason);
    const problem = measurementProblemOf(result.status, this.#expectations.get(result.probe));
    this.#noteEpisode(reason, result);
    this.#noteProbe(result, reason, problem);
    this.#decided(result, reason);
  }

  /** One log line when an automatic exclusion episode starts and one when it ends. */
  #noteEpisode(reason: AutomaticReason | null, result: ProbeResult): void {
    if (reason !== "agent_error" && this.#episode.agent_error > 0) {
      this.#log("info", `agent_error episode over: ${this.#episode.agent_error} requests excluded`);
      this.#episode.agent_error = 0;
    }
    if (reason === null) return;
    if (reason === "target_unreached") {
      // Logged per probe when it starts and ends (#noteProbe): each probe is its own misconfiguration.
      return;
    }
    if (this.#episode[reason]++ > 0) return;
    if (reason === "agent_error") {
      this.#log(
        "error",
        `agent_error: requests fail inside the agent (${result.detail ?? result.error}); excluded, not the provider's`,
      );
    } else {
      this.#log(
        "warn",
        `merchant_side: every control is failing too; provider failures since ${isoUtc(result.ts)} are excluded as the merchant's`,
      );
    }
  }

  #noteControl(control: string, result: ProbeResult): void {
    // A tcp or dns control has no status: it is down exactly when it says why (as an HTTP one is).
    const down = result.error !== null;
    if (down && !this.#controlDown.has(control)) {
      this.#controlDown.add(control);
      this.#log(
        "warn",
        `control ${control} failing: ${result.error}${result.detail ? ` (${result.detail})` : ""}`,
      );
    } else if (!down && this.#controlDown.delete(control)) {
      this.#log("info", `control ${control} answering again (${result.status})`);
      if (this.#episode.merchant_side > 0) {
        this.#log("info", `merchant_side episode over: ${this.#episode.merchant_side} requests excluded`);
        this.#episode.merchant_side = 0;
      }
    }
  }

  #noteProbe(result: ProbeResult, reason: AutomaticReason | null, problem: MeasurementProblem | null): void {
    const before = this.#state.get(result.probe);
    const next: ProbeValidity = {
      probe: result.probe,
      category: result.category,
      merchantSide: reason === "merchant_side",
      agentErrors: reason === "agent_error",
      authFailed: problem === "auth_failed",
      unexpectedStatus: problem === "unexpected_status",
      targetUnreached: reason === "target_unreached",
    };
    this.#state.set(result.probe, next);
    if (next.targetUnreached && !before?.targetUnreached) {
      this.#log(
        "warn",
        `probe ${result.probe}: target_unreached: neither its target (host and port) nor an address the request tried has ever answered, and the request made no connection (${result.error}${result.detail ? `, ${result.detail}` : ""}); its failures are excluded as a measurement problem, not the provider's: check the probe's URL and port`,
      );
    } else if (before?.targetUnreached && result.status !== null) {
      this.#log(
        "info",
        `probe ${result.probe}: target answered (${result.status}); its failures count from now on`,
      );
    }
    const was = before?.authFailed ? "auth_failed" : before?.unexpectedStatus ? "unexpected_status" : null;
    if (problem !== null && problem !== was) {
      this.#log(
        "warn",
        `probe ${result.probe}: ${problem} (status ${result.status}); it counts per the SLA formula but measures nothing useful: check credentials and expect:`,
      );
    } else if (problem === null && was !== null && result.status !== null) {
      this.#log("info", `probe ${result.probe}: ${was} over (status ${result.status})`);
    }
  }
}
