import { canonicalAddress, portOf } from "../model/address.js";
import type { ProbeId } from "../model/config.js";
import { DIAGNOSTIC_CATEGORY, type ProbeResult } from "../model/result.js";
import type { EpochMs } from "../model/time.js";

/**
 * Unreached targets (contract section 14): until a probe's target has given one HTTP response,
 * its failures that made no connection (dns, connect, a TLS handshake, a timeout before the
 * connection was set up) say nothing about the provider (a closed port, a wrong host name) and
 * are `target_unreached`. A target is its network destination (scheme, host and port of the
 * target's base URL), so renaming a probe or changing its path, method or timeout does not
 * forget that it answered; and a request that reached it (then timed out or was reset) is the
 * provider's to answer for, whatever the configuration. Everything here is derived from the
 * evidence log itself: the configuration records (input log) say which destination each probe
 * had when, the results when each destination answered, so a restart, a report and a verifier
 * all reach the same verdict, and restarting or reloading during an outage hides nothing.
 */

/** A configuration record as the input log holds it: when it took effect and its plain JSON. */
export interface ConfigRecordView {
  readonly ts: EpochMs;
  /** effectiveConfiguration(config) as JSON text (the input log's payload) or already parsed. */
  readonly payload: string | unknown;
}

/**
 * Where the probe's requests go in a configuration's plain form (effectiveConfiguration): the
 * scheme, host and port of its target's base URL; null when the configuration has no such probe
 * or it has no target.
 */
export function destinationOf(plainConfig: unknown, probe: ProbeId): string | null {
  const config = plainConfig as { probes?: unknown; targets?: unknown } | null;
  if (!config || !Array.isArray(config.probes)) return null;
  const spec = config.probes.find((p) => (p as { id?: unknown })?.id === probe) as
    | { target?: unknown }
    | undefined;
  const targets = (config.targets ?? {}) as Record<string, { baseUrl?: unknown } | undefined>;
  const baseUrl = typeof spec?.target === "string" ? targets[spec.target]?.baseUrl : undefined;
  if (typeof baseUrl !== "string" || !URL.canParse(baseUrl)) return null;
  // One spelling per address: 0.0.0.0, [::ffff:127.0.0.1] and 127.0.0.1 are one destination.
  const url = new URL(baseUrl);
  return canonicalAddress(`${url.protocol}//${url.hostname}:${portOf(baseUrl)}`);
}

/**
 * Whether a request without a response got as far as a connection to its target: a phase after
 * the connection's set-up was timed (a reused connection times none of its own), or it failed in
 * a way only an open connection can (a reset, a malformed response).
 */
export function madeConnection(result: Pick<ProbeResult, "error" | "phases">): boolean {
  if (result.error === "reset" || result.error === "protocol") return true;
  const p = result.phases;
  return !!p && (p.connectMs ?? p.tlsMs ?? p.requestSentMs ?? p.ttfbMs) != null;
}

/**
 * Asks the evidence store whether the probe got an HTTP response sent in [from, to); the answer
 * decides requests after `to`, before the stream of results being judged began.
 */
export type AnsweredBetween = (probe: ProbeId, from: EpochMs, to: EpochMs) => boolean;

/**
 * Asks the evidence store whether a response came from `address` (`scheme://ip:port` in canonical
 * form, src/model/address.ts; a result's `observed.address` in any spelling of it) before
 * `before`: answers before the stream being judged began.
 */
export type AnsweredFrom = (address: string, before: EpochMs) => boolean;

interface Epoch {
  /** When this destination took effect for the probe (-Infinity: before any recorded configuration). */
  readonly from: EpochMs;
  readonly destination: string | null;
}

/**
 * Judges a stream of one store's results in ts order (per probe, runs never overlap, so a probe's
 * results arrive in ts order in the daemon too): whether each no-response failure made no
 * connection and came before its destination ever answered.
 */
export class TargetReach {
  /** Per probe, its destination's epochs in ts order (a run of equal destinations is one epoch). */
  readonly #epochs = new Map<ProbeId, Epoch[]>();
  readonly #records: { ts: EpochMs; config: unknown }[] = [];
  /** Every probe id some configuration record names: an answer of any of them may count. */
  readonly #probes = new Set<ProbeId>();
  /** Per destination (or "probe:<id>" without one), whether it has answered. */
  readonly #answered = new Map<string, boolean>();
  /** Per probe, the epoch its latest observed result was sent in. */
  readonly #latest = new Map<ProbeId, EpochMs>();
  /** The addresses (`scheme://ip:port`) responses of the stream came from, whatever their destination. */
  readonly #addresses = new Set<string>();
  /** Per address a failure tried, whether a response came from it before the stream (asked once). */
  readonly #addressesBefore = new Map<string, boolean>();

  /**
   * `records`: every configuration record up to the stream's end, in ts order; `streamStart`:
   * the ts of the first result the stream will hold (answers before it come from `answered`).
   */
  constructor(
    records: readonly ConfigRecordView[],
    readonly streamStart: EpochMs,
    readonly answered: AnsweredBetween,
    readonly answeredFrom: AnsweredFrom = () => false,
  ) {
    for (const record of records) this.configured(record);
  }

