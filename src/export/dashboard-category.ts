import type { SloConfig } from "../model/config.js";
import {
  availabilityThresholds,
  FAST_BURN,
  IN,
  maintenanceAnnotation,
  OF_PROBE,
  variables,
} from "./dashboard-common.js";
import { dashboard, type PanelSpec } from "./grafana.js";
import { LABEL, METRIC, RECORDED } from "./names.js";

const RATE = "[$__rate_interval]";

function rateBy(by: string, metric: string, of: string = OF_PROBE): string {
  return `sum by (${by}) (rate(${metric}{${of}}${RATE}))`;
}

function quantileBy(by: string, histogram: string, q: number, of: string = OF_PROBE): string {
  return `histogram_quantile(${q}, sum by (le, ${by}) (rate(${histogram}_bucket{${of}}${RATE})))`;
}

/** Drill-down into one category and its probes: where the failures and the time come from. */
export function categoryDashboard(config?: SloConfig): Record<string, unknown> {
  const stat = (
    title: string,
    description: string,
    expr: string,
    unit: string,
    colours: Pick<PanelSpec, "thresholds" | "baseColor"> = {},
  ): PanelSpec => ({
    type: "stat",
    title,
    description,
    queries: [{ expr, legend: "{{category}}" }],
    unit,
    width: 6,
    height: 5,
    ...colours,
  });
  const panels: PanelSpec[] = [
    stat(
      "Availability (month)",
      "SR/R for the month so far.",
      `${METRIC.availability}{${IN}, ${LABEL.window}="month"}`,
      "percentunit",
      { thresholds: availabilityThresholds(config), baseColor: "red" },
    ),
    stat(
      "p99 latency (month)",
      "HDR p99 of the month so far.",
      `${METRIC.latencyP99}{${IN}, ${LABEL.window}="month"}`,
      "s",
    ),
    stat(
      "Error budget remaining",
      "Share of the month's error budget left.",
      `${METRIC.errorBudgetRemaining}{${IN}, ${LABEL.window}="month"}`,
      "percentunit",
      {
        thresholds: [
          { value: 0, color: "orange" },
          { value: 0.25, color: "green" },
        ],
        baseColor: "red",
      },
    ),
    stat(
      "Burn rate (1h)",
      "The agent's burn rate over the last hour.",
      `${METRIC.burnRate}{${IN}, ${LABEL.window}="1h"}`,
      "short",
      {
        thresholds: [
          { value: 1, color: "orange" },
          { value: FAST_BURN.factor, color: "red" },
        ],
        baseColor: "green",
      },
    ),
    {
      type: "timeseries",
      title: "Requests by status class",
      description: "2xx, 3xx and 4xx are served; 5xx and none (no response) are failed.",
      queries: [{ expr: rateBy(LABEL.statusClass, METRIC.probeRequests), legend: "{{status_class}}" }],
      unit: "reqps",
      width: 12,
      stacked: true,
    },
    {
      type: "timeseries",
      title: "Requests by outcome",
      description: "excluded: inside qualifying maintenance or a declared exclusion, left out of R and SR.",
      queries: [{ expr: rateBy(LABEL.outcome, METRIC.probeRequests), legend: "{{outcome}}" }],
      unit: "reqps",
      width: 12,
      stacked: true,
    },
    {
      type: "timeseries",
      title: "Response time p99 per probe vs objective",
      description:
        "From the duration histogram (buckets include each objective); timeouts count at their timeout.",
      queries: [
        { expr: quantileBy(LABEL.probe, METRIC.probeDuration, 0.99), legend: "p99 {{probe}}" },
        { expr: quantileBy(LABEL.probe, METRIC.probeDuration, 0.5), legend: "p50 {{probe}}" },
        { expr: `max(${METRIC.latencyObjective}{${IN}})`, legend: "objective" },
      ],
      unit: "s",
      width: 12,
    },
    {
      type: "timeseries",
      title: "Availability and burn rate (5m, rules)",
      description:
        "Recorded availability over 5 minutes (left axis, a ratio) and its burn rate (right axis, a multiple of the budget).",
      queries: [
        { expr: `${RECORDED.availability("category", "5m")}{${IN}}`, legend: "availability" },
        { expr: `${RECORDED.burnRate("category", "5m")}{${IN}}`, legend: "burn rate" },
      ],
      unit: "percentunit",
      min: 0,
      max: 1,
      rightAxis: { series: "burn rate", unit: "short" },
      width: 12,
    },
    {
      type: "timeseries",
      title: "Phase timing (mean)",
      description:
        "Where a request's time goes: dns, connect, tls (network), send, wait (the vendor), receive. Per category: the probe filter does not apply.",
      queries: [
        {
          expr: `${rateBy(LABEL.phase, `${METRIC.probePhase}_sum`, IN)} / ${rateBy(LABEL.phase, `${METRIC.probePhase}_count`, IN)}`,
          legend: "{{phase}}",
        },
      ],
      unit: "s",
      width: 12,
      stacked: true,
    },
    {
      type: "timeseries",
      title: "Phase timing p99",
      description: "99th percentile of each phase alone, per category: the probe filter does not apply.",
      queries: [{ expr: quantileBy(LABEL.phase, METRIC.probePhase, 0.99, IN), legend: "{{phase}}" }],
      unit: "s",
      width: 12,
    },
    {
      type: "bargauge",
      title: "Vendor error codes (time range)",
      description: "Error codes parsed from responses; codes outside the vendor catalogue count as OTHER.",
      queries: [
        {
          expr: `sort_desc(sum by (${LABEL.errorCode}) (increase(${METRIC.vendorErrors}{${OF_PROBE}}[$__range])))`,
          legend: "{{error_code}}",
          instant: true,
        },
      ],
      unit: "short",
      width: 12,
    },
    {
      type: "timeseries",
      title: "Vendor error codes over time",
      description: "Rate of each vendor error code.",
      queries: [{ expr: rateBy(LABEL.errorCode, METRIC.vendorErrors), legend: "{{error_code}}" }],
      unit: "reqps",
      width: 12,
    },
    {
      type: "timeseries",
      title: "Availability per window (agent)",
      description: "The agent's availability over each rolling window.",
      queries: [{ expr: `${METRIC.availability}{${IN}}`, legend: "{{window}}" }],
      unit: "percentunit",
      width: 24,
    },
  ];
  return dashboard({
    uid: "slo-agent-category",
    title: "SLO agent: category drill-down",
    description:
      "One SLO category and its probes: status classes, outcomes, latency, HTTP phases and vendor error codes.",
    variables: variables(true, false),
    annotations: [maintenanceAnnotation()],
    panels,
    links: [
      { title: "Overview", type: "link", url: "/d/slo-agent-overview", includeVars: true, keepTime: true },
    ],
  });
}
