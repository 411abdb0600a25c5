import { isoUtc, isServed, type ProbeResult } from "../model/index.js";
import { ClassificationTally } from "./classification.js";
import type { CountedCode, Incident } from "./model.js";

/** Failures closer than this many probe intervals belong to one incident (a flapping service is one outage). */
export const MERGE_PROBE_INTERVALS = 3;

interface OpenIncident {
  readonly category: string;
  readonly start: number;
  lastFailure: ProbeResult;
  /**
   * The last excluded request (maintenance, exclusion) seen since the last failure with no
   * served request between: the gap to the next failure is counted from it, so an outage that a
   * maintenance window cuts in two stays one incident.
   */
  bridgedUntil: number | null;
  /** First served request after the last failure, if any yet. */
  recoveredAt: number | null;
  requests: number;
  /** Served requests seen since the last failure: part of the incident only if another failure follows. */
  pendingServed: number;
  failed: number;
  readonly failures: Map<string, number>;
  readonly errorCodes: Map<string, number>;
  readonly correlationIds: string[];
  readonly classification: ClassificationTally;
}

/**
 * Finds contiguous failure periods as results stream past, for every category at once, so that
 * a month is read from the store once. Feed only non-excluded requests, in time order.
 */
export class IncidentDetector {
  readonly #mergeGapOf: (category: string) => number;
  readonly #open = new Map<string, OpenIncident>();
  readonly #closed: Incident[] = [];

  /** A failure within the category's merge gap of its previous failure extends the open incident. */
  constructor(mergeGapOf: (category: string) => number) {
    this.#mergeGapOf = mergeGapOf;
  }

  /** An excluded request: no part of an incident, but it bridges an open one across the exclusion. */
  observeExcluded(result: ProbeResult): void {
    const open = this.#open.get(result.category);
    if (open && open.recoveredAt === null) open.bridgedUntil = result.ts;
  }

  observe(result: ProbeResult): void {
    const open = this.#open.get(result.category);
    if (isServed(result.status)) {
      if (open) {
        open.pendingServed += 1;
        open.recoveredAt ??= result.ts;
      }
      return;
    }
    const since = Math.max(open?.lastFailure.ts ?? 0, open?.bridgedUntil ?? 0);
    if (open && result.ts - since < this.#mergeGapOf(result.category)) {
      recordFailure(open, result);
      return;
    }
    if (open) this.#closed.push(closeIncident(open));
    const fresh = startIncident(result);
    recordFailure(fresh, result);
    this.#open.set(result.category, fresh);
  }

  /** Every incident, in start order (then by category), the open ones closed at their last failure. */
  incidents(): Incident[] {
    const all = [...this.#closed, ...[...this.#open.values()].map(closeIncident)];
    return all.sort((a, b) => compare(a.start, b.start) || compare(a.category, b.category));
  }
}

/** Incidents of results in time order, with one merge gap for every category. */
export function detectIncidents(results: Iterable<ProbeResult>, mergeGapMs: number): Incident[] {
  const detector = new IncidentDetector(() => mergeGapMs);
  for (const result of results) detector.observe(result);
  return detector.incidents();
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function startIncident(first: ProbeResult): OpenIncident {
  return {
    category: first.category,
    start: first.ts,
    lastFailure: first,
    bridgedUntil: null,
    recoveredAt: null,
    requests: 0,
    pendingServed: 0,
    failed: 0,
    failures: new Map(),
    errorCodes: new Map(),
    correlationIds: [],
    classification: new ClassificationTally(),
  };
}

function recordFailure(open: OpenIncident, result: ProbeResult): void {
  open.requests += open.pendingServed + 1;
  open.pendingServed = 0;
  open.recoveredAt = null;
  open.bridgedUntil = null;
  open.failed += 1;
  open.lastFailure = result;
  const how = result.status !== null ? String(result.status) : (result.error ?? "none");
  open.failures.set(how, (open.failures.get(how) ?? 0) + 1);
  if (result.errorCode)
    open.errorCodes.set(result.errorCode, (open.errorCodes.get(result.errorCode) ?? 0) + 1);
  if (result.correlationId) open.correlationIds.push(result.correlationId);
  open.classification.add(result);
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
    ...open.classification.counts(),
  };
}

/** Most frequent first, then by code, so that the order never depends on arrival. */
function countedByFrequency(counts: ReadonlyMap<string, number>): CountedCode[] {
  return [...counts]
    .map(([code, count]) => ({ code, count }))
    .sort((a, b) => b.count - a.count || compare(a.code, b.code));
}
