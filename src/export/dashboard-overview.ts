import type { SloConfig } from "../model/config.js";
import {
  availabilityThresholds,
  burnAlertAnnotation,
  FAST_BURN,
  IN,
  maintenanceAnnotation,
  variables,
} from "./dashboard-common.js";
import { dashboard, type PanelSpec } from "./grafana.js";
import { LABEL, METRIC, RECORDED } from "./names.js";

const RATIO = { unit: "percentunit", min: 0, max: 1 } as const;

/** Every category against its objectives, plus the agent's own health. */
export function overviewDashboard(config?: SloConfig): Record<string, unknown> {
  const panels: PanelSpec[] = [
    {
      type: "stat",
      title: "Availability this month",
      description: "SR/R for the calendar month so far (maintenance and exclusions left out), per category.",
      queries: [{ expr: `${METRIC.availability}{${IN}, ${LABEL.window}="month"}`, legend: "{{category}}" }],
      ...RATIO,
      unit: "percentunit",
      width: 12,
      // Red below the strictest target, amber while less than half the budget is left, green above.
      thresholds: availabilityThresholds(config),
      baseColor: "red",
    },
    {
      type: "bargauge",
      title: "Error budget remaining (month)",
      description:
        "Share of the month's error budget (1 - target) x R still unspent; negative once overspent.",
      queries: [
        { expr: `${METRIC.errorBudgetRemaining}{${IN}, ${LABEL.window}="month"}`, legend: "{{category}}" },
      ],
      unit: "percentunit",
      min: -1,
      max: 1,
      width: 12,
      thresholds: [
        { value: 0, color: "orange" },
        { value: 0.25, color: "green" },
      ],
      baseColor: "red",
    },
    {
      type: "timeseries",
      title: "Availability vs target (1h)",
      description: "Availability over the last hour per category (recording rules) against its target.",
      queries: [
        { expr: `${RECORDED.availability("category", "1h")}{${IN}}`, legend: "{{category}}" },
        { expr: `min(${RECORDED.target("category")}{${LABEL.category}=~"$category"})`, legend: "target" },
      ],
      unit: "percentunit",
      width: 12,
    },
    {
      type: "timeseries",
      title: "Availability by service class (1h)",
      description:
        "Requests of all categories of a class pooled (not a mean of means), against the class target.",
      queries: [
        {
          expr: `${RECORDED.availability("service_class", "1h")}{${LABEL.region}=~"$region"}`,
          legend: "{{service_class}}",
        },
        { expr: `min(${RECORDED.target("service_class")})`, legend: "target" },
      ],
      unit: "percentunit",
      width: 12,
    },
    {
      type: "timeseries",
      title: `Burn rate (${FAST_BURN.long} and ${FAST_BURN.short})`,
      description: `Error budget burn rate; above ${FAST_BURN.factor} over both windows pages (SRE workbook).`,
      queries: [
        {
          expr: `${RECORDED.burnRate("category", FAST_BURN.long)}{${IN}}`,
          legend: `{{category}} ${FAST_BURN.long}`,
        },
        {
          expr: `${RECORDED.burnRate("category", FAST_BURN.short)}{${IN}}`,
          legend: `{{category}} ${FAST_BURN.short}`,
        },
      ],
      unit: "short",
      min: 0,
      width: 12,
      thresholds: [{ value: FAST_BURN.factor, color: "red" }],
    },
    {
      type: "table",
      title: "Burn rate per window",
      description: "The agent's burn rate over each rolling window, per category.",
      queries: [{ expr: `${METRIC.burnRate}{${IN}}`, instant: true }],
      unit: "short",
      width: 12,
    },
    {
      type: "timeseries",
      title: "p99 latency vs objective (1h)",
      description: "The agent's HDR p99 over the last hour per category, and each category's objective.",
      queries: [
        { expr: `${METRIC.latencyP99}{${IN}, ${LABEL.window}="1h"}`, legend: "{{category}}" },
        { expr: `${METRIC.latencyObjective}{${IN}}`, legend: "objective {{category}}" },
      ],
      unit: "s",
      width: 12,
    },
    {
      type: "state-timeline",
      title: "Objective missed (month to date)",
      description: "1 while the category misses its availability or latency objective for the month so far.",
      queries: [{ expr: `${METRIC.breach}{${IN}}`, legend: "{{category}} {{slo}}" }],
      unit: "short",
      width: 12,
      thresholds: [{ value: 1, color: "red" }],
    },
    {
      type: "state-timeline",
      title: "Maintenance active",
      description: "1 while qualifying maintenance or a declared exclusion covers the category.",
      queries: [{ expr: `${METRIC.maintenanceActive}{${IN}}`, legend: "{{category}}" }],
      unit: "short",
      width: 12,
      thresholds: [{ value: 1, color: "orange" }],
    },
    {
      type: "timeseries",
      title: "Probe coverage",
      description: "Recorded runs / expected runs per probe since the agent started: evidence completeness.",
      queries: [{ expr: `${METRIC.coverage}{${IN}}`, legend: "{{probe}}" }],
      ...RATIO,
      width: 12,
    },
    {
      type: "stat",
      title: "Evidence store",
      description: "1 while the evidence store accepts writes; buffered results wait for it.",
      queries: [
        { expr: `${METRIC.storeHealthy}{${LABEL.region}=~"$region"}`, legend: "writable" },
        { expr: `${METRIC.bufferedResults}{${LABEL.region}=~"$region"}`, legend: "buffered" },
      ],
      unit: "short",
      width: 8,
    },
    {
      type: "timeseries",
      title: "Scheduling lateness p99",
      description: "How late probe runs start after they are due: a busy agent measures less than planned.",
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (le) (rate(${METRIC.scheduleLateness}_bucket{${LABEL.region}=~"$region"}[$__rate_interval])))`,
          legend: "p99",
        },
      ],
      unit: "s",
      width: 8,
    },
    {
      type: "timeseries",
      title: "Skipped runs",
      description:
        "Probe runs not sent, per probe and reason: overlap, no free slot, paused by the target's rate limit (429), throttled, refused. None counts against the provider.",
      queries: [
        {
          expr: `sum by (${LABEL.probe}, ${LABEL.reason}) (increase(${METRIC.skippedRuns}{${IN}}[$__rate_interval]))`,
          legend: "{{probe}} {{reason}}",
        },
      ],
      unit: "short",
      width: 8,
    },
  ];
  return dashboard({
    uid: "slo-agent-overview",
    title: "SLO agent: overview",
    description:
      "Availability, error budgets, burn rates and latency of every SLO category against its objective.",
    variables: variables(false, true),
    annotations: [maintenanceAnnotation(), burnAlertAnnotation()],
    panels,
    links: [
      {
        title: "Category drill-down",
        type: "link",
        url: "/d/slo-agent-category",
        includeVars: true,
        keepTime: true,
      },
    ],
  });
}
