import type { Dispatcher } from "undici";
import type { Clock } from "../clock/clock.js";
import type { ProbeSpec, Target } from "../model/config.js";
import type { FailureReason, Observed, ObservedValue, ProbeResult, ResultFlag } from "../model/result.js";
import type { SecretScrubber } from "../model/secret.js";
import { safeText } from "../model/text.js";
import { agentErrorOf, errorCodeOf, failureReasonOf, misbehaviourOf } from "./failure.js";
import { httpProbe } from "./http.js";
import type { CompositeProbe, HeldBack, Observation, ProbeContext } from "./probe.js";
import { DIAGNOSTIC_KIND_NAMES, probeFor } from "./registry.js";
import { scrubberForRun, withoutCredentials } from "./scrub.js";
import type { StallGuard } from "./stall.js";
import { vendorErrorOf } from "./vendor-error.js";

export interface HarnessRun {
  readonly spec: ProbeSpec;
  readonly target: Target;
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  /** Aborts the run from outside (the agent stopping); the result says `aborted`. */
  readonly signal?: AbortSignal;
  /** The target's last measured round trip, for a connection whose own was not measured. */
  readonly fallbackRoundTripMs?: number | null;
  /** Watches the loop this run is timed on: a run that overlapped a longer stall is agent_error. */
  readonly stalls?: StallGuard;
  /**
   * Every secret of the agent (agentSecretValues), compiled once per configuration: a server may
   * echo another probe's credential. The run's own credentials are scrubbed with or without it.
   */
  readonly secrets?: SecretScrubber;
  /** The target's manners (politeness.ts): asked before each request after the run's first, told each response. */
  readonly gate?: PartGate;
}

/**
 * Rate limits and pauses are per request to the provider: the runner took the slot of a run's
 * first request; each further request of a composite run takes its own here.
 */
export interface PartGate {
  /** Waits for a send slot; why the request may not be sent, or null to send it. */
  admit(timeoutMs: number): Promise<HeldBack | null>;
  /** What a response taught about the target (a 429, X-Ratelimit-* headers). */
  observe(status: number | null, headers: Readonly<Record<string, string>>): void;
}

export interface HarnessOutcome {
  /** The run's result; of a composite run, its first failed part, else its last. */
  readonly result: ProbeResult;
  /** Every result the run made, in order: one, or one per part of a composite run. */
  readonly results: readonly ProbeResult[];
  /** Response headers, for politeness (Retry-After, X-Ratelimit-*). */
  readonly headers: Readonly<Record<string, string>>;
  /** The round trip this run measured, if any. */
  readonly roundTripMs: number | null;
}

/** The reason the harness aborts a run at its deadline. */
export class DeadlineReached extends Error {
  constructor(timeoutMs: number) {
    super(`no complete response within ${timeoutMs} ms`);
    this.name = "TimeoutError";
  }
}

/** The reason the harness aborts a run when the agent stops. */
export class RunAborted extends Error {
  constructor() {
    super("run aborted: the agent is stopping");
    this.name = "AbortError";
  }
}

/**
 * Runs one probe under its deadline and turns what it observed into a ProbeResult: the harness
 * owns the deadline (timeout_ms), the duration and the classification; the probe only observes.
 */
export async function runProbe(run: HarnessRun): Promise<HarnessOutcome> {
  const probe = probeFor(run.spec);
  if ("composite" in probe) return runComposite(probe, run);
  // A kind without HTTP names itself on every result, a failed run's too: its success is `error: null`.
  const kind = DIAGNOSTIC_KIND_NAMES.has(run.spec.kind) ? { kind: run.spec.kind } : null;
  const { outcome } = await runOne(run, run.spec, (ctx) => probe.observe(run.spec, ctx), probe.reasons, kind);
  run.gate?.observe(outcome.result.status, outcome.headers);
  return outcome;
}

