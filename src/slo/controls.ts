import { canonicalEndpoint } from "../model/address.js";
import type { Control, ProbeId } from "../model/config.js";
import type { FailureReason, ProbeResult } from "../model/result.js";
import type { EpochMs } from "../model/time.js";
import { type AutomaticReason, type ControlProblem, controlIdOf } from "../model/validity.js";

/**
 * "The controls were failing" at a provider request's `ts` (contract section 14,
 * docs/sla-arithmetic.md): at least `quorum` configured controls (default 2, or 1 when one is
 * configured) each have a latest result sent strictly before `ts`, no older than the control's
 * `every + timeout_ms`, that got no HTTP response, AND are healthy witnesses: the run of failures
 * that result belongs to began after a steady spell -- the control answered in the 10 minutes
 * before and was not flapping in them (FLAPPING_RUNS, FLAPPING_FAILURES) -- and no provider
 * request got an answer while the control was failing (#contradicted). A control dead from the start, failing at random, or dead while the
 * provider answers, is no witness: a provider failure beside it is the provider's, with a measurement problem. The same
 * function serves the daemon (once the controls' results before `ts` are all in, see settledFor)
 * and the report (from the stored control results), so both classify every request identically.
 */
/** Failures that a broken merchant-side network produces; protocol/aborted/5xx never are. */
const NETWORK_FAILURES: ReadonlySet<FailureReason> = new Set(["timeout", "connect", "dns", "tls", "reset"]);

/** A control is a witness only if it answered within this long before its failures began. */
export const WITNESS_HEALTH_MS = 10 * 60_000;

/**
 * What makes a control flapping, counted within WITNESS_HEALTH_MS before its run of failures
 * began: two earlier runs of failures (it alternated twice), or two earlier failed results at all
 * (a run of failures longer than one blip). So a control down 3 minutes and up 3 minutes, or
 * failing 1 probe in 9, hides almost nothing (issue 24), while one isolated blip does not cost a
 * steady control its witness to a real merchant-side outage.
 */
export const FLAPPING_RUNS = 2;
export const FLAPPING_FAILURES = 2;

/**
 * How far back control results are kept (daemon) and read (report): a run of failures that
 * began longer ago than this, minus WITNESS_HEALTH_MS, has an unknown start and is no witness.
 */
export const CONTROL_LOOKBACK_MS = 86_400_000;

/** How long after `ts` a control run started before `ts` may still be on its way to the record. */
export const SETTLE_GRACE_MS = 2_000;

/** One control result that made the controls count as failing. */
export interface ControlFailure {
  readonly control: string;
  readonly ts: EpochMs;
  readonly error: FailureReason | null;
}

interface ControlSeries {
  readonly id: string;
  readonly ts: number[];
  readonly results: (ControlFailure | null)[];
}

/**
 * The controls and controls_quorum in force from `from` on (contract section 14): a provider
 * result is judged by the settings in force when it was sent, so a reload after an outage cannot
 * turn the outage's failures merchant_side (ATTACK-24c item 1).
 */
export interface ControlSettings {
  readonly from: EpochMs;
  readonly controls: readonly Control[];
  /** The configured controls_quorum, if any (default 2, or 1 with one control; clamped to the controls). */
  readonly quorum?: number | undefined;
}

/**
 * The control settings the agent's log holds (contract section 14): one per configuration record
 * (`records`: oldest first, the one in force before the period first) whose controls or quorum
 * differ from the previous one; a record without categories is a tool's, not a configuration the
 * agent ran, and is passed over. `given`'s settings when the log holds none (imported data).
 */
export function controlSettingsOf(
  records: readonly { readonly ts: EpochMs; readonly payload: string }[],
  given: { readonly controls?: readonly Control[] | undefined; readonly controlsQuorum?: number | undefined },
): ControlSettings[] {
  const settings: ControlSettings[] = [];
  for (const { ts, payload } of records) {
    const config = JSON.parse(payload) as {
      categories?: unknown;
      controls?: Control[];
      controlsQuorum?: number;
    };
    if (config.categories === undefined) continue;
    const next = { from: ts, controls: config.controls ?? [], quorum: config.controlsQuorum };
    const last = settings.at(-1);
    if (last && sameSettings(last, next)) continue;
    settings.push(next);
  }
  return settings.length > 0
    ? settings
    : [{ from: 0, controls: given.controls ?? [], quorum: given.controlsQuorum }];
}

/** Whether two settings judge alike: the same controls (id, kind, interval, timeout) and quorum. */
export function sameSettings(a: ControlSettings, b: ControlSettings): boolean {
  const shape = (s: ControlSettings) =>
    JSON.stringify([
      Math.min(s.quorum ?? 2, Math.max(1, s.controls.length)),
      s.controls.map((c) => [c.id, c.kind, c.intervalMs, c.timeoutMs]),
    ]);
  return shape(a) === shape(b);
}

