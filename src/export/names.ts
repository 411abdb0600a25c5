/**
 * Every metric and label name the agent exposes, in one place (contract section 5 plus the
 * agent's own additions). Rules, dashboards and their tests all read these.
 */

export const METRIC = {
  probeRequests: "slo_probe_requests_total",
  probeDuration: "slo_probe_duration_seconds",
  probePhase: "slo_probe_phase_seconds",
  vendorErrors: "slo_vendor_errors_total",
  automaticExclusions: "slo_probe_automatic_exclusions_total",
  probeValid: "slo_probe_valid",
  probeSuccess: "slo_probe_success",
  tlsCertExpiry: "slo_tls_cert_expiry_seconds",
  availability: "slo_availability_ratio",
  availabilityTarget: "slo_availability_target_ratio",
  latencyP99: "slo_latency_p99_seconds",
  latencyObjective: "slo_latency_objective_seconds",
  errorBudgetRemaining: "slo_error_budget_remaining_ratio",
  burnRate: "slo_burn_rate",
  breach: "slo_breach",
  maintenanceActive: "slo_maintenance_active",
  maintenanceFeedReadable: "slo_maintenance_feed_readable",
  maintenanceFeedEntriesLeftOut: "slo_maintenance_feed_entries_left_out",
  scheduleLateness: "slo_agent_schedule_lateness_seconds",
  agentStall: "slo_agent_stall_seconds",
  agentRunQueue: "slo_agent_run_queue_seconds",
  coverage: "slo_agent_coverage_ratio",
  skippedRuns: "slo_agent_skipped_runs_total",
  storeHealthy: "slo_agent_store_healthy",
  bufferedResults: "slo_agent_store_buffered_results",
  signingRefused: "slo_agent_evidence_signing_refused",
  alertFiring: "slo_alert_firing",
  alertDeliveries: "slo_alert_deliveries_total",
  alertQueueDepth: "slo_alert_queue_depth",
  buildInfo: "slo_agent_build_info",
  trafficRequests: "slo_traffic_requests_total",
  trafficDropped: "slo_traffic_dropped_total",
  reportLastSuccess: "slo_report_last_success_timestamp_seconds",
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Metrics exposed as Prometheus histograms: each is scraped as `_bucket`, `_sum` and `_count` series. */
export const HISTOGRAMS: readonly MetricName[] = [
  METRIC.probeDuration,
  METRIC.probePhase,
  METRIC.scheduleLateness,
  METRIC.agentStall,
  METRIC.agentRunQueue,
];

/** Every series name a scrape of the agent can contain (histograms expanded). */
export function exposedSeriesNames(): string[] {
  return Object.values(METRIC).flatMap((name) =>
    HISTOGRAMS.includes(name) ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
  );
}

export const LABEL = {
  region: "region",
  /** The agent's identity (`agent.id`): several agents may measure one region. */
  agent: "agent",
  category: "category",
  serviceClass: "service_class",
  probe: "probe",
  statusClass: "status_class",
  outcome: "outcome",
  errorCode: "error_code",
  window: "window",
  slo: "slo",
  phase: "phase",
  reason: "reason",
  alertname: "alertname",
  receiver: "receiver",
  result: "result",
} as const;

/** The labels that say which agent measured a series: its region and its identity. */
export interface AgentIdentity {
  readonly region: string;
  readonly agent: string;
}

export function identityLabels(identity: AgentIdentity): { region: string; agent: string } {
  return { [LABEL.region]: identity.region, [LABEL.agent]: identity.agent };
}

/**
 * Why a scheduled run was not sent: `overlap` (the previous run of the probe still going),
 * `no_slot` (no free concurrency slot in time), `paused` (the target asked to back off: 429,
 * Retry-After, X-Ratelimit-Remaining 0), `throttled` (the target's max_requests_per_second) and
 * `refused` (the runner would not send it). None of them is a provider failure.
 */
export const SKIP_REASONS = ["overlap", "no_slot", "paused", "throttled", "refused"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/**
 * `served` and `failed` are contract section 5. `excluded` is the agent's addition: requests inside
 * qualifying maintenance or a declared exclusion, so that rules can leave them out of R and SR.
 */
export const OUTCOMES = ["served", "failed", "excluded"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** HTTP timing phases, each the time spent in that phase alone (HAR's names). */
export const PHASES = ["dns", "connect", "tls", "send", "wait", "receive"] as const;
export type PhaseName = (typeof PHASES)[number];

/** Seconds. Dense where API latency objectives live (0.1 s .. 3 s), sparse beyond. */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5,
  10, 15, 20, 30, 60,
];

/** Seconds. Single phases are short: DNS and connect take milliseconds, waiting takes the most. */
export const PHASE_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Seconds a run started after it was due. */
export const LATENESS_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Seconds the prober's event loop was stalled (noted from 5 ms; agent.max_stall_ms is 50 ms by default). */
export const STALL_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Bucket boundaries that also hold each latency objective, so a histogram answers "under objective" exactly. */
export function durationBucketsWith(objectivesMs: Iterable<number>): number[] {
  const all = new Set(DURATION_BUCKETS_SECONDS);
  for (const ms of objectivesMs) all.add(ms / 1000);
  return [...all].sort((a, b) => a - b);
}

/** The two levels the recording rules aggregate to: each category, and each service class pooled. */
export type RuleLevel = "category" | "service_class";

/** Names of the series the generated recording rules produce (`level:metric:operation`). */
export const RECORDED = {
  /** The availability objective as a ratio, a constant from the configuration. */
  target: (level: RuleLevel) => `${level}:slo_availability_target:ratio`,
  /** 1 - target: the share of requests allowed to fail. */
  errorBudget: (level: RuleLevel) => `${level}:slo_error_budget:ratio`,
  /** R per second: non-excluded requests. */
  requests: (level: RuleLevel, window: string) => `${level}:slo_requests:rate${window}`,
  /** R - SR per second: non-excluded requests that were not served. */
  failed: (level: RuleLevel, window: string) => `${level}:slo_requests_failed:rate${window}`,
  /** 1 - SR/R. */
  errorRatio: (level: RuleLevel, window: string) => `${level}:slo_error:ratio_rate${window}`,
  /** SR/R. */
  availability: (level: RuleLevel, window: string) => `${level}:slo_availability:ratio_rate${window}`,
  /** (1 - SR/R) / (1 - target). */
  burnRate: (level: RuleLevel, window: string) => `${level}:slo_burn_rate:ratio_rate${window}`,
} as const;
