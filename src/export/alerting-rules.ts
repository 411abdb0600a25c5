import type { CategoryId, SloConfig } from "../model/config.js";
import { MULTI_WINDOW_ALERTS, type MultiWindowAlert } from "../slo/index.js";
import { LABEL, METRIC, RECORDED } from "./names.js";
import type { AlertingRule, RuleGroup } from "./rule-types.js";
import { promDuration } from "./rule-types.js";
import { availabilityRunbook, latencyRunbook } from "./runbook.js";

const BY_CATEGORY = `${LABEL.region}, ${LABEL.category}, ${LABEL.serviceClass}`;
const ON_CATEGORY = `{{ $labels.category }} ({{ $labels.service_class }}, region {{ $labels.region }})`;
const MIN_NO_DATA_MS = 10 * 60_000;
// A cron-scheduled probe may legitimately wait up to a day between runs.
const CRON_NO_DATA_MS = 24 * 3_600_000;

export const ALERT = {
  burn: "SLOErrorBudgetBurn",
  latency: "SLOLatencyObjectiveMissed",
  breach: "SLOMonthlyObjectiveMissed",
  maintenanceOverrun: "SLOMaintenanceOverrun",
  probeNoData: "SLOProbeNoData",
  agentNoData: "SLOAgentNoData",
} as const;

export function alertGroup(config: SloConfig): RuleGroup {
  return {
    name: "slo-agent-alerts",
    rules: [
      ...MULTI_WINDOW_ALERTS.map(burnAlert),
      latencyAlert(),
      breachAlert(),
      maintenanceOverrunAlert(),
      agentNoDataAlert(config.agent.region),
      ...[...config.categories.keys()].sort().flatMap((c) => probeNoDataAlert(config, c)),
    ],
  };
}

/** Both windows over the factor (SRE workbook): the long one proves significance, the short one recency. */
function burnAlert(row: MultiWindowAlert): AlertingRule {
  const over = (w: string) => `${RECORDED.burnRate("category", w)} > ${row.factor}`;
  return {
    alert: ALERT.burn,
    expr: `${over(row.long)} and ${over(row.short)}`,
    labels: { severity: row.severity, slo: "availability", long_window: row.long, short_window: row.short },
    annotations: {
      summary: `${ON_CATEGORY} burns its error budget at {{ $value | humanize }}x over ${row.long}`,
      description:
        `The error budget burn rate is above ${row.factor}x over both ${row.long} and ${row.short}: ` +
        `at this pace ${row.budgetSpent * 100}% of a 30-day budget is gone within ${row.long}.`,
      runbook: availabilityRunbook(),
    },
  };
}

function latencyAlert(): AlertingRule {
  return {
    alert: ALERT.latency,
    expr: `${METRIC.latencyP99}{${LABEL.window}="1h"} > ignoring (${LABEL.window}) ${METRIC.latencyObjective}`,
    for: "5m",
    labels: { severity: "ticket", slo: "latency" },
    annotations: {
      summary: `${ON_CATEGORY} p99 latency over 1h is {{ $value | humanizeDuration }}, above its objective`,
      description:
        "The 99th percentile of response times over the last hour exceeds the category's latency objective.",
      runbook: latencyRunbook(),
    },
  };
}

function breachAlert(): AlertingRule {
  return {
    alert: ALERT.breach,
    expr: `${METRIC.breach} == 1`,
    labels: { severity: "ticket" },
    annotations: {
      summary: `${ON_CATEGORY} misses its {{ $labels.slo }} objective for the month so far`,
      description:
        "Month to date, the category is below its availability target or above its latency objective: " +
        "this is SLA evidence for the monthly report (slo-agent report).",
      runbook: "Gather the month's evidence with: slo-agent report --month YYYY-MM --format md",
    },
  };
}

/** Maintenance ended (or its qualifying part ran out) within the hour, and the category still fails. */
function maintenanceOverrunAlert(): AlertingRule {
  const active = (inner: string) => `max by (${BY_CATEGORY}) (${inner})`;
  return {
    alert: ALERT.maintenanceOverrun,
    expr:
      `(${active(`max_over_time(${METRIC.maintenanceActive}[1h])`)} == 1` +
      ` unless ${active(METRIC.maintenanceActive)} == 1)` +
      ` and on (${BY_CATEGORY}) ${RECORDED.burnRate("category", "5m")} > 1`,
    for: "5m",
    labels: { severity: "ticket", slo: "availability" },
    annotations: {
      summary: `${ON_CATEGORY} still fails after its maintenance window ended`,
      description:
        "Requests are no longer excluded (the window ended, or the yearly occasion or hours cap ran out) " +
        "but the category still burns budget: this downtime counts against the SLA.",
      runbook: availabilityRunbook(),
    },
  };
}

function agentNoDataAlert(region: string): AlertingRule {
  const selector = `${METRIC.probeRequests}{${LABEL.region}="${region}"}`;
  return {
    alert: ALERT.agentNoData,
    expr:
      `absent_over_time(${selector}[10m])` + ` or sum by (${LABEL.region}) (increase(${selector}[10m])) == 0`,
    labels: { severity: "page", category: "all", service_class: "all" },
    annotations: {
      summary: `No probe results from the slo-agent of region ${region} for 10 minutes`,
      description:
        "Prometheus has no new probe results: the agent is down, not scraped, or not probing. " +
        "Nothing is being measured, so SLA evidence is missing for this time.",
      runbook: "Check the agent's /healthz and /readyz and its log; check the Prometheus target's up series.",
    },
  };
}

/** One per configured category with probes: its results stopped while the agent still reports. */
function probeNoDataAlert(config: SloConfig, category: CategoryId): AlertingRule[] {
  const probes = config.probes.filter((p) => p.category === category);
  const serviceClass = config.categories.get(category)?.serviceClass;
  if (probes.length === 0 || serviceClass === undefined) return [];
  const windowMs = Math.max(
    MIN_NO_DATA_MS,
    ...probes.map((p) => (p.schedule.kind === "every" ? 3 * p.schedule.intervalMs : CRON_NO_DATA_MS)),
  );
  const window = promDuration(windowMs);
  const region = config.agent.region;
  const ofCategory = `${METRIC.probeRequests}{${LABEL.region}="${region}", ${LABEL.category}="${category}"}`;
  const ofAgent = `${METRIC.probeRequests}{${LABEL.region}="${region}"}`;
  return [
    {
      alert: ALERT.probeNoData,
      expr:
        `sum by (${LABEL.region}, ${LABEL.category}) (increase(${ofCategory}[${window}])) == 0` +
        ` or (absent_over_time(${ofCategory}[${window}]) unless on (${LABEL.region}) absent_over_time(${ofAgent}[${window}]))`,
      labels: { severity: "ticket", category, service_class: serviceClass },
      annotations: {
        summary: `No probe results for ${category} in region ${region} for ${window}`,
        description:
          `The agent reports, but no probe of ${category} produced a result for ${window} ` +
          "(3 probe intervals): its availability cannot be measured.",
        runbook:
          "Check the probe's schedule and target in probes/*.yaml and the agent's skipped-run counter.",
      },
    },
  ];
}