/** How a failing control stands as a witness at the start of its current run of failures. */
type WitnessState = "healthy" | ControlProblem;

/** What the controls say about a provider failure at some `ts`. */
export type ControlJudgement =
  /** Quorum reached by healthy witnesses: merchant_side, with their failing results. */
  | { readonly witnessed: readonly ControlFailure[] }
  /** Quorum reached only with controls that are no witnesses: the provider's, a measurement problem. */
  | { readonly problem: ControlProblem }
  /** Not enough controls failing: the provider's. */
  | null;

/** The control results seen so far, per control, in ts order. */
export class ControlTimeline {
  readonly #series = new Map<string, ControlSeries>();
  /** The settings in force, oldest first; the first holds from the beginning of time. */
  readonly #settings: {
    readonly from: EpochMs;
    readonly controls: readonly Control[];
    readonly quorum: number;
  }[] = [];
  /** Witness state per control and run start, until the next control result is added. */
  readonly #witness = new Map<string, WitnessState>();
  /**
   * When provider requests got an HTTP response: their completion (ts + duration) rounded up to
   * the whole second, sorted and unique (a day of them stays small whatever the probe rate).
   */
  readonly #answeredSeconds: number[] = [];
  /**
   * Per control id (`control:<id>`) and per provider probe, the addresses (`ip:port`, canonical)
   * its requests reached or tried, each with when first: a control that reached the address of a
   * probe's target is on the provider's path, no witness for that probe (#onPathOf).
   */
  readonly #reached = new Map<string, Map<string, EpochMs>>();
  /** `[control id, probe]` (JSON) of each failing control left out of a judgement as on that probe's path. */
  readonly #droppedOnPath = new Set<string>();
  /** `[control id, probe]` (JSON) of each control that witnessed a failure of a probe on that probe's host (#onHostOf). */
  readonly #witnessedOnHost = new Set<string>();

  /** `quorum`: the configured controls_quorum, if any (clamped to the number of controls). */
  constructor(controls: readonly Control[], quorum?: number) {
    this.settingsFrom({ from: Number.NEGATIVE_INFINITY, controls, quorum });
  }

  /** A timeline judging each result by the settings in force when it was sent (`settings`: in `from` order). */
  static ofSettings(settings: readonly ControlSettings[]): ControlTimeline {
    const [first, ...later] = settings;
    const timeline = new ControlTimeline(first?.controls ?? [], first?.quorum);
    for (const s of later) timeline.settingsFrom(s);
    return timeline;
  }

  /** Settings in force from `s.from` on (a reload): results sent before keep the earlier ones. */
  settingsFrom(s: ControlSettings): void {
    const quorum = Math.min(s.quorum ?? 2, Math.max(1, s.controls.length));
    this.#settings.push({ from: s.from, controls: s.controls, quorum });
    for (const control of s.controls)
      if (!this.#series.has(control.id))
        this.#series.set(control.id, { id: control.id, ts: [], results: [] });
    this.#witness.clear();
  }

  /** The settings in force at `ts`. */
  #at(ts: EpochMs) {
    return this.#settings.findLast((s) => s.from <= ts) ?? this.#settings[0]!;
  }

  /** The quorum in force at `ts`. */
  quorumAt(ts: EpochMs): number {
    return this.#at(ts).quorum;
  }

  get empty(): boolean {
    return this.#series.size === 0;
  }

  /**
   * Records a control result, or a provider result that got an HTTP response (the consistency
   * rule's evidence); results of unconfigured controls and other provider results are ignored.
   */
  add(result: ProbeResult): void {
    const id = controlIdOf(result);
    this.#noteReached(id === null ? result.probe : `control:${id}`, result);
    if (id === null) {
      if (result.status !== null && this.#series.size > 0) this.#noteAnswered(result);
      return;
    }
    const series = this.#series.get(id);
    if (!series) return;
    // A control whose request failed inside the agent says nothing about the network: unknown.
    // No answer: no HTTP status, or (a tcp or dns control, which has none) a reason it failed.
    const failed = result.error !== null && !result.flags?.includes("agent_error");
    const entry = failed ? { control: series.id, ts: result.ts, error: result.error } : null;
    const at = upperBound(series.ts, result.ts);
    series.ts.splice(at, 0, result.ts);
    series.results.splice(at, 0, entry);
    this.#witness.clear();
  }

  /** The failing control results that make `probe`'s failure at `ts` merchant-side, or null when they do not. */
  failingAt(ts: EpochMs, probe: ProbeId | null = null): readonly ControlFailure[] | null {
    const judgement = this.judgeAt(ts, probe);
    return judgement && "witnessed" in judgement ? judgement.witnessed : null;
  }

  /**
   * What the controls say about a failure of `probe` sent at `ts` (see the comment at the top). A
   * control that reached an address `probe`'s requests reached or tried (by ts) is on the
   * provider's own path (its host under another name): it is left out, whatever it says.
   */
  judgeAt(ts: EpochMs, probe: ProbeId | null = null): ControlJudgement {
    const { controls, quorum } = this.#at(ts);
    if (controls.length === 0) return null;
    const witnessed: ControlFailure[] = [];
    let failing = 0;
    let flapping = false;
    for (const control of controls) {
      const series = this.#series.get(control.id)!;
      const { ts: times, results } = series;
      const i = lowerBound(times, ts) - 1;
      if (i < 0 || ts - times[i]! > control.intervalMs + control.timeoutMs) continue;
      const failure = results[i];
      if (!failure) continue;
      if (probe !== null && this.#onPathOf(control.id, probe, ts)) {
        this.#droppedOnPath.add(JSON.stringify([control.id, probe]));
        continue;
      }
      failing += 1;
      const state = this.#witnessState(series, i);
      if (state === "healthy" && !this.#contradicted(series, control, i)) witnessed.push(failure);
      else if (state === "control_flapping") flapping = true;
    }
    if (witnessed.length >= quorum) {
      if (probe !== null)
        for (const w of witnessed)
          if (this.#onHostOf(w.control, probe, ts))
            this.#witnessedOnHost.add(JSON.stringify([w.control, probe]));
      return { witnessed };
    }
    if (failing >= quorum) return { problem: flapping ? "control_flapping" : "control_unhealthy" };
    return null;
  }

  /**
   * The controls left out, while failing, of a judgement of a probe's failure because they had
   * reached an address that probe reached or tried (#onPathOf), each with that probe, sorted: a
   * report names them rather than staying silent about a configured control it ignored.
   */
  droppedOnPath(): { control: string; probe: ProbeId }[] {
    return sortedPairs(this.#droppedOnPath);
  }

  /**
   * The controls that witnessed (made merchant_side) a failure of a probe after reaching the host
   * that probe reached, on another port (#onHostOf), each with that probe, sorted: accepted -- another
   * port is another endpoint -- but a provider host that fails fails the control too, so a report
   * says which of its exclusions rest on such a control.
   */
  witnessedOnProviderHost(): { control: string; probe: ProbeId }[] {
    return sortedPairs(this.#witnessedOnHost);
  }

  /** Whether control `id` reached, before `ts`, the IP address `probe` reached or tried by `ts` (any port). */
  #onHostOf(id: string, probe: ProbeId, ts: EpochMs): boolean {
    const control = this.#reached.get(`control:${id}`);
    const target = this.#reached.get(probe);
    if (!control || !target) return false;
    const hosts = new Set<string>();
    for (const [endpoint, first] of target) if (first <= ts) hosts.add(hostOfEndpoint(endpoint));
    for (const [endpoint, first] of control)
      if (first < ts && hosts.has(hostOfEndpoint(endpoint))) return true;
    return false;
  }

  #noteReached(key: string, result: ProbeResult): void {
    const { address, tried } = result.observed ?? {};
    const addresses = [
      ...(typeof address === "string" ? [address] : []),
      ...(Array.isArray(tried) ? tried : []),
    ];
    if (addresses.length === 0) return;
    let reached = this.#reached.get(key);
    if (!reached) {
      reached = new Map();
      this.#reached.set(key, reached);
    }
    for (const spelled of addresses) {
      const endpoint = canonicalEndpoint(spelled);
      const first = reached.get(endpoint);
      if (first === undefined || result.ts < first) reached.set(endpoint, result.ts);
    }
  }

  /**
   * Whether control `id` reached, in a result sent before `ts`, an address that `probe` reached
   * or tried in one sent by `ts`: both were seen by then in the daemon (a probe's runs never
   * overlap, and a failure waits for the controls' results before it), as in a report.
   */
  #onPathOf(id: string, probe: ProbeId, ts: EpochMs): boolean {
    const control = this.#reached.get(`control:${id}`);
    const target = this.#reached.get(probe);
    if (!control || !target) return false;
    for (const [endpoint, first] of control) {
      const probeFirst = target.get(endpoint);
      if (first < ts && probeFirst !== undefined && probeFirst <= ts) return true;
    }
    return false;
  }

  #noteAnswered(result: ProbeResult): void {
    const second = Math.ceil((result.ts + result.durationMs) / 1000);
    const seconds = this.#answeredSeconds;
    if (seconds.at(-1) === second) return;
    const at = lowerBound(seconds, second);
    if (seconds[at] !== second) seconds.splice(at, 0, second);
  }

  /**
   * The consistency rule: a control's run of failures is no witness once a provider request got
   * a response while the control was failing -- completed after the run's first request had timed
   * out and no later than the run's request at `i` was sent. The merchant's network evidently
   * worked, so the control failed for reasons of its own. Responses recorded after `i` was sent
   * cannot qualify, so the daemon (which decides a failure once the controls' results before it
   * are in) and the report (which reads all results in ts order) see the same responses.
   */
  #contradicted(series: ControlSeries, control: Control, i: number): boolean {
    const from = series.ts[runStart(series.results, i)]! + control.timeoutMs;
    const to = series.ts[i]!;
    const seconds = this.#answeredSeconds;
    const at = lowerBound(seconds, Math.ceil(from / 1000));
    return at < seconds.length && seconds[at]! * 1000 <= to;
  }

  /** Whether the failing result at `i` belongs to a run that began after a healthy, steady spell. */
  #witnessState(series: ControlSeries, i: number): WitnessState {
    const { ts: times, results } = series;
    const first = runStart(results, i);
    const key = `${series.id}@${times[first]}`;
    const known = this.#witness.get(key);
    if (known) return known;
    const since = times[first]! - WITNESS_HEALTH_MS;
    let answered = false;
    let earlierRuns = 0;
    let earlierFailures = 0;
    for (let j = first - 1; j >= 0 && times[j]! >= since; j--) {
      if (results[j] === null) answered = true;
      else {
        earlierFailures += 1;
        if (j === 0 || results[j - 1] === null) earlierRuns += 1;
      }
    }
    const flapping = earlierRuns >= FLAPPING_RUNS || (answered && earlierFailures >= FLAPPING_FAILURES);
    const state: WitnessState = flapping ? "control_flapping" : answered ? "healthy" : "control_unhealthy";
    this.#witness.set(key, state);
    return state;
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
    for (const control of this.#at(ts).controls) {
      const last = this.#series.get(control.id)!.ts.at(-1);
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
    this.#answeredSeconds.splice(0, lowerBound(this.#answeredSeconds, Math.floor(before / 1000)));
  }
}

