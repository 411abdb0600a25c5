import type { Attributes, Meter } from "@opentelemetry/api";
import type { ProbeId } from "../model/config.js";
import {
  type AgentIdentity,
  identityLabels,
  LABEL,
  LATENESS_BUCKETS_SECONDS,
  METRIC,
  SKIP_REASONS,
  type SkipReason,
  STALL_BUCKETS_SECONDS,
} from "./names.js";
import type { SeriesLabels } from "./probe-metrics.js";

/**
 * The agent's view of its own health, as last reported by the daemon. A field never set is not
 * exported at all (no placeholder values); a later call replaces only the fields it carries.
 */
export interface AgentSelfFigures {
  /** Per probe: recorded runs / expected runs since the agent started, in [0, 1]. */
  readonly coverage?: ReadonlyMap<ProbeId, number>;
  /** Per probe and reason: runs not sent since the agent started (cumulative, never decreasing). */
  readonly skippedRuns?: ReadonlyMap<ProbeId, Readonly<Record<SkipReason, number>>>;
  /** Whether the evidence store accepts writes. */
  readonly storeHealthy?: boolean;
  /** Results held in memory waiting for the evidence store. */
  readonly bufferedResults?: number;
  /** Whether the agent refuses to sign its evidence (a rollback under it, a missing key, records it did not write). */
  readonly signingRefused?: boolean;
  /** Whether the maintenance feed's latest reading succeeded; null: no feed, or not read yet. */
  readonly feedReadable?: boolean | null;
  /** Entries of the feed's latest readable reading the agent left out; null/absent: no such reading. */
  readonly feedEntriesLeftOut?: number | null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface SelfMetrics {
  set(figures: AgentSelfFigures): void;
  recordLateness(probe: ProbeId, lateMs: number): void;
  recordStall(stallMs: number): void;
  recordRunQueue(waitedMs: number): void;
}

/** `labelsOf` gives the region, category, service class (and probe) labels of a probe. */
export function registerSelfMetrics(
  meter: Meter,
  identity: AgentIdentity,
  labelsOf: SeriesLabels,
): SelfMetrics {
  const probeLabels = (probe: ProbeId): Attributes => labelsOf.ofProbe(probe);
  const figures: Mutable<AgentSelfFigures> = {};
  // Per category, not per probe: 16 lines for every probe at 1,000 probes cost more memory than
  // they told (issue 17); the overview sums it by le, and coverage and skipped runs stay per probe.
  const lateness = meter.createHistogram(METRIC.scheduleLateness, {
    description: "How late each probe run started after it was due, in seconds, per category",
    advice: { explicitBucketBoundaries: [...LATENESS_BUCKETS_SECONDS] },
  });
  const stalls = meter.createHistogram(METRIC.agentStall, {
    description:
      "Stalls of the prober's event loop (5 ms and longer), in seconds; a probe result that overlapped one longer than agent.max_stall_ms is agent_error",
    advice: { explicitBucketBoundaries: [...STALL_BUCKETS_SECONDS] },
  });
  const runQueue = meter.createHistogram(METRIC.agentRunQueue, {
    description:
      "The prober thread's wait for a CPU (runnable, in the kernel's run queue) during each probe run's timing, in seconds; a result that held more than agent.max_stall_ms is agent_error",
    advice: { explicitBucketBoundaries: [0, ...STALL_BUCKETS_SECONDS] },
  });
  const coverage = meter.createObservableGauge(METRIC.coverage, {
    description: "Recorded probe runs / expected probe runs since the agent started",
  });
  const skipped = meter.createObservableCounter(METRIC.skippedRuns, {
    description:
      "Probe runs not sent since the agent started, by reason (overlap, no_slot, paused, throttled, refused)",
  });
  const storeHealthy = meter.createObservableGauge(METRIC.storeHealthy, {
    description: "1 while the evidence store accepts writes, 0 when it does not",
  });
  const buffered = meter.createObservableGauge(METRIC.bufferedResults, {
    description: "Probe results held in memory waiting for the evidence store",
  });
  const signingRefused = meter.createObservableGauge(METRIC.signingRefused, {
    description:
      "1 while the agent refuses to sign its evidence (the store went back under it, records it did not write, no key): verify and reports fail until it is examined",
  });
  const feedReadable = meter.createObservableGauge(METRIC.maintenanceFeedReadable, {
    description:
      "1 while the maintenance feed's latest reading succeeded, 0 while it cannot be read (windows the provider announces meanwhile are not known); absent without a feed",
  });
  const feedLeftOut = meter.createObservableGauge(METRIC.maintenanceFeedEntriesLeftOut, {
    description:
      "Entries of the maintenance feed's latest readable reading the agent left out (a component in no category, a malformed entry): the report names each; absent without a feed",
  });
  const agentLabels = identityLabels(identity);

  meter.addBatchObservableCallback(
    (result) => {
      for (const [probe, ratio] of figures.coverage ?? [])
        result.observe(coverage, ratio, probeLabels(probe));
      for (const [probe, byReason] of figures.skippedRuns ?? []) {
        for (const reason of SKIP_REASONS) {
          result.observe(skipped, byReason[reason], labelsOf.ofProbe(probe, [LABEL.reason, reason]));
        }
      }
      if (figures.storeHealthy !== undefined) {
        result.observe(storeHealthy, figures.storeHealthy ? 1 : 0, agentLabels);
      }
      if (figures.bufferedResults !== undefined)
        result.observe(buffered, figures.bufferedResults, agentLabels);
      if (figures.signingRefused !== undefined)
        result.observe(signingRefused, figures.signingRefused ? 1 : 0, agentLabels);
      if (figures.feedReadable != null)
        result.observe(feedReadable, figures.feedReadable ? 1 : 0, agentLabels);
      if (figures.feedEntriesLeftOut != null)
        result.observe(feedLeftOut, figures.feedEntriesLeftOut, agentLabels);
    },
    [coverage, skipped, storeHealthy, buffered, signingRefused, feedReadable, feedLeftOut],
  );

  return {
    set(next) {
      Object.assign(
        figures,
        Object.fromEntries(Object.entries(next).filter(([, value]) => value !== undefined)),
      );
    },
    recordLateness(probe, lateMs) {
      lateness.record(Math.max(0, lateMs) / 1000, labelsOf.ofCategoryOfProbe(probe));
    },
    recordStall(stallMs) {
      stalls.record(Math.max(0, stallMs) / 1000, agentLabels);
    },
    recordRunQueue(waitedMs) {
      runQueue.record(Math.max(0, waitedMs) / 1000, agentLabels);
    },
  };
}