/** A composite kind's run: each part under its own deadline, each part one result. */
async function runComposite(probe: CompositeProbe, run: HarnessRun): Promise<HarnessOutcome> {
  const results: ProbeResult[] = [];
  let last: HarnessOutcome | null = null;
  let roundTripMs: number | null = null;
  let sent = 0;
  const { failedPart, summary } = await probe.run(run.spec, {
    target: run.target,
    clock: run.clock,
    signal: run.signal ?? new AbortController().signal,
    part: async ({ spec, observed }) => {
      if (sent++ > 0) {
        const held = (await run.gate?.admit(spec.timeoutMs)) ?? null;
        if (held !== null) return { held };
      }
      let body: Uint8Array = new Uint8Array();
      const observe = async (ctx: ProbeContext) => {
        const seen = await httpProbe.observe(spec, ctx);
        body = seen.body;
        return seen;
      };
      const fallback = roundTripMs ?? run.fallbackRoundTripMs ?? null;
      const { outcome } = await runOne(
        { ...run, fallbackRoundTripMs: fallback },
        spec,
        observe,
        {},
        observed,
      );
      roundTripMs = outcome.roundTripMs ?? roundTripMs;
      run.gate?.observe(outcome.result.status, outcome.headers);
      results.push(outcome.result);
      last = outcome;
      return { result: outcome.result, body };
    },
  });
  const index = failedPart ?? results.length - 1;
  const chosen = results[index];
  if (!chosen || !last) throw new Error(`probe ${run.spec.id}: a composite run recorded no part`);
  // The run's summary (steps not run, the step that failed) is kept on the result that decided it.
  results[index] = { ...chosen, observed: { ...chosen.observed, ...summary } };
  const { headers } = last as HarnessOutcome;
  return { result: results[index]!, results, headers, roundTripMs };
}

async function runOne(
  run: HarnessRun,
  spec: ProbeSpec,
  observe: (ctx: ProbeContext) => Promise<Observation>,
  reasons: Readonly<Record<string, FailureReason>> | undefined,
  extra: Observed | null,
): Promise<{ outcome: HarnessOutcome }> {
  // The stall watch looks at the loop from before the clock starts until the run is judged.
  run.stalls?.runStarted?.();
  try {
    return await timedRun(run, spec, observe, reasons, extra);
  } finally {
    run.stalls?.runEnded?.();
  }
}

async function timedRun(
  run: HarnessRun,
  spec: ProbeSpec,
  observe: (ctx: ProbeContext) => Promise<Observation>,
  reasons: Readonly<Record<string, FailureReason>> | undefined,
  extra: Observed | null,
): Promise<{ outcome: HarnessOutcome }> {
  const { clock } = run;
  const ts = clock.now();
  const queuedAtStart = run.stalls?.queuedMs?.() ?? null;
  const startedAt = clock.monotonic();
  const controller = new AbortController();
  // The reason is made only when the deadline passes: an Error captures its stack, which cost
  // more than a tenth of every probe's CPU when each run made one.
  const timer = clock.setTimeout(() => controller.abort(new DeadlineReached(spec.timeoutMs)), spec.timeoutMs);
  const onStop = () => controller.abort(new RunAborted());
  if (run.signal?.aborted) onStop();
  run.signal?.addEventListener("abort", onStop, { once: true });
  let observation: Observation;
  try {
    const ctx: ProbeContext = {
      target: run.target,
      dispatcher: run.dispatcher,
      clock,
      signal: controller.signal,
      startedAt,
      queuedMs: queuedAtStart === null ? undefined : () => run.stalls?.queuedMs?.() ?? null,
    };
    observation = await observe(ctx);
  } catch (error) {
    observation = failedObservation(error);
  } finally {
    timer.cancel();
    run.signal?.removeEventListener("abort", onStop);
  }
  const elapsedMs = clock.monotonic() - startedAt;
  const queuedMs = queuedSince(run.stalls, queuedAtStart, observation.queuedAtHeadersMs ?? null);
  const classified = withObserved(
    classify(spec, ts, observation, elapsedMs, run.fallbackRoundTripMs ?? null, reasons ?? {}),
    extra,
    observation,
  );
  // A response's duration ends at its headers: the body read after them is in no duration.
  const measuredMs = classified.status === null ? elapsedMs : classified.durationMs;
  const guarded = stallGuarded(
    classified,
    run.stalls,
    observation,
    startedAt,
    startedAt + measuredMs,
    spec.timeoutMs,
    queuedMs,
  );
  const result = withoutCredentials(guarded, scrubberForRun(run.secrets, run.target, spec));
  return {
    outcome: {
      result,
      results: [result],
      headers: observation.headers,
      roundTripMs: observation.roundTripMs,
    },
  };
}

