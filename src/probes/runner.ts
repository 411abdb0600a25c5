import { setMaxListeners } from "node:events";
import type { Dispatcher } from "undici";
import type { Clock } from "../clock/clock.js";
import type { ProbeId, ProbeSpec, SloConfig, Target, TargetId } from "../model/config.js";
import { SecretScrubber } from "../model/secret.js";
import type { ResultSink } from "../model/sink.js";
import { type EpochMs, isoUtc } from "../model/time.js";
import { createTargetDispatcher } from "./connection.js";
import { bareTarget } from "./controls.js";
import { type PartGate, runProbe } from "./harness.js";
import { TargetPoliteness } from "./politeness.js";
import { agentSecretValues } from "./scrub.js";
import type { StallGuard } from "./stall.js";

/**
 * The targets, and whatever else of the configuration holds secrets (the daemon passes all of it):
 * every result is scrubbed of every secret found in it (agentSecretValues).
 */
export type RunnerConfig = Pick<SloConfig, "targets"> & Partial<SloConfig>;

/** What became of a run (the Scheduler's RunDisposition). */
export type RunOutcome = "performed" | "paused" | "throttled" | "refused";

export interface ProbeRunnerOptions {
  readonly clock: Clock;
  readonly config: RunnerConfig;
  readonly sink: ResultSink;
  /** One dispatcher per target; default: an undici Agent with timed connections (connection.ts). */
  readonly dispatcherFor?: (target: Target) => Dispatcher;
  /** One line per notable event; never given a secret. */
  readonly logger?: (message: string) => void;
  /** Watches the loop runs are timed on (agent.max_stall_ms); none: no stall guard. */
  readonly stalls?: StallGuard;
}

export interface RunnerProbeStats {
  readonly probe: ProbeId;
  readonly performed: number;
  /** Not sent: the target had asked for a pause (429 / rate-limit headers). Not failures. */
  readonly paused: number;
  /** Not sent: the target's max_requests_per_second left no slot within the probe's timeout. */
  readonly throttled: number;
  /** Not sent: a writing probe against a production target, or an unknown target. */
  readonly refused: number;
}

type Counts = { -readonly [K in Exclude<keyof RunnerProbeStats, "probe">]: number };

/**
 * Turns a scheduled run into one ProbeResult in the sink: politeness first (pauses, rate cap),
 * then the probe under the harness, then what the response taught about the target.
 */
export class ProbeRunner {
  readonly #clock: Clock;
  #config: RunnerConfig;
  #secrets: SecretScrubber;
  readonly #sink: ResultSink;
  readonly #dispatcherFor: (target: Target) => Dispatcher;
  readonly #log: (message: string) => void;
  readonly #dispatchers = new Map<TargetId, Dispatcher>();
  readonly #politeness = new Map<TargetId, TargetPoliteness>();
  /** Each target's gate, made once: a run took two new closures and an object for it. */
  readonly #gates = new Map<TargetId, PartGate>();
  readonly #roundTrips = new Map<TargetId, number>();
  readonly #counts = new Map<ProbeId, Counts>();
  readonly #refusedOnce = new Set<ProbeId>();
  readonly #stopping = new AbortController();
  readonly #stalls: StallGuard | undefined;

