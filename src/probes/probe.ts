import type { Dispatcher } from "undici";
import type { Clock } from "../clock/clock.js";
import type { HttpProbeSpec, ProbeSpec, Target } from "../model/config.js";
import type { FailureReason, Observed, Phases, ProbeResult, ResultFlag } from "../model/result.js";

/** What a probe gets for one run. The signal aborts at the deadline or when the agent stops. */
export interface ProbeContext {
  readonly target: Target;
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Monotonic reading at the start of the run; phases are offsets from it. */
  readonly startedAt: number;
  /**
   * The prober thread's run-queue wait so far (ms, StallGuard.queuedMs), where it is known: an
   * HTTP exchange reads it at its response headers, where its duration ends.
   */
  readonly queuedMs?: () => number | null;
}

/** What a probe observed, unclassified: the harness turns it into a ProbeResult. */
export interface Observation {
  /** The HTTP status, null when no response arrived. */
  readonly status: number | null;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as read, at most the probe's max_body_bytes. */
  readonly body: Uint8Array;
  /** The transport failure that prevented a response, raw. */
  readonly error: unknown;
  /** A failure after the response headers (body cut short, body timeout), raw. */
  readonly bodyError: unknown;
  /** Whether a connection was made (an unknown error is then a protocol error, not connect). */
  readonly connected: boolean;
  readonly phases: Phases;
  /** The connection's round trip estimate, null where it was not measured. */
  readonly roundTripMs: number | null;
  readonly flags: readonly ResultFlag[];
  readonly detail: string | null;
  /**
   * Of an HTTP exchange: the time (ms) from the run's start until the request was handed to the
   * socket that was the agent's own work, not a connection's set-up (RequestTrace.agentSideMs).
   */
  readonly agentMs?: number | null;
  /** ProbeContext.queuedMs as read at the response headers (the duration's end); null if not read. */
  readonly queuedAtHeadersMs?: number | null;
  /** What the kind observed beyond the HTTP fields (kept in the result's `observed`). */
  readonly observed?: Observed | null;
  /**
   * The kind's own failure reason (a key of its `reasons`) when what it saw is a failure although
   * nothing broke (a certificate about to expire, an NXDOMAIN). A probe without a status that
   * neither failed nor has one succeeded: a diagnostic kind's success.
   */
  readonly failure?: string | null;
}

/** One probe kind. A new kind is one file exporting one of these plus one registry line. */
export interface Probe<S extends ProbeSpec = ProbeSpec> {
  readonly kind: S["kind"];
  /**
   * The kind's own failure reasons, each with the contract reason (`error`) it is recorded as:
   * the rollups count contract reasons only, so a new reason needs no migration; the kind's own
   * is kept in the result's `observed.reason`.
   */
  readonly reasons?: Readonly<Record<string, FailureReason>>;
  observe(spec: S, ctx: ProbeContext): Promise<Observation>;
}

/** One HTTP request of a composite run, with the detail its result carries. */
export interface PartRun {
  readonly spec: HttpProbeSpec;
  readonly observed: Observed;
}

/** Why a request was not sent: the target asked for a pause, or its rate cap left no slot in time. */
export type HeldBack = "paused" | "throttled";

/** What a composite kind gets: its parts run one by one, each classified like a probe of its own. */
export interface CompositeContext {
  readonly target: Target;
  readonly clock: Clock;
  /** Aborts when the agent stops. */
  readonly signal: AbortSignal;
  /**
   * Runs one part under its own deadline; its result is recorded, and its body returned. Each part
   * takes its own rate-limit slot: `held` when the target's pause or rate cap kept it from being sent.
   */
  part(
    run: PartRun,
  ): Promise<{ readonly result: ProbeResult; readonly body: Uint8Array } | { readonly held: HeldBack }>;
}

/** A kind whose run is several requests, each its own result (a flow). */
export interface CompositeProbe<S extends ProbeSpec = ProbeSpec> {
  readonly kind: S["kind"];
  readonly composite: true;
  /** `failedPart`: the index of the part that failed the run (its result is the run's result). */
  run(
    spec: S,
    ctx: CompositeContext,
  ): Promise<{ readonly failedPart: number | null; readonly summary: Observed }>;
}
