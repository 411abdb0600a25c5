import type { ProbeId } from "../model/config.js";
import { DIAGNOSTIC_CATEGORY, type ProbeResult } from "../model/result.js";
import type { EpochMs } from "../model/time.js";

/**
 * Unreached targets (contract section 14): until a probe's target has given one HTTP response
 * under the probe's current configuration, its no-response failures say nothing about the
 * provider (a closed port, a wrong host name) and are `target_unreached`. Everything here is
 * derived from the evidence log itself: the configuration records (input log) say when each
 * probe's target identity took effect, the results say when it first answered, so a restart, a
 * report and a verifier all reach the same verdict, and restarting during an outage hides nothing.
 */

/** A configuration record as the input log holds it: when it took effect and its plain JSON. */
export interface ConfigRecordView {
  readonly ts: EpochMs;
  /** effectiveConfiguration(config) as JSON text (the input log's payload) or already parsed. */
  readonly payload: string | unknown;
}

/**
 * Probe keys that do not change where a request goes or what it says: how often, how long it may
 * take, what it counts toward and which statuses it expects. Anything else (method, path, body,
 * headers, redirects, a kind's own keys) is the target identity.
 */
const NOT_IDENTITY = new Set([
  "id",
  "category",
  "schedule",
  "timeoutMs",
  "expect",
  "source",
  "writes",
  "maxBodyBytes",
  "environmentValues",
  "bodyFromEnvironment",
]);
/** Target keys that only pace the requests. */
const TARGET_NOT_IDENTITY = new Set(["id", "maxRequestsPerSecond", "maxInFlight"]);

/**
 * The probe's target identity in a configuration's plain form (effectiveConfiguration): its
 * request and its target's, as one canonical string; null when the configuration has no such probe.
 */
export function targetIdentityOf(plainConfig: unknown, probe: ProbeId): string | null {
  const config = plainConfig as { probes?: unknown; targets?: unknown } | null;
  if (!config || !Array.isArray(config.probes)) return null;
  const spec = config.probes.find((p) => (p as { id?: unknown })?.id === probe) as
    | Record<string, unknown>
    | undefined;
  if (!spec) return null;
  const targets = (config.targets ?? {}) as Record<string, unknown>;
  const target = typeof spec.target === "string" ? targets[spec.target] : undefined;
  return sortedJson({ probe: without(spec, NOT_IDENTITY), target: without(target, TARGET_NOT_IDENTITY) });
}

/** JSON with object keys in sorted order: equal data, equal text. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

function without(value: unknown, keys: ReadonlySet<string>): unknown {
  if (value === null || typeof value !== "object") return value ?? null;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !keys.has(key)));
}

/**
 * Asks the evidence store whether the probe got an HTTP response sent in [from, to); the answer
 * decides requests after `to`, before the stream of results being judged began.
 */
export type AnsweredBetween = (probe: ProbeId, from: EpochMs, to: EpochMs) => boolean;

interface Epoch {
  /** When this target identity took effect (-Infinity: before any recorded configuration). */
  readonly from: EpochMs;
  readonly identity: string | null;
}

interface ProbeReach {
  readonly epoch: EpochMs;
  answered: boolean;
}

/**
 * Judges a stream of one store's results in ts order (per probe, runs never overlap, so a probe's
 * results arrive in ts order in the daemon too): whether each no-response failure came before the
 * probe's target ever answered under the configuration in force when it was sent.
 */
export class TargetReach {
  /** Per probe, the target identity's epochs in ts order (a run of equal identities is one epoch). */
  readonly #epochs = new Map<ProbeId, Epoch[]>();
  readonly #records: { ts: EpochMs; config: unknown }[] = [];
  readonly #reach = new Map<ProbeId, ProbeReach>();

  /**
   * `records`: every configuration record up to the stream's end, in ts order; `streamStart`:
   * the ts of the first result the stream will hold (answers before it come from `answered`).
   */
  constructor(
    records: readonly ConfigRecordView[],
    readonly streamStart: EpochMs,
    readonly answered: AnsweredBetween,
  ) {
    for (const record of records) this.configured(record);
  }

  /** A configuration that took effect at `record.ts` (a reload, in the daemon). */
  configured(record: ConfigRecordView): void {
    const config = typeof record.payload === "string" ? JSON.parse(record.payload) : record.payload;
    this.#records.push({ ts: record.ts, config });
    // Epochs of probes already seen are extended; others are built on first use.
    for (const [probe, epochs] of this.#epochs) {
      const identity = targetIdentityOf(config, probe);
      if (epochs.length === 0) epochs.push({ from: Number.NEGATIVE_INFINITY, identity });
      else if (epochs.at(-1)?.identity !== identity) epochs.push({ from: record.ts, identity });
    }
  }

  /**
   * Whether `result` is target_unreached: a request with no HTTP response (not one that failed
   * inside the agent) sent before its target's first answer under the configuration in force.
   * Notes an answer, so call it for every result of the stream, in ts order.
   */
  observe(result: ProbeResult): boolean {
    // A tls, dns or tcp probe has no HTTP target to reach: its failure is what it measures.
    if (result.category === DIAGNOSTIC_CATEGORY) return false;
    const epoch = this.#epochAt(result.probe, result.ts);
    let reach = this.#reach.get(result.probe);
    if (!reach || reach.epoch !== epoch) {
      const before = Math.min(this.streamStart, result.ts);
      const answered = epoch < before && this.answered(result.probe, epoch, before);
      reach = { epoch, answered };
      this.#reach.set(result.probe, reach);
    }
    if (result.status !== null) {
      reach.answered = true;
      return false;
    }
    return !reach.answered && !result.flags?.includes("agent_error");
  }

  /**
   * When the configuration under which the probe's latest observed result was judged took effect
   * (null: before the first configuration record): a target_unreached verdict cites it.
   */
  epochOf(probe: ProbeId): EpochMs | null {
    const epoch = this.#reach.get(probe)?.epoch;
    return epoch === undefined || epoch === Number.NEGATIVE_INFINITY ? null : epoch;
  }

  #epochAt(probe: ProbeId, ts: EpochMs): EpochMs {
    let epochs = this.#epochs.get(probe);
    if (!epochs) {
      epochs = [];
      for (const { ts: from, config } of this.#records) {
        const identity = targetIdentityOf(config, probe);
        // The first epoch reaches back before the first record: results older than the input log.
        if (epochs.length === 0) epochs.push({ from: Number.NEGATIVE_INFINITY, identity });
        else if (epochs.at(-1)?.identity !== identity) epochs.push({ from, identity });
      }
      this.#epochs.set(probe, epochs);
    }
    let from = Number.NEGATIVE_INFINITY;
    for (const epoch of epochs) {
      if (epoch.from > ts) break;
      from = epoch.from;
    }
    return from;
  }
}