  constructor(options: ProbeRunnerOptions) {
    this.#clock = options.clock;
    this.#config = options.config;
    this.#secrets = new SecretScrubber(agentSecretValues(options.config));
    this.#sink = options.sink;
    this.#dispatcherFor =
      options.dispatcherFor ?? ((target) => createTargetDispatcher(target, { clock: options.clock }));
    this.#log = options.logger ?? (() => {});
    this.#stalls = options.stalls;
    // Every run in flight listens for the stop: hundreds at once are normal, not a leak.
    setMaxListeners(0, this.#stopping.signal);
  }

  /** For the Scheduler: performs one run of the probe planned at `plannedAt`. */
  async execute(spec: ProbeSpec, _plannedAt: EpochMs): Promise<RunOutcome> {
    const target = spec.target === null ? detachedTarget(spec) : this.#config.targets.get(spec.target);
    const refusal = this.#refusalOf(spec, target);
    if (refusal !== null || !target) return this.#refuse(spec, refusal ?? "unknown target");
    if (this.#stopping.signal.aborted) return this.#count(spec, "refused");
    const gate = this.#gateOf(target);
    const held = await gate.admit(spec.timeoutMs);
    if (held !== null) return this.#count(spec, held);

    const outcome = await runProbe({
      spec,
      target,
      dispatcher: this.#dispatcherOf(target),
      clock: this.#clock,
      signal: this.#stopping.signal,
      fallbackRoundTripMs: this.#roundTrips.get(target.id) ?? null,
      secrets: this.#secrets,
      gate,
      stalls: this.#stalls,
    });
    if (outcome.roundTripMs !== null) this.#roundTrips.set(target.id, outcome.roundTripMs);
    for (const result of outcome.results) {
      try {
        this.#sink.record(result);
      } catch (error) {
        this.#log(
          `probe ${result.probe}: result not recorded: ${error instanceof Error ? error.message : error}`,
        );
      }
    }
    return this.#count(spec, "performed");
  }

  stats(): RunnerProbeStats[] {
    return [...this.#counts].map(([probe, c]) => ({ probe, ...c }));
  }

  /** The pause in force for a target, if any (for status pages and tests). */
  pausedUntil(target: TargetId): EpochMs | null {
    return this.#politeness.get(target)?.pausedNow()?.until ?? null;
  }

  /**
   * A configuration reload: targets whose settings changed (or that went away) lose their
   * connections and politeness state; the others keep theirs (a pause a target asked for holds).
   */
  reconfigure(config: RunnerConfig, sameTarget: (a: Target, b: Target) => boolean): void {
    for (const [id, before] of this.#config.targets) {
      const after = config.targets.get(id);
      if (after && sameTarget(before, after)) continue;
      this.#politeness.delete(id);
      this.#gates.delete(id);
      const dispatcher = this.#dispatchers.get(id);
      this.#dispatchers.delete(id);
      // Runs in flight on it finish first: close() waits for them.
      void dispatcher?.close().catch(() => {});
    }
    this.#config = config;
    this.#secrets = new SecretScrubber(agentSecretValues(config));
  }

  /** Aborts runs still going (recorded as `aborted`) and closes every target's connections. */
  async close(): Promise<void> {
    this.#stopping.abort();
    const dispatchers = [...this.#dispatchers.values()];
    this.#dispatchers.clear();
    await Promise.all(dispatchers.map((d) => d.destroy().catch(() => {})));
  }

  #refusalOf(spec: ProbeSpec, target: Target | undefined): string | null {
    if (!target) return `unknown target "${spec.target}"`;
    // A diagnostic probe (tls, dns, tcp) names its own host and calls no configured target.
    if (spec.writes && target.environment === "production") {
      return `writes, and target ${target.id} is production`;
    }
    return null;
  }

  #refuse(spec: ProbeSpec, why: string): RunOutcome {
    if (!this.#refusedOnce.has(spec.id)) {
      this.#refusedOnce.add(spec.id);
      this.#log(`probe ${spec.id}: not run: ${why}`);
    }
    return this.#count(spec, "refused");
  }

  #count(spec: ProbeSpec, outcome: RunOutcome): RunOutcome {
    let c = this.#counts.get(spec.id);
    if (!c) {
      c = { performed: 0, paused: 0, throttled: 0, refused: 0 };
      this.#counts.set(spec.id, c);
    }
    c[outcome]++;
    return outcome;
  }

  /** Politeness per request: a run's first request and each further one of a flow take a slot. */
  #gateOf(target: Target): PartGate {
    let gate = this.#gates.get(target.id);
    if (!gate) {
      gate = this.#newGate(target);
      this.#gates.set(target.id, gate);
    }
    return gate;
  }

  #newGate(target: Target): PartGate {
    const politeness = this.#politenessOf(target);
    return {
      admit: async (timeoutMs) => {
        if (politeness.pausedNow()) return "paused";
        const waitMs = politeness.reserve(timeoutMs);
        if (waitMs === null) return "throttled";
        if (waitMs > 0) await this.#sleep(waitMs);
        // A 429 may have arrived while this request waited for its slot.
        return politeness.pausedNow() || this.#stopping.signal.aborted ? "paused" : null;
      },
      observe: (status, headers) => {
        const pause = politeness.observe(status, headers);
        if (pause) this.#log(`target ${target.id}: paused until ${isoUtc(pause.until)} (${pause.cause})`);
      },
    };
  }

  #politenessOf(target: Target): TargetPoliteness {
    let p = this.#politeness.get(target.id);
    if (!p) {
      p = new TargetPoliteness(this.#clock, target.maxRequestsPerSecond);
      this.#politeness.set(target.id, p);
    }
    return p;
  }

  #dispatcherOf(target: Target): Dispatcher {
    let d = this.#dispatchers.get(target.id);
    if (!d) {
      d = this.#dispatcherFor(target);
      this.#dispatchers.set(target.id, d);
    }
    return d;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(done, ms);
      const signal = this.#stopping.signal;
      function done() {
        timer.cancel();
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/**
 * The stand-in target of a probe that calls no configured one (tls, dns, tcp): no credentials,
 * no rate cap, its own politeness state; its dispatcher is never used.
 */
function detachedTarget(spec: ProbeSpec): Target {
  return bareTarget(`@${spec.id}`, "http://invalid");
}
