import type { SloConfig } from "../model/config.js";
import type { CategorySnapshot } from "../model/snapshot.js";
import { type BurnRateWindow, MULTI_WINDOW_ALERTS } from "../slo/index.js";
import { AGENT_ALERT, type AlertInput } from "./conditions.js";
import type { AlertAnnotations, AlertLabels } from "./types.js";

/**
 * What a resolved alert's notification says: the figures at resolution, not the firing summary
 * (a resolved notification reading "burns its budget at 15.6x" contradicts its own status).
 */
export function resolvedAnnotations(
  config: SloConfig,
  input: AlertInput,
  labels: AlertLabels,
  firing: AlertAnnotations,
): AlertAnnotations {
  const category = input.snapshot.categories.find((c) => c.category === labels.category);
  const name = `${labels.category} (${labels.service_class}, region ${labels.region})`;
  const summary = category ? resolutionOf(config, input, labels, category, name) : null;
  return {
    ...firing,
    summary: summary ?? `${name}: ${labels.alertname} resolved (the category is no longer measured)`,
    description: `Resolved. While firing: ${firing.summary}`,
  };
}

function resolutionOf(
  config: SloConfig,
  input: AlertInput,
  labels: AlertLabels,
  category: CategorySnapshot,
  name: string,
): string {
  const windowOf = (w: string) => category.windows.find((f) => f.window === w);
  const burnOver = (w: BurnRateWindow): number | null =>
    windowOf(w)?.burnRate ?? input.burnRate?.(category.category, w) ?? null;
  const rate = (w: BurnRateWindow) => {
    const r = burnOver(w);
    return r === null ? "no data" : `${r.toFixed(1)}x`;
  };
  switch (labels.alertname) {
    case AGENT_ALERT.burn: {
      const row = MULTI_WINDOW_ALERTS.find(
        (r) => r.long === labels.long_window && r.short === labels.short_window,
      );
      if (!row) break;
      return `${name} resolved: the error budget now burns at ${rate(row.long)} over ${row.long} and ${rate(row.short)} over ${row.short} (threshold ${row.factor}x over both)`;
    }
    case AGENT_ALERT.latency: {
      const p99 = windowOf(config.alerting.latencyWindow)?.latencyP99Ms ?? null;
      const now = p99 === null ? "no data" : `${Math.round(p99)} ms`;
      return `${name} resolved: p99 latency over ${config.alerting.latencyWindow} is ${now}, within its ${category.latencyObjectiveMs} ms objective`;
    }
    case AGENT_ALERT.budgetExhaustion:
      return `${name} resolved: at the last day's burn rate (${rate("1d")}) the month's error budget lasts to the month's end`;
    case AGENT_ALERT.coverage: {
      const ratio = input.coverage?.get(category.category);
      const now = ratio === undefined ? "unknown" : `${(ratio * 100).toFixed(1)}%`;
      return `${name} resolved: probe coverage is ${now}, at or above ${(config.alerting.coverageBelow * 100).toFixed(1)}%`;
    }
    case AGENT_ALERT.merchantSide:
    case AGENT_ALERT.agentErrors:
    case AGENT_ALERT.authFailed:
    case AGENT_ALERT.targetUnreached:
      return `${name} resolved: the probes measure validly again`;
    case AGENT_ALERT.maintenanceOverrun:
      return `${name} resolved: no longer failing after maintenance ${labels.maintenance ?? ""} (5m burn rate ${rate("5m")})`;
  }
  return `${name}: ${labels.alertname} resolved`;
}