/** The index of the first failure of the run that the failing result at `i` belongs to. */
function runStart(results: readonly (ControlFailure | null)[], i: number): number {
  let first = i;
  while (first > 0 && results[first - 1] !== null) first -= 1;
  return first;
}

/**
 * Why a provider result is excluded automatically, or null when it counts: a failure inside the
 * agent (flag agent_error) is agent_error; a merchant request its own client failed (flag
 * client_side) is merchant_side; a request with no response of a network kind while
 * the controls were failing is merchant_side. Control results themselves are never classified.
 */
export function automaticReasonOf(
  result: ProbeResult,
  controls: ControlTimeline,
  unreached = false,
): AutomaticReason | null {
  return automaticVerdictOf(result, controls, unreached).reason;
}

/**
 * The automatic reason and, for a provider failure the controls cannot witness, the measurement
 * problem. `unreached`: TargetReach's verdict on the result (its target never answered under its
 * configuration), which goes before the controls: such a failure measures the configuration.
 */
export function automaticVerdictOf(
  result: ProbeResult,
  controls: ControlTimeline,
  unreached = false,
): { readonly reason: AutomaticReason | null; readonly problem: ControlProblem | null } {
  if (controlIdOf(result) !== null) return NEITHER;
  if (result.flags?.includes("agent_error")) return { reason: "agent_error", problem: null };
  // A merchant request that its own client failed (span error.type, src/traffic/spans.ts).
  if (result.flags?.includes("client_side")) return { reason: "merchant_side", problem: null };
  if (unreached && result.status === null) return { reason: "target_unreached", problem: null };
  if (!isNetworkFailure(result)) return NEITHER;
  const judgement = controls.judgeAt(result.ts, result.probe);
  if (judgement === null) return NEITHER;
  if ("witnessed" in judgement) return { reason: "merchant_side", problem: null };
  return { reason: null, problem: judgement.problem };
}

const NEITHER = { reason: null, problem: null } as const;

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

/** The IP address of a canonical `ip:port` endpoint (canonicalEndpoint). */
function hostOfEndpoint(endpoint: string): string {
  return endpoint.slice(0, endpoint.lastIndexOf(":"));
}

/** `[control id, probe]` pairs kept as JSON text (one entry each), sorted, as objects. */
function sortedPairs(pairs: ReadonlySet<string>): { control: string; probe: ProbeId }[] {
  return [...pairs].sort().map((pair) => {
    const [control, probe] = JSON.parse(pair) as [string, ProbeId];
    return { control, probe };
  });
}
