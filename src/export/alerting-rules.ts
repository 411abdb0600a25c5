import type { CategoryId, SloConfig } from "../model/config.js";
import { MULTI_WINDOW_ALERTS, type MultiWindowAlert } from "../slo/index.js";
import { LABEL, METRIC, RECORDED } from "./names.js";
import type { AlertingRule, RuleGroup } from "./rule-types.js";
import { promDuration } from "./rule-types.js";
import { availabilityRunbook, latencyRunbook } from "./runbook.js";

const BY_CATEGORY = `${LABEL.region}, ${LABEL.category}, ${LABEL.serviceClass}`;
const ANY_REGION =
  "{{ with $labels.region }}region {{ . }}{{ else }}any region{{ end }}{{ with $labels.agent }} (agent {{ . }}){{ end }}";
/** Each agent on its own: another agent of the same region still reporting must not hide a silent one. */
const BY_AGENT = `${LABEL.region}, ${LABEL.agent}`;
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
  evidenceUnsigned: "SLOAgentEvidenceUnsigned",
} as const;

/** Requests a category needs in the last day before missing the month is worth a ticket. */
const BREACH_MIN_REQUESTS = 100;

export function alertGroup(config: SloConfig): RuleGroup {
  const base = config.alerting.runbookBaseUrl;
  const withRunbook = (rule: AlertingRule): AlertingRule =>
    base === null
      ? rule
      : { ...rule, annotations: { ...rule.annotations, runbook_url: `${base}/${rule.alert}` } };
  return {
    name: "slo-agent-alerts",
    rules: [
      ...MULTI_WINDOW_ALERTS.map(burnAlert),
      latencyAlert(),
      breachAlert(),
      maintenanceOverrunAlert(),
      agentNoDataAlert(),
      evidenceUnsignedAlert(),
      ...[...config.categories.keys()].sort().flatMap((c) => probeNoDataAlert(config, c)),
    ].map(withRunbook),
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
      hints: availabilityRunbook(),
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
      hints: latencyRunbook(),
    },
  };
}

function breachAlert(): AlertingRule {
  return {
    alert: ALERT.breach,
    // A handful of requests is no evidence of a breach: ask for real traffic, and for it to last.
    expr:
      `${METRIC.breach} == 1 and on (${BY_CATEGORY}) ` +
      `(${RECORDED.requests("category", "1d")} * 86400) >= ${BREACH_MIN_REQUESTS}`,
    for: "30m",
    labels: { severity: "ticket" },
    annotations: {
      summary: `${ON_CATEGORY} misses its {{ $labels.slo }} objective for the month so far`,
      description:
        "Month to date, the category is below its availability target or above its latency objective " +
        `(with at least ${BREACH_MIN_REQUESTS} requests in the last day, for 30 minutes): ` +
        "this is SLA evidence for the monthly report (slo-agent report).",
      hints: "Gather the month's evidence with: slo-agent report --month YYYY-MM --format md",
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
      hints: availabilityRunbook(),
    },
  };
}

/**
 * Any agent (each region's, each on its own): its counters stopped increasing, or vanished within the last day, or no agent
 * reports at all. No region is written into the rule, so one rule file serves every region.
 */
function agentNoDataAlert(): AlertingRule {
  const m = METRIC.probeRequests;
  const by = `max by (${BY_AGENT})`;
  return {
    alert: ALERT.agentNoData,
    expr:
      `sum by (${BY_AGENT}) (increase(${m}[10m])) == 0` +
      ` or (${by} (present_over_time(${m}[1d])) unless on (${BY_AGENT}) ${by} (present_over_time(${m}[10m])))` +
      ` or absent_over_time(${m}[10m])`,
    labels: { severity: "page", category: "all", service_class: "all" },
    annotations: {
      summary: `No probe results from the slo-agent of ${ANY_REGION} for 10 minutes`,
      description:
        "Prometheus has no new probe results: the agent is down, not scraped, or not probing. " +
        "Nothing is being measured, so SLA evidence is missing for this time.",
      hints: "Check the agent's /healthz and /readyz and its log; check the Prometheus target's up series.",
    },
  };
}

/**
 * Any agent that refuses to sign its evidence: the store went back under it (a rollback, which it
 * also recorded in the log), records it did not write, or no key. The agent is up and measures,
 * but verify and every report of the month fail until someone examines the store: a page, since
 * whoever rolled the store back may be about to stop the agent and delete the trace.
 */
function evidenceUnsignedAlert(): AlertingRule {
  return {
    alert: ALERT.evidenceUnsigned,
    expr: `max by (${BY_AGENT}) (${METRIC.signingRefused}) == 1`,
    labels: { severity: "page", category: "all", service_class: "all" },
    annotations: {
      summary: `The slo-agent of ${ANY_REGION} refuses to sign its evidence`,
      description:
        "The agent no longer signs what it records: the evidence store went back under it (records deleted and an " +
        "older checkpoint restored), holds records it did not write, or its signing key is missing. " +
        "Verify and the monthly report fail until the store is examined.",
      hints:
        "Read the agent's error log line 'not signing the evidence' and its /status; run slo-agent verify; " +
        "keep a copy of the data directory before anything else (docs/evidence-store.md, section What an unanchored rollback can still do).",
    },
  };
}

/** One per configured category with probes: its results stopped while the agent still reports. */
function probeNoDataAlert(config: SloConfig, category: CategoryId): AlertingRule[] {
  const probes = config.probes.filter((p) => p.category === category);
  const serviceClass = config.categories.get(category)?.serviceClass;
  if (probes.length === 0 || serviceClass === undefined) return [];
  const intervals = probes.map((p) => (p.schedule.kind === "every" ? p.schedule.intervalMs : null));
  const longest = intervals.includes(null) ? null : Math.max(...(intervals as number[]));
  const windowMs = longest === null ? CRON_NO_DATA_MS : Math.max(MIN_NO_DATA_MS, 3 * longest);
  const window = promDuration(windowMs);
  const ofCategory = `${METRIC.probeRequests}{${LABEL.category}="${category}"}`;
  const by = `max by (${BY_AGENT}, ${LABEL.category})`;
  const why =
    longest === null
      ? "a cron-scheduled probe may wait up to a day between runs"
      : 3 * longest >= MIN_NO_DATA_MS
        ? `3 runs of its probes, which run every ${promDuration(longest)}`
        : `at least 10 minutes; its probes run every ${Math.round(longest / 1000)}s`;
  return [
    {
      alert: ALERT.probeNoData,
      expr:
        `sum by (${BY_AGENT}, ${LABEL.category}) (increase(${ofCategory}[${window}])) == 0` +
        ` or (${by} (present_over_time(${ofCategory}[1d])) unless on (${BY_AGENT}, ${LABEL.category}) ${by} (present_over_time(${ofCategory}[${window}])))` +
        ` or (absent_over_time(${ofCategory}[${window}]) and on () count(present_over_time(${METRIC.probeRequests}[${window}])) > 0)`,
      labels: { severity: "ticket", category, service_class: serviceClass },
      annotations: {
        summary: `No probe results for ${category} in ${ANY_REGION} for ${window}`,
        description:
          `The agent reports, but no probe of ${category} produced a result for ${window} (${why}): ` +
          "its availability cannot be measured.",
        hints: "Check the probe's schedule and target in probes/*.yaml and the agent's skipped-run counter.",
      },
    },
  ];
}
