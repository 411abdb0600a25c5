import type { Meter } from "@opentelemetry/api";
import { type AgentIdentity, identityLabels, LABEL, METRIC } from "./names.js";

/** The agent's own alerting as the metrics see it (contract section 9), read at every scrape. */
export interface AlertFigures {
  /** Firing alerts (not inhibited), one entry per alert. */
  readonly firing: readonly { readonly alertname: string; readonly category: string }[];
  /** Delivery attempts since start, per receiver and result. */
  readonly deliveries: ReadonlyMap<string, Readonly<Record<"success" | "failure", number>>>;
  /** Undelivered notifications per receiver. */
  readonly queueDepth: ReadonlyMap<string, number>;
}

/** Registers the three alert metrics; nothing is exported until a source is set. */
export function registerAlertMetrics(
  meter: Meter,
  identity: AgentIdentity,
): (source: () => AlertFigures) => void {
  let source: (() => AlertFigures) | null = null;
  const firing = meter.createObservableGauge(METRIC.alertFiring, {
    description: "Alerts of the agent itself firing now, by alertname and category",
  });
  const deliveries = meter.createObservableCounter(METRIC.alertDeliveries, {
    description: "Alert notification delivery attempts since the agent started, by receiver and result",
  });
  const queueDepth = meter.createObservableGauge(METRIC.alertQueueDepth, {
    description: "Alert notifications waiting for delivery, by receiver",
  });
  meter.addBatchObservableCallback(
    (result) => {
      if (source === null) return;
      const figures = source();
      const counts = new Map<string, { alertname: string; category: string; n: number }>();
      for (const f of figures.firing) {
        const key = `${f.alertname}\0${f.category}`;
        const entry = counts.get(key) ?? { ...f, n: 0 };
        entry.n++;
        counts.set(key, entry);
      }
      for (const c of counts.values()) {
        result.observe(firing, c.n, {
          ...identityLabels(identity),
          [LABEL.alertname]: c.alertname,
          [LABEL.category]: c.category,
        });
      }
      for (const [receiver, byResult] of figures.deliveries) {
        for (const outcome of ["success", "failure"] as const) {
          result.observe(deliveries, byResult[outcome], {
            ...identityLabels(identity),
            [LABEL.receiver]: receiver,
            [LABEL.result]: outcome,
          });
        }
      }
      for (const [receiver, depth] of figures.queueDepth) {
        result.observe(queueDepth, depth, { ...identityLabels(identity), [LABEL.receiver]: receiver });
      }
    },
    [firing, deliveries, queueDepth],
  );
  return (next) => {
    source = next;
  };
}
