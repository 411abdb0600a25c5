import type { SloConfig } from "../model/config.js";
import { MULTI_WINDOW_ALERTS } from "../slo/index.js";
import { DATASOURCE, labelVariable } from "./grafana.js";
import { LABEL, METRIC } from "./names.js";

/** Selectors, variables and annotations both dashboards share. */

export const IN = `${LABEL.region}=~"$region", ${LABEL.category}=~"$category"`;
export const OF_PROBE = `${IN}, ${LABEL.probe}=~"$probe"`;
export const FAST_BURN = MULTI_WINDOW_ALERTS[0]!;

export function variables(withProbe: boolean, multiCategory: boolean): Record<string, unknown>[] {
  return [
    labelVariable(LABEL.region, "Region", METRIC.probeRequests, true),
    labelVariable(
      LABEL.category,
      "Category",
      `${METRIC.probeRequests}{${LABEL.region}=~"$region"}`,
      multiCategory,
    ),
    ...(withProbe ? [labelVariable(LABEL.probe, "Probe", `${METRIC.probeRequests}{${IN}}`, true)] : []),
  ];
}

/** Shades the time where qualifying maintenance excluded requests. */
export function maintenanceAnnotation(): Record<string, unknown> {
  return {
    name: "Maintenance",
    enable: true,
    iconColor: "orange",
    datasource: DATASOURCE,
    expr: `max by (${LABEL.category}) (${METRIC.maintenanceActive}{${IN}}) == 1`,
    step: "60s",
    titleFormat: "Maintenance",
    textFormat: "{{category}}: requests excluded",
  };
}

export function burnAlertAnnotation(): Record<string, unknown> {
  return {
    name: "Burn-rate alerts",
    enable: true,
    iconColor: "red",
    datasource: DATASOURCE,
    expr: `ALERTS{alertname="SLOErrorBudgetBurn", alertstate="firing", ${IN}}`,
    step: "60s",
    titleFormat: "{{alertname}} {{severity}}",
    textFormat: "{{category}}: {{long_window}}/{{short_window}}",
  };
}

/**
 * Stat thresholds for availability from the configuration: red below the strictest service-class
 * target (0.99 without a configuration), amber within the first half of the error budget, green above.
 */
export function availabilityThresholds(
  config?: Pick<SloConfig, "serviceClasses">,
): { value: number; color: string }[] {
  const targets = [...(config?.serviceClasses.values() ?? [])].map((c) => c.availabilityTarget);
  const target = targets.length === 0 ? 0.99 : Math.max(...targets);
  const amberUntil = Number((target + (1 - target) / 2).toPrecision(12));
  return [
    { value: target, color: "orange" },
    { value: amberUntil, color: "green" },
  ];
}
