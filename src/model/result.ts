import type { CategoryId, ProbeId } from "./config.js";
import type { EpochMs } from "./time.js";

/** Why a request got no HTTP response (contract section 1). */
export const FAILURE_REASONS = ["timeout", "connect", "dns", "tls", "reset", "protocol", "aborted"] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const STATUS_CLASSES = ["2xx", "3xx", "4xx", "5xx", "none"] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/**
 * Where a result comes from (contract section 19): the agent's own probe, or a merchant request
 * reported as an OpenTelemetry CLIENT span (src/traffic/).
 */
export const RESULT_SOURCES = ["probe", "traffic"] as const;
export type ResultSource = (typeof RESULT_SOURCES)[number];

/**
 * Notes a probe can attach to a result (optional detail beside the contract fields):
 * - edge_block: a 403 with no vendor error body, probably a CDN/WAF block rather than the API;
 * - redirect_limit: still redirected after follow_redirects hops (a loop, typically);
 * - body_capped: the body was longer than max_body_bytes; the rest was read and discarded;
 * - agent_error: the request failed inside the agent (file descriptors exhausted, an invalid
 *   header, a TLS option it cannot use): never the provider's failure (contract section 8);
 * - client_side: a merchant request (source traffic) that failed inside the merchant's own client,
 *   by its span's error.type (aborted by the caller, an invalid argument): merchant_side.
 */
export const RESULT_FLAGS = [
  "edge_block",
  "redirect_limit",
  "body_capped",
  "agent_error",
  "client_side",
] as const;
export type ResultFlag = (typeof RESULT_FLAGS)[number];

/**
 * The reserved category of tls, dns and tcp probes: they measure the network path, never the
 * provider's API, so no SLA figure (which reads the configured categories) ever counts them.
 */
export const DIAGNOSTIC_CATEGORY: CategoryId = "@diagnostic";

/**
 * What a probe kind observed beyond the HTTP fields (a flow's run id and step, a certificate's
 * expiry, a DNS rcode), kept in one JSON column so that a new kind needs no migration. `reason`
 * is the kind's own failure reason when it failed; `error` holds the contract reason it maps to.
 */
/** The kinds that make HTTP requests (the API kinds); their results never name a kind. */
const HTTP_KINDS: ReadonlySet<unknown> = new Set(["http", "flow"]);

/**
 * A result of a diagnostic probe or control (tls, dns, tcp, ...), which names its kind in
 * `observed.kind` (the harness writes it): it has no HTTP status and failed exactly when it says why.
 */
export function isWithoutHttp(result: Pick<ProbeResult, "observed">): boolean {
  const kind = result.observed?.kind;
  return typeof kind === "string" && !HTTP_KINDS.has(kind);
}

export type ObservedValue = string | number | boolean | null | readonly string[];
export type Observed = Readonly<Record<string, ObservedValue>>;

/** Per-phase timing of one HTTP request, in milliseconds from its start; null where a phase did not happen. */
export interface Phases {
  readonly dnsMs: number | null;
  readonly connectMs: number | null;
  readonly tlsMs: number | null;
  /** Until the request was fully written. */
  readonly requestSentMs: number | null;
  /** Until the response headers arrived (time to first byte). */
  readonly ttfbMs: number | null;
  /** Until the response body ended. */
  readonly bodyEndMs: number | null;
}

/**
 * One probe attempt: one request (contract sections 1 and 3). `durationMs` is the time to the end
 * of the response headers, or the timeout value for a request that timed out.
 */
export interface ProbeResult {
  readonly ts: EpochMs;
  readonly probe: ProbeId;
  readonly category: CategoryId;
  readonly status: number | null;
  readonly durationMs: number;
  readonly error: FailureReason | null;
  readonly errorCode: string | null;
  readonly correlationId: string | null;
  /** Optional detail kept beside the contract fields. */
  readonly phases?: Phases | null;
  /** Estimated server time: TTFB minus the connection's round trip (edge-normalised latency). */
  readonly serverMs?: number | null;
  /** The body failed after the headers arrived: the status stands, the failure is kept here. */
  readonly bodyError?: FailureReason | null;
  readonly flags?: readonly ResultFlag[];
  /** One line for people (e.g. the transport error's code); never holds a secret. */
  readonly detail?: string | null;
  /** The agent that made the request (`agent.id`); with probe + ts, the result's identity. */
  readonly agent?: string | null;
  /** The region the agent measures from (`agent.region`). */
  readonly region?: string | null;
  /** Absent or "probe": the agent's probe; "traffic": a merchant request from a span (contract section 19). */
  readonly source?: ResultSource;
  /** Kind-specific detail (see Observed); absent for a plain HTTP probe. */
  readonly observed?: Observed | null;
}

export function sourceOf(result: Pick<ProbeResult, "source">): ResultSource {
  return result.source ?? "probe";
}

/** Who measured: stamped on every result an agent stores (docs/regions-merge.md). */
export interface AgentIdentity {
  readonly agent: string;
  readonly region: string;
}

/**
 * The result with the identity filled where it has none: a result without an agent is the
 * storing agent's own (an import from another tool, a live probe); one naming another agent keeps
 * what it says, region included.
 */
export function withIdentity(result: ProbeResult, own: AgentIdentity | null | undefined): ProbeResult {
  if (!own || result.agent != null) return result;
  return { ...result, agent: own.agent, region: result.region ?? own.region };
}

export function statusClassOf(status: number | null): StatusClass {
  if (status === null) return "none";
  if (status >= 200 && status < 300) return "2xx";
  if (status >= 300 && status < 400) return "3xx";
  if (status >= 400 && status < 500) return "4xx";
  if (status >= 500 && status < 600) return "5xx";
  return "none";
}

/**
 * Served in Klarna's sense: answered 2xx, 3xx or 4xx. The one definition: every count of
 * "successful" requests (metrics, rolling windows, reports) sums these classes.
 */
export const SERVED_CLASSES: readonly StatusClass[] = ["2xx", "3xx", "4xx"];

export function isServed(status: number | null): boolean {
  return SERVED_CLASSES.includes(statusClassOf(status));
}

/** Served requests among counts by status class. */
export function servedOf(byClass: Readonly<Record<StatusClass, number>>): number {
  let served = 0;
  for (const c of SERVED_CLASSES) served += byClass[c];
  return served;
}

/**
 * Whether the result enters the latency histogram: every response (any status), and timeouts
 * at their timeout value so that timing out can never improve p99.
 */
export function countsForLatency(result: Pick<ProbeResult, "status" | "error">): boolean {
  return result.status !== null || result.error === "timeout";
}

/** The longest duration a result may hold: one day. Longer is a unit mistake, not a request. */
export const MAX_DURATION_MS = 86_400_000;

/**
 * The duration a result counts at in latency, or null when it does not count: a response at its
 * duration, a timeout at max(duration, the probe's timeout) when the probe's timeout is known, so
 * that a timeout recorded short (an import from another tool) can never improve p99.
 */
export function latencyMsOf(
  result: Pick<ProbeResult, "status" | "error" | "durationMs">,
  timeoutMs?: number,
): number | null {
  if (!countsForLatency(result)) return null;
  if (result.error === "timeout" && timeoutMs !== undefined) return Math.max(result.durationMs, timeoutMs);
  return result.durationMs;
}
