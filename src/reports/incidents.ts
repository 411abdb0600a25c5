import { isoUtc, isServed, type ProbeResult } from "../model/index.js";
import type { CountedCode, Incident } from "./model.js";

/** Failures closer than this many probe intervals belong to one incident (a flapping service is one outage). */
export const MERGE_PROBE_INTERVALS = 3;

interface OpenIncident {
  readonly category: string;
  readonly start: number;
  lastFailure: ProbeResult;
  /** First served request after the last failure, if any yet. */
  recoveredAt: number | null;
  requests: number;
  /** Served requests seen since the last failure: part of the incident only if another failure follows. */
  pendingServed: number;
  failed: number;
  readonly failures: Map<string, number>;
  readonly errorCodes: Map<string, number>;
  readonly correlationIds: string[];
}

/**
 * Contiguous failure periods of one category. `results` are its non-excluded requests in time
 * order; a failure within `mergeGapMs` of the previous failure extends the open incident.
 */
export function detectIncidents(results: Iterable<ProbeResult>, mergeGapMs: number): Incident[] {
  const incidents: Incident[] = [];
  let open: OpenIncident | null = null;
  for (const result of results) {
    if (isServed(result.status)) {
      if (open) {
        open.pendingServed += 1;
        open.recoveredAt ??= result.ts;
      }
      continue;
    }
    if (open && result.ts - open.lastFailure.ts >= mergeGapMs) {
      incidents.push(closeIncident(open));
      open = null;
    }
    open ??= startIncident(result);
    recordFailure(open, result);
  }
  if (open) incidents.push(closeIncident(open));
  return incidents;
}

function startIncident(first: ProbeResult): OpenIncident {
  return {
    category: first.category,
    start: first.ts,
    lastFailure: first,
    recoveredAt: null,
    requests: 0,
    pendingServed: 0,
    failed: 0,
    failures: new Map(),
    errorCodes: new Map(),
    correlationIds: [],
  };
}

function recordFailure(open: OpenIncident, result: ProbeResult): void {
  open.requests += open.pendingServed + 1;
  open.pendingServed = 0;
  open.recoveredAt = null;
  open.failed += 1;
  open.lastFailure = result;
  const how = result.status !== null ? String(result.status) : (result.error ?? "none");
  open.failures.set(how, (open.failures.get(how) ?? 0) + 1);
  if (result.errorCode)
    open.errorCodes.set(result.errorCode, (open.errorCodes.get(result.errorCode) ?? 0) + 1);
  if (result.correlationId) open.correlationIds.push(result.correlationId);
}

function closeIncident(open: OpenIncident): Incident {
  const recovered = open.recoveredAt !== null;
  // Whole milliseconds, so that start, end and duration agree to the digit.
  const end = open.recoveredAt ?? Math.ceil(open.lastFailure.ts + open.lastFailure.durationMs);
  return {
    category: open.category,
    start: isoUtc(open.start),
    end: isoUtc(end),
    duration_ms: end - open.start,
    recovered,
    requests: open.requests,
    failed_requests: open.failed,
    failures: countedByFrequency(open.failures),
    error_codes: countedByFrequency(open.errorCodes),
    correlation_ids: open.correlationIds,
  };
}

/** Most frequent first, then by code, so that the order never depends on arrival. */
function countedByFrequency(counts: ReadonlyMap<string, number>): CountedCode[] {
  return [...counts]
    .map(([code, count]) => ({ code, count }))
    .sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}