  /** A configuration that took effect at `record.ts` (a reload, in the daemon). */
  configured(record: ConfigRecordView): void {
    const config = typeof record.payload === "string" ? JSON.parse(record.payload) : record.payload;
    this.#records.push({ ts: record.ts, config });
    const probes = (config as { probes?: unknown })?.probes;
    if (Array.isArray(probes)) for (const p of probes) if (typeof p?.id === "string") this.#probes.add(p.id);
    // Epochs already built are extended; others are built on first use.
    for (const [probe, epochs] of this.#epochs) extend(epochs, record.ts, destinationOf(config, probe));
  }

  /**
   * Whether `result` is target_unreached: a request that made no connection (and did not fail
   * inside the agent) before its destination's first answer. Notes an answer, so call it for
   * every result of the stream, in ts order.
   */
  observe(result: ProbeResult): boolean {
    // A tls, dns or tcp probe has no HTTP target to reach: its failure is what it measures.
    if (result.category === DIAGNOSTIC_CATEGORY) return false;
    const epoch = this.#epochAt(result.probe, result.ts);
    this.#latest.set(result.probe, epoch.from);
    const key = epoch.destination ?? `probe:${result.probe}`;
    if (result.status !== null) {
      this.#answered.set(key, true);
      const address = result.observed?.address;
      if (typeof address === "string") this.#addresses.add(canonicalAddress(address));
      return false;
    }
    if (madeConnection(result) || result.flags?.includes("agent_error")) return false;
    let answered = this.#answered.get(key);
    if (answered === undefined) {
      answered = this.#answeredBefore(result.probe, epoch.destination, Math.min(this.streamStart, result.ts));
      this.#answered.set(key, answered);
    }
    return !answered && !this.#triedAnswered(result);
  }

  /**
   * Whether an address the failed request tried (`observed.tried`: the refused or unreachable
   * `scheme://ip:port` its error named) has given a response, under any destination: a new
   * spelling of a host that answered (an alias, its IP) is the same server, and its outage counts.
   */
  #triedAnswered(result: ProbeResult): boolean {
    const tried = result.observed?.tried;
    if (!Array.isArray(tried)) return false;
    for (const spelled of tried) {
      // Compared in canonical form: [::ffff:127.0.0.1] or 0.0.0.0 is the 127.0.0.1 that answered.
      const address = canonicalAddress(spelled);
      if (this.#addresses.has(address)) return true;
      let before = this.#addressesBefore.get(address);
      if (before === undefined) {
        before = this.answeredFrom(address, this.streamStart);
        this.#addressesBefore.set(address, before);
      }
      if (before) return true;
    }
    return false;
  }

  /**
   * When the probe's destination under which its latest observed result was judged took effect
   * (null: before the first configuration record): a target_unreached verdict cites it.
   */
  epochOf(probe: ProbeId): EpochMs | null {
    const epoch = this.#latest.get(probe);
    return epoch === undefined || epoch === Number.NEGATIVE_INFINITY ? null : epoch;
  }

  /** Whether any probe got a response from `destination` (without one: this probe did) before `before`. */
  #answeredBefore(probe: ProbeId, destination: string | null, before: EpochMs): boolean {
    const probes = destination === null ? [probe] : new Set([probe, ...this.#probes]);
    for (const p of probes) {
      // Without configuration records, one epoch for all time.
      const known = this.#epochsOf(p);
      const epochs = known.length > 0 ? known : [{ from: Number.NEGATIVE_INFINITY, destination: null }];
      for (const [i, epoch] of epochs.entries()) {
        const to = Math.min(before, epochs[i + 1]?.from ?? Number.POSITIVE_INFINITY);
        if (epoch.destination === destination && epoch.from < to && this.answered(p, epoch.from, to))
          return true;
      }
    }
    return false;
  }

  #epochAt(probe: ProbeId, ts: EpochMs): Epoch {
    let found: Epoch = { from: Number.NEGATIVE_INFINITY, destination: null };
    for (const epoch of this.#epochsOf(probe)) {
      if (epoch.from > ts) break;
      found = epoch;
    }
    return found;
  }

  #epochsOf(probe: ProbeId): Epoch[] {
    let epochs = this.#epochs.get(probe);
    if (!epochs) {
      epochs = [];
      for (const { ts, config } of this.#records) extend(epochs, ts, destinationOf(config, probe));
      this.#epochs.set(probe, epochs);
    }
    return epochs;
  }
}

/** Adds a configuration's destination at `ts`; the first epoch reaches back before the first record. */
function extend(epochs: Epoch[], ts: EpochMs, destination: string | null): void {
  if (epochs.length === 0) epochs.push({ from: Number.NEGATIVE_INFINITY, destination });
  else if (epochs.at(-1)?.destination !== destination) epochs.push({ from: ts, destination });
}
