import type { Meter } from "@opentelemetry/api";
import { isProbeValid, type ProbeValidity } from "../model/validity.js";
import { METRIC } from "./names.js";
import type { SeriesLabels } from "./probe-metrics.js";

/**
 * slo_probe_valid{probe}: 1 while the probe's latest result measured the provider as configured,
 * 0 after a 401/403 it does not expect (auth_failed), another status outside `expect`
 * (unexpected_status), a failure inside the agent (agent_error) or while its target has never
 * answered under its configuration (target_unreached). Probes with no result yet are left out.
 */
export function registerValidityGauge(
  meter: Meter,
  labels: SeriesLabels,
  latest: () => readonly ProbeValidity[],
): void {
  const gauge = meter.createObservableGauge(METRIC.probeValid, {
    description:
      "1 while the probe's latest result is a valid measurement; 0 after auth_failed, unexpected_status, agent_error or target_unreached",
  });
  gauge.addCallback((result) => {
    for (const v of latest()) {
      result.observe(isProbeValid(v) ? 1 : 0, labels.ofProbeIn(v.category, v.probe));
    }
  });
}
