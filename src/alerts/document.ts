import type { AgentAlerting } from "./alerting.js";

/** The /alerts document: every listed alert, then each receiver's queue and delivery counts. */
export function alertsDocument(alerting: AgentAlerting): unknown {
  const view = alerting.view();
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    alerts: view.alerts.map((a) => ({
      labels: a.labels,
      annotations: a.annotations,
      state: a.state,
      activeAt: iso(a.activeAt),
      firedAt: iso(a.firedAt),
      resolvedAt: iso(a.resolvedAt),
      inhibitedBy: a.inhibitedBy,
    })),
    receivers: [...view.queueDepth].map(([id, queued]) => ({
      id,
      queued,
      delivered: view.deliveries.get(id)?.success ?? 0,
      failed: view.deliveries.get(id)?.failure ?? 0,
    })),
  };
}

/** The alerts firing now and not inhibited, as /status lists them. */
export function firingAlerts(alerting: AgentAlerting) {
  return alerting
    .view()
    .alerts.filter((a) => a.state === "firing" && a.inhibitedBy === null)
    .map((a) => ({
      name: a.labels.alertname,
      category: a.labels.category,
      severity: a.labels.severity,
      since: a.firedAt ?? a.activeAt,
      summary: a.annotations.summary,
      ...(a.labels.long_window && a.labels.short_window
        ? { windows: { long: a.labels.long_window, short: a.labels.short_window } }
        : {}),
    }));
}