/** The kind's detail (and its own failure reason) on the result; nothing for a plain HTTP probe. */
function withObserved(result: ProbeResult, extra: Observed | null, seen: Observation): ProbeResult {
  if (extra === null && !seen.observed && !seen.failure) return result;
  const observed: Record<string, ObservedValue> = { ...extra, ...seen.observed };
  if (seen.failure && result.error !== null && result.error !== "timeout" && result.error !== "aborted") {
    observed.reason = seen.failure;
  }
  return { ...result, observed };
}

const NO_BODY = new Uint8Array();

function classify(
  spec: ProbeSpec,
  ts: number,
  seen: Observation,
  elapsedMs: number,
  fallbackRoundTripMs: number | null,
  reasons: Readonly<Record<string, FailureReason>>,
): ProbeResult {
  // Each result is one literal, the common fields written out: spreading a shared part into it
  // left ~3.7 KB of garbage a run (V8's sampling heap profiler), for the prober's young GC.
  if (seen.status === null && seen.error == null && seen.observed != null) {
    // A kind without HTTP (tls, dns, tcp): it answered; its own failure reason, if any, decides.
    const error = seen.failure ? (reasons[seen.failure] ?? "protocol") : null;
    return {
      ts,
      probe: spec.id,
      category: spec.category,
      phases: seen.phases,
      status: null,
      durationMs: elapsedMs,
      error,
      errorCode: null,
      correlationId: null,
      serverMs: null,
      bodyError: null,
      flags: seen.flags,
      detail: safeDetail(seen.detail),
    };
  }
  if (seen.status === null) {
    const error = reasonOf(seen.error, seen.connected);
    const agentError = agentErrorOf(seen.error) !== null;
    return {
      ts,
      probe: spec.id,
      category: spec.category,
      phases: seen.phases,
      status: null,
      // A timeout is recorded at its timeout value so that timing out never improves p99.
      durationMs: error === "timeout" ? spec.timeoutMs : elapsedMs,
      error,
      errorCode: null,
      correlationId: null,
      serverMs: null,
      bodyError: null,
      flags: agentError ? [...seen.flags, "agent_error"] : seen.flags,
      detail: describe(seen.error) ?? safeDetail(seen.detail),
    };
  }
  const vendor = vendorErrorOf(seen.status >= 400 ? seen.body : NO_BODY, seen.headers);
  const flags: readonly ResultFlag[] =
    seen.status === 403 && !vendor.errorBody ? [...seen.flags, "edge_block"] : seen.flags;
  const bodyError = seen.bodyError ? reasonOf(seen.bodyError, true) : null;
  const ttfbMs = seen.phases.ttfbMs ?? elapsedMs;
  return {
    ts,
    probe: spec.id,
    category: spec.category,
    phases: seen.phases,
    status: seen.status,
    durationMs: ttfbMs,
    error: null,
    errorCode: vendor.errorCode,
    correlationId: vendor.correlationId,
    serverMs: serverTimeOf(seen, ttfbMs, seen.roundTripMs ?? fallbackRoundTripMs),
    bodyError,
    flags,
    detail: bodyError ? `body: ${describe(seen.bodyError)}` : safeDetail(seen.detail),
  };
}

/**
 * The prober thread's run-queue wait (ms) over a run's timing, told to the guard (for its metric):
 * from `atStart` to the response headers, where a response's duration ends (a wait while its body
 * was read, after a second wake-up when the body came in a packet of its own, is in no duration),
 * else to now. Null where the thread's wait is not known.
 */
function queuedSince(
  stalls: StallGuard | undefined,
  atStart: number | null,
  atHeaders: number | null,
): number | null {
  if (atStart === null) return null;
  const now = atHeaders ?? stalls?.queuedMs?.() ?? null;
  if (now === null) return null;
  const waitedMs = Math.max(0, now - atStart);
  stalls?.runQueued?.(waitedMs);
  return waitedMs;
}

