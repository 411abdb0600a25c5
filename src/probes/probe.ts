import type { Dispatcher } from "undici";
import type { Clock } from "../clock/clock.js";
import type { ProbeSpec, Target } from "../model/config.js";
import type { Phases, ResultFlag } from "../model/result.js";

/** What a probe gets for one run. The signal aborts at the deadline or when the agent stops. */
export interface ProbeContext {
  readonly target: Target;
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Monotonic reading at the start of the run; phases are offsets from it. */
  readonly startedAt: number;
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
}

/** One probe kind. A new kind is one file exporting one of these plus one registry line. */
export interface Probe<S extends ProbeSpec = ProbeSpec> {
  readonly kind: S["kind"];
  observe(spec: S, ctx: ProbeContext): Promise<Observation>;
}
