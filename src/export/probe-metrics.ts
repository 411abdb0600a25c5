import type { Attributes, Meter } from "@opentelemetry/api";
import { metricErrorCode } from "../model/catalog.js";
import type { CategoryId, ProbeId, SloConfig } from "../model/config.js";
import { countsForLatency, isServed, type ProbeResult, statusClassOf } from "../model/result.js";
import type { AutomaticReason } from "../model/validity.js";
import { exclusionTest } from "./exclusion.js";
import {
  type AgentIdentity,
  durationBucketsWith,
  identityLabels,
  LABEL,
  METRIC,
  type Outcome,
  PHASE_BUCKETS_SECONDS,
} from "./names.js";
import { phaseDurations } from "./phases.js";

const UNKNOWN = "unknown";

/** The region, agent, category and service class labels of a category or of a probe's category. */
export interface SeriesLabels {
  ofCategory(category: CategoryId): Attributes;
  ofProbe(probe: ProbeId): Attributes;
}

export function seriesLabels(config: SloConfig, identity: AgentIdentity): SeriesLabels {
  const probeCategory = new Map(config.probes.map((p) => [p.id, p.category]));
  const ofCategory = (category: CategoryId): Attributes => ({
    ...identityLabels(identity),
    [LABEL.category]: category,
    [LABEL.serviceClass]: config.categories.get(category)?.serviceClass ?? UNKNOWN,
  });
  return {
    ofCategory,
    ofProbe: (probe) => ({ ...ofCategory(probeCategory.get(probe) ?? UNKNOWN), [LABEL.probe]: probe }),
  };
}

/** The counters and histograms fed by every probe result. */
export function registerProbeMetrics(
  meter: Meter,
  config: SloConfig,
  labelsOf: SeriesLabels,
): {
  record(result: ProbeResult, automatic?: AutomaticReason | null): void;
  reconfigure(config: SloConfig): void;
} {
  const requests = meter.createCounter(METRIC.probeRequests, {
    description: "Probe requests by status class and outcome (served: 2xx-4xx, failed: 5xx or no response)",
  });
  const objectivesMs = [...config.categories.values()].map((c) => c.latencyP99Ms);
  const duration = meter.createHistogram(METRIC.probeDuration, {
    description: "Time to the end of the response headers (timeouts at their timeout), non-excluded requests",
    advice: { explicitBucketBoundaries: durationBucketsWith(objectivesMs) },
  });
  const phase = meter.createHistogram(METRIC.probePhase, {
    description: "Time spent in each HTTP phase alone (dns, connect, tls, send, wait, receive)",
    advice: { explicitBucketBoundaries: [...PHASE_BUCKETS_SECONDS] },
  });
  const vendorErrors = meter.createCounter(METRIC.vendorErrors, {
    description: "Vendor error codes parsed from responses (codes outside the catalogue count as OTHER)",
  });
  const automaticExclusions = meter.createCounter(METRIC.automaticExclusions, {
    description:
      "Requests excluded automatically, by reason: merchant_side (the controls were failing too) or agent_error (failed inside the agent); also counted under outcome=excluded",
  });
  let isExcluded = exclusionTest(config);
  let labelSets = new SeriesLabelCache(labelsOf);

  const record = (result: ProbeResult, automatic: AutomaticReason | null = null) => {
    const series = labelSets.of(result.category, result.probe);
    const declared = isExcluded(result);
    const excluded = declared || automatic !== null;
    if (!declared && automatic !== null) automaticExclusions.add(1, series.with(LABEL.reason, automatic));
    const outcome: Outcome = excluded ? "excluded" : isServed(result.status) ? "served" : "failed";
    requests.add(1, series.requests(statusClassOf(result.status), outcome));
    if (!excluded && countsForLatency(result)) duration.record(result.durationMs / 1000, series.labels);
    for (const [name, ms] of phaseDurations(result.phases)) {
      phase.record(ms / 1000, series.with(LABEL.phase, name));
    }
    if (result.errorCode !== null) {
      vendorErrors.add(1, series.with(LABEL.errorCode, metricErrorCode(result.errorCode)));
    }
  };
  return {
    record,
    reconfigure(next) {
      isExcluded = exclusionTest(next);
      labelSets = new SeriesLabelCache(labelsOf);
    },
  };
}

/**
 * One probe's label sets, each made once and reused (never mutated): building them anew for
 * every result, several per result, was a visible share of a probe's CPU. Bounded by the series.
 */
class ProbeSeriesLabels {
  readonly labels: Attributes;
  readonly #derived = new Map<string, Attributes>();

  constructor(labels: Attributes) {
    this.labels = labels;
  }

  with(name: string, value: string): Attributes {
    return this.#memo(`${name}\u0000${value}`, () => ({ ...this.labels, [name]: value }));
  }

  requests(statusClass: string, outcome: Outcome): Attributes {
    return this.#memo(`requests\u0000${statusClass}\u0000${outcome}`, () => ({
      ...this.labels,
      [LABEL.statusClass]: statusClass,
      [LABEL.outcome]: outcome,
    }));
  }

  #memo(key: string, make: () => Attributes): Attributes {
    let labels = this.#derived.get(key);
    if (labels === undefined) {
      labels = make();
      this.#derived.set(key, labels);
    }
    return labels;
  }
}

class SeriesLabelCache {
  readonly #labelsOf: SeriesLabels;
  readonly #byProbe = new Map<string, ProbeSeriesLabels>();

  constructor(labelsOf: SeriesLabels) {
    this.#labelsOf = labelsOf;
  }

  of(category: CategoryId, probe: ProbeId): ProbeSeriesLabels {
    const key = `${category}\u0000${probe}`;
    let series = this.#byProbe.get(key);
    if (series === undefined) {
      series = new ProbeSeriesLabels({ ...this.#labelsOf.ofCategory(category), [LABEL.probe]: probe });
      this.#byProbe.set(key, series);
    }
    return series;
  }
}
