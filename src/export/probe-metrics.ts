import type { Attributes, Meter } from "@opentelemetry/api";
import { metricErrorCode } from "../model/catalog.js";
import { type CategoryId, type ProbeId, recordedProbesOf, type SloConfig } from "../model/config.js";
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

/**
 * The region, agent, category and service class labels of a category or of a probe's category.
 * Each label set is made once and shared (never mutate one): the observable gauges ask for
 * ~6 per probe at every scrape, and a reused object is also a reused line prefix in /metrics.
 */
export interface SeriesLabels {
  ofCategory(category: CategoryId): Attributes;
  /** The probe's labels in its configured category, with one more label if `extra` is given. */
  ofProbe(probe: ProbeId, extra?: readonly [name: string, value: string]): Attributes;
  /** The probe's labels in `category` (the one its result was measured in). */
  ofProbeIn(category: CategoryId, probe: ProbeId): Attributes;
  /** The labels of a probe's category (no probe label). */
  ofCategoryOfProbe(probe: ProbeId): Attributes;
}

export function seriesLabels(config: SloConfig, identity: AgentIdentity): SeriesLabels {
  const probeCategory = new Map(
    config.probes.flatMap((p) => recordedProbesOf(p).map((r) => [r.probe, r.category] as const)),
  );
  // Label sets are looked up by every scrape's callbacks (several a probe) and by every result:
  // maps keyed by the ids themselves, not by a key string made at each lookup (issue 30).
  const categories = new Map<CategoryId, Attributes>();
  const probes = new Map<CategoryId, Map<ProbeId, ProbeLabels>>();
  const ofCategory = (category: CategoryId): Attributes => {
    let labels = categories.get(category);
    if (labels === undefined) {
      labels = {
        ...identityLabels(identity),
        [LABEL.category]: category,
        [LABEL.serviceClass]: config.categories.get(category)?.serviceClass ?? UNKNOWN,
      };
      categories.set(category, labels);
    }
    return labels;
  };
  const probeLabels = (category: CategoryId, probe: ProbeId): ProbeLabels => {
    let inCategory = probes.get(category);
    if (inCategory === undefined) {
      inCategory = new Map();
      probes.set(category, inCategory);
    }
    let labels = inCategory.get(probe);
    if (labels === undefined) {
      labels = { labels: { ...ofCategory(category), [LABEL.probe]: probe }, extra: new Map() };
      inCategory.set(probe, labels);
    }
    return labels;
  };
  const categoryOf = (probe: ProbeId): CategoryId => probeCategory.get(probe) ?? UNKNOWN;
  const ofProbeIn = (category: CategoryId, probe: ProbeId): Attributes => probeLabels(category, probe).labels;
  return {
    ofCategory,
    ofProbeIn,
    ofProbe(probe, extra) {
      const labels = probeLabels(categoryOf(probe), probe);
      if (extra === undefined) return labels.labels;
      const [name, value] = extra;
      let byValue = labels.extra.get(name);
      if (byValue === undefined) {
        byValue = new Map();
        labels.extra.set(name, byValue);
      }
      let withExtra = byValue.get(value);
      if (withExtra === undefined) {
        withExtra = { ...labels.labels, [name]: value };
        byValue.set(value, withExtra);
      }
      return withExtra;
    },
    ofCategoryOfProbe: (probe) => ofCategory(categoryOf(probe)),
  };
}

/** A probe's label set, and those with one label more (by the label's name, then its value). */
interface ProbeLabels {
  readonly labels: Attributes;
  readonly extra: Map<string, Map<string, Attributes>>;
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
  // Per category, not per probe: 6 phases x 18 lines for every probe were two thirds of the
  // exposition and of the agent's memory at 1,000 probes (issue 17); where the time goes is a
  // property of the vendor's endpoint group, and the duration histogram stays per probe.
  const phase = meter.createHistogram(METRIC.probePhase, {
    description: "Time spent in each HTTP phase alone (dns, connect, tls, send, wait, receive), per category",
    advice: { explicitBucketBoundaries: [...PHASE_BUCKETS_SECONDS] },
  });
  const vendorErrors = meter.createCounter(METRIC.vendorErrors, {
    description: "Vendor error codes parsed from responses (codes outside the catalogue count as OTHER)",
  });
  const automaticExclusions = meter.createCounter(METRIC.automaticExclusions, {
    description:
      "Requests excluded automatically, by reason: merchant_side (the controls were failing too), agent_error (failed inside the agent) or target_unreached (the target never answered under the probe's configuration); also counted under outcome=excluded",
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
      phase.record(ms / 1000, series.phase(name));
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
  /** The probe's category's labels (no probe label): the phase histogram's series. */
  readonly #categoryLabels: Attributes;
  readonly #derived = new Map<string, Attributes>();

  constructor(categoryLabels: Attributes, probe: ProbeId) {
    this.#categoryLabels = categoryLabels;
    this.labels = { ...categoryLabels, [LABEL.probe]: probe };
  }

  phase(name: string): Attributes {
    return this.#memo(`phase\u0000${name}`, () => ({ ...this.#categoryLabels, [LABEL.phase]: name }));
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
      series = new ProbeSeriesLabels(this.#labelsOf.ofCategory(category), probe);
      this.#byProbe.set(key, series);
    }
    return series;
  }
}
