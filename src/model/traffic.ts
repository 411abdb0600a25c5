import type { CategoryId, ProbeId, TargetId } from "./config.js";
import type { Secret } from "./secret.js";

/** Which results decide the SLA figures (contract section 19, `sla.source`). */
export const SLA_SOURCES = ["probes", "traffic", "both"] as const;
export type SlaSource = (typeof SLA_SOURCES)[number];

/** One `traffic.routes` entry: a merchant request template that counts for a category. */
export interface TrafficRoute {
  /** Upper case, e.g. POST. */
  readonly method: string;
  /** The template as configured, e.g. /payments/v1/sessions/{id}. */
  readonly path: string;
  /** The template's segments: a literal, or null for a `{name}` placeholder (one segment). */
  readonly segments: readonly (string | null)[];
  readonly target: TargetId;
  readonly category: CategoryId;
  /** The id its results are stored under: `traffic:METHOD PATH` (the template, never a real path). */
  readonly probe: ProbeId;
}

/** The `traffic:` section: the OTLP/HTTP endpoint that turns merchant CLIENT spans into results. */
export interface TrafficSettings {
  /** Bearer token a sender must present on POST /v1/traces. */
  readonly token: Secret;
  readonly routes: readonly TrafficRoute[];
  /** The largest request body accepted, compressed and after decompression. */
  readonly maxBodyBytes: number;
  /**
   * An ambiguous cancellation (AbortError, TaskCanceledException) lasting at least this long is
   * the merchant's timeout on a slow provider, counted as a timeout; shorter, the merchant's own
   * cancellation (client_side). Absent: DEFAULT_CLIENT_TIMEOUT_MS.
   */
  readonly clientTimeoutMs?: number;
}

/** The stored probe id of a route: its method and template, nothing from a real request. */
export function trafficProbeId(method: string, path: string): ProbeId {
  return `traffic:${method} ${path}`;
}

/** Whether a probe id is a route's (a merchant request's) rather than a configured probe's. */
export function isTrafficProbeId(probe: ProbeId): boolean {
  return probe.startsWith("traffic:");
}