/**
 * A run whose duration holds more of the agent's own delay than agent.max_stall_ms measured the
 * agent, not the target: such a result is agent_error, excluded from the provider's figures
 * (contract section 14). The agent's delay of a run that got a response is the largest of
 * - the prober loop's lateness summed over the run's timing (StallWatch.lateWithin): several short
 *   stalls delay a run as much as one long one;
 * - the prober thread's run-queue wait over the run's timing (`queuedMs`, the kernel's own count):
 *   runnable but not given a CPU, also where no tick of the loop was due, so it holds the wait
 *   after the thread was woken for the response that the loop's lateness cannot see. The two are
 *   not added: a tick that came late because the thread waited for a CPU is in both, and which
 *   part of the lateness was such a wait (and which the loop's own work, a GC) is not known per
 *   stall; the larger is agent delay the run's timing certainly overlapped, as sure as either;
 * - the time before the request was handed to the socket that was not a connection's set-up
 *   (Observation.agentMs): nothing in it waits on the network, so above the limit it is the
 *   agent's, however it was spent (cold code, a thread the host did not schedule).
 * A failure without a response is no duration: only a request written that late makes it the
 * agent's (a server may have given up waiting for it). A timeout is caused by a stall only when
 * the stall was going on at the deadline: an answer that arrived during an earlier stall is read
 * as soon as it ends, before the deadline, so a target that stayed silent for a 10 s timeout
 * beside a 60 ms stall in the middle timed out on its own.
 */
function stallGuarded(
  result: ProbeResult,
  stalls: StallGuard | undefined,
  observation: Observation,
  from: number,
  to: number,
  timeoutMs: number,
  queuedMs: number | null,
): ProbeResult {
  if (!stalls || result.flags?.includes("agent_error")) return result;
  let detail: string | null = null;
  if (result.error === "timeout") {
    const stallMs = stalls.stalledBefore(from + timeoutMs);
    if (stallMs > stalls.maxStallMs) detail = `agent stall of ${Math.round(stallMs)} ms at the deadline`;
  } else {
    const lateMs = result.status === null ? 0 : stalls.lateWithin(from, to);
    const waitedMs = result.status === null ? 0 : (queuedMs ?? 0);
    const beforeSendMs = observation.agentMs ?? 0;
    if (waitedMs > stalls.maxStallMs && waitedMs >= lateMs)
      detail = `agent thread waited ${Math.round(waitedMs)} ms for a CPU (run queue) during the measurement`;
    else if (lateMs > stalls.maxStallMs)
      detail = `agent stall of ${Math.round(lateMs)} ms during the measurement`;
    else if (beforeSendMs > stalls.maxStallMs)
      detail = `agent delay of ${Math.round(beforeSendMs)} ms before the request was written`;
  }
  if (detail === null) return result;
  return { ...result, flags: [...(result.flags ?? []), "agent_error"], detail };
}

/** The store refuses unsafe text (model/text.ts): what a probe says is made safe before it is kept. */
function safeDetail(detail: string | null): string | null {
  return detail === null ? null : safeText(detail);
}

function reasonOf(failure: unknown, connected: boolean): FailureReason {
  if (failure instanceof DeadlineReached) return "timeout";
  if (failure instanceof RunAborted) return "aborted";
  return failureReasonOf(failure, connected);
}

/**
 * Edge-normalised latency: from the request being written to the first response byte, minus one
 * round trip of the connection (its TCP handshake). Null when no round trip is known.
 */
function serverTimeOf(seen: Observation, ttfbMs: number, roundTripMs: number | null): number | null {
  if (roundTripMs === null) return null;
  const p = seen.phases;
  const sentMs = p.requestSentMs ?? p.tlsMs ?? p.connectMs ?? 0;
  return Math.max(0, ttfbMs - sentMs - roundTripMs);
}

/** A one-line description of a failure: its code and first message line, bounded. */
function describe(failure: unknown): string | null {
  if (failure === null || failure === undefined) return null;
  const misbehaviour = misbehaviourOf(failure);
  if (misbehaviour) return misbehaviour;
  const code = errorCodeOf(failure);
  const message = failure instanceof Error ? failure.message.split("\n")[0] : String(failure);
  const text = code && !message?.includes(code) ? `${code}: ${message}` : (message ?? code ?? "");
  return safeText(text.slice(0, 200));
}

function failedObservation(error: unknown): Observation {
  const none = {
    dnsMs: null,
    connectMs: null,
    tlsMs: null,
    requestSentMs: null,
    ttfbMs: null,
    bodyEndMs: null,
  };
  return {
    status: null,
    headers: {},
    body: new Uint8Array(),
    error,
    bodyError: null,
    connected: false,
    phases: none,
    roundTripMs: null,
    flags: [],
    detail: null,
  };
}
