import type { Attributes, Meter } from "@opentelemetry/api";
import type { CategorySnapshot, SloSnapshot } from "../model/snapshot.js";
import { stepFloorMs } from "../slo/index.js";
import { type AgentIdentity, identityLabels, LABEL, METRIC } from "./names.js";

type Observe = (name: string, value: number, attributes: Attributes) => void;

/**
 * The SLO gauges of contract section 5, read from the latest snapshot at every scrape or push.
 * A figure that is null (no traffic) is left out rather than reported as a made-up value.
 */
export function registerSnapshotGauges(
  meter: Meter,
  identity: AgentIdentity,
  latest: () => SloSnapshot | null,
): void {
  const gauges = {
    [METRIC.availability]: "Availability SR/R over the window (served / non-excluded requests)",
    [METRIC.availabilityTarget]: "Availability objective of the category's service class, as a ratio",
    [METRIC.latencyP99]: "99th percentile of response durations over the window, in seconds",
    [METRIC.latencyObjective]: "The category's p99 latency objective, in seconds",
    [METRIC.errorBudgetRemaining]:
      "Share of the calendar month's error budget left (negative once overspent)",
    [METRIC.burnRate]: "Error budget burn rate over the window: (1 - SR/R) / (1 - target)",
    [METRIC.breach]: "1 while the category misses the objective named by the slo label this month",
    [METRIC.maintenanceActive]: "1 while a qualifying maintenance window or exclusion covers the category",
  };
  // The label sets of a category, made once: a new object at each scrape is a new series lookup.
  const made = new Map<string, CategoryLabels>();
  const labelsOf = (c: CategorySnapshot): CategoryLabels => {
    let labels = made.get(c.category);
    if (labels === undefined || labels.serviceClass !== c.serviceClass) {
      labels = categoryLabels(identity, c);
      made.set(c.category, labels);
    }
    return labels;
  };
  const instruments = new Map(
    Object.entries(gauges).map(([name, description]) => [
      name,
      meter.createObservableGauge(name, { description }),
    ]),
  );
  meter.addBatchObservableCallback(
    (result) => {
      const snapshot = latest();
      if (snapshot === null) return;
      const observe: Observe = (name, value, attributes) => {
        const gauge = instruments.get(name);
        if (gauge) result.observe(gauge, value, attributes);
      };
      for (const category of snapshot.categories) observeCategory(observe, labelsOf(category), category);
    },
    [...instruments.values()],
  );
}

/** The label sets a category's gauges are observed with. */
interface CategoryLabels {
  readonly serviceClass: string;
  readonly category: Attributes;
  readonly windowed: Map<string, Attributes>;
  readonly month: Attributes;
  readonly availability: Attributes;
  readonly latency: Attributes;
}

function categoryLabels(identity: AgentIdentity, c: CategorySnapshot): CategoryLabels {
  const category = {
    ...identityLabels(identity),
    [LABEL.category]: c.category,
    [LABEL.serviceClass]: c.serviceClass,
  };
  return {
    serviceClass: c.serviceClass,
    category,
    windowed: new Map(),
    month: { ...category, [LABEL.window]: "month" },
    availability: { ...category, [LABEL.slo]: "availability" },
    latency: { ...category, [LABEL.slo]: "latency" },
  };
}

function observeCategory(observe: Observe, labels: CategoryLabels, c: CategorySnapshot): void {
  observe(METRIC.availabilityTarget, c.availabilityTarget, labels.category);
  observe(METRIC.latencyObjective, c.latencyObjectiveMs / 1000, labels.category);
  for (const w of c.windows) {
    let windowed = labels.windowed.get(w.window);
    if (windowed === undefined) {
      windowed = { ...labels.category, [LABEL.window]: w.window };
      labels.windowed.set(w.window, windowed);
    }
    if (w.availability !== null) observe(METRIC.availability, w.availability, windowed);
    // The floor of the reading's HDR step: `p99 > objective` is then exactly "objective missed".
    if (w.latencyP99Ms !== null) observe(METRIC.latencyP99, stepFloorMs(w.latencyP99Ms) / 1000, windowed);
    if (w.burnRate !== null) observe(METRIC.burnRate, w.burnRate, windowed);
  }
  if (c.errorBudgetRemaining !== null) {
    observe(METRIC.errorBudgetRemaining, c.errorBudgetRemaining, labels.month);
  }
  observe(METRIC.breach, c.breach.availability ? 1 : 0, labels.availability);
  observe(METRIC.breach, c.breach.latency ? 1 : 0, labels.latency);
  observe(METRIC.maintenanceActive, c.maintenanceActive ? 1 : 0, labels.category);
}
