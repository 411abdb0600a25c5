import type { Secret } from "./secret.js";
import type { EpochMs } from "./time.js";
import type { SlaSource, TrafficSettings } from "./traffic.js";

/**
 * The domain model of a loaded configuration. The wire form (YAML strings like "99.0" or "30s")
 * is converted into this once, in src/config/; nothing downstream sees raw strings.
 */

export type CategoryId = string;
export type ServiceClassId = string;
export type ProbeId = string;
export type TargetId = string;

/**
 * agent.max_stall_ms (contract section 14): the default, and its bounds. Below 20 ms the host's
 * ordinary scheduling jitter (a GC pause, a busy neighbour) would book the provider's own failures
 * as agent_error and exclude them; above 1000 ms a second of the agent's own delay would be booked
 * as the provider's latency or timeouts (docs/configuration.md).
 */
export const DEFAULT_STALL_MS = 50;
export const MIN_STALL_MS = 20;
export const MAX_STALL_MS = 1000;
/** agent.nice_other_threads: the default step between the prober's priority and the rest's. */
export const DEFAULT_NICE_OTHER_THREADS = 10;

export interface AgentSettings {
  readonly region: string;
  /** This agent's identity among several (the `agent` label and the `agent` of its records). */
  readonly id: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** Where /-/reload and /api/v1/* are served instead of `listen`; absent: on `listen`. */
  readonly adminListen?: { readonly host: string; readonly port: number };
  /** The Host header values answered (lower case); absent: any. */
  readonly allowedHosts?: readonly string[];
  /** Absolute path. */
  readonly dataDir: string;
  /** How long raw results are kept; rollups are kept longer. */
  readonly retentionDays: number;
  /** How long per-minute rollups are kept before they are merged into hourly ones. */
  readonly minuteRollupDays: number;
  /** A result whose timing overlapped a longer stall of the prober's event loop is agent_error (default 50). */
  readonly maxStallMs?: number;
  /** How much lower than the prober's the other threads' CPU priority is, in nice steps (default 10; 0: level). */
  readonly niceOtherThreads?: number;
  /** Push metrics to an OpenTelemetry Collector as well; null when not configured. */
  readonly otlp: OtlpPush | null;
  /** Bearer token of the admin endpoints (POST /-/reload); null: they answer 403. */
  readonly adminToken: Secret | null;
  /** Bearer token of the read API (the month summary for `report --from-agents`); absent/null: it answers 403. */
  readonly apiToken?: Secret | null;
  /** The agent's Ed25519 key file (absolute); null: agent-signing-key.pem in dataDir. */
  readonly signingKeyFile?: string | null;
  /** RFC 3161 time-stamp authority that timestamps statements; absent: none. */
  readonly tsaUrl?: string | null;
  /** PEM file of the TSA's CA certificate(s) (absolute); absent: tokens are checked without a pinned CA. */
  readonly tsaCaFile?: string | null;
}

export interface OtlpPush {
  readonly endpoint: string;
  readonly intervalMs: number;
  /** Header values may carry credentials, so they are Secrets. */
  readonly headers: Readonly<Record<string, Secret>>;
}

export interface ServiceClass {
  readonly id: ServiceClassId;
  readonly title: string;
  /** Ratio in (0, 1], e.g. 0.99 for "99.0". */
  readonly availabilityTarget: number;
}

export interface Category {
  readonly id: CategoryId;
  readonly title: string;
  readonly serviceClass: ServiceClassId;
  readonly latencyP99Ms: number;
}

export interface MaintenancePolicy {
  readonly minNoticeDays: number;
  readonly maxOccasionsPerYear: number;
  readonly maxHoursPerYear: number;
}

/** A maintenance policy as a configuration record of the evidence log holds it, and when it was loaded. */
export interface PolicyVersion {
  readonly loadedAt: EpochMs;
  readonly policy: MaintenancePolicy;
}

/** "all" or an explicit list of category ids. */
export type CategoryScope = "all" | readonly CategoryId[];

export interface MaintenanceWindow {
  readonly id: string;
  readonly start: EpochMs;
  readonly end: EpochMs;
  readonly announcedAt: EpochMs;
  readonly categories: CategoryScope;
  readonly description?: string;
  /** Present on windows imported from the maintenance feed. */
  readonly feed?: FeedWindowOrigin;
  /**
   * Every version of the window as observed, oldest first (feed windows). When a window is split
   * into parts by the notice of its changes, each part keeps the window's id: one occasion.
   */
  readonly history?: readonly WindowVersion[];
  /** A declared window whose announced_at the evidence log does not bear out (contract section 14). */
  readonly declaredNotice?: DeclaredNotice;
}

/**
 * What a declared window claims as its announcement and why the log does not bear it out:
 * "loaded_later": the agent first loaded it after that time, its notice counts from the load;
 * "not_loaded": no configuration the agent loaded holds it, its notice counts from when the report
 * is made; "before_log": it is in the log's first configuration and would not qualify from that
 * load, so its announced_at stands unverified.
 */
export interface DeclaredNotice {
  readonly declaredAt: EpochMs;
  readonly check: "loaded_later" | "not_loaded" | "before_log";
}

/** One observed version of a maintenance window: its schedule and scope, and when it was first seen so. */
export interface WindowVersion {
  readonly seenAt: EpochMs;
  readonly start: EpochMs;
  readonly end: EpochMs;
  readonly categories: CategoryScope;
}

/** Where a feed window's notice comes from: the provider's claim and what the agent saw. */
export interface FeedWindowOrigin {
  /**
   * The provider's id of the window. The window's own id is this, or "feed:" and this when a
   * declared window has the same id: the two are separate windows (slo/feed-windows.ts feedWindowId).
   */
  readonly providerId: string;
  /** The provider's created_at: what it claims as the announcement. */
  readonly providerAnnouncedAt: EpochMs;
  /** When this agent first read the window in the feed: the notice it can prove. */
  readonly firstSeenAt: EpochMs;
  /** The feed's polling interval: disagreements within it are not worth a note. */
  readonly everyMs: number;
  /** When the agent first read the window as cancelled by the provider: it then never counts. */
  readonly cancelledAt?: EpochMs | null;
}

/** A window of the maintenance feed as the evidence store keeps it. */
export interface FeedWindow {
  /** The provider's id (Statuspage's scheduled maintenance id); also the window id. */
  readonly providerId: string;
  readonly name: string;
  readonly start: EpochMs;
  readonly end: EpochMs;
  /** The provider's created_at: what it claims as the announcement. */
  readonly providerCreatedAt: EpochMs;
  /** When this agent first read it in the feed. */
  readonly firstSeenAt: EpochMs;
  readonly categories: CategoryScope;
  /** When the agent first read it as cancelled (see parseScheduledMaintenances); null while it stands. */
  readonly cancelledAt?: EpochMs | null;
  /** Every version the agent observed, oldest first; absent from stores that kept none. */
  readonly history?: readonly WindowVersion[];
}

/** maintenance.feed: an Atlassian Statuspage read on a schedule. */
export interface MaintenanceFeed {
  readonly url: string;
  readonly everyMs: number;
  /** Component name -> categories; null: every window covers all categories. */
  readonly components: ReadonlyMap<string, CategoryScope> | null;
}

export interface Exclusion {
  readonly id: string;
  readonly start: EpochMs;
  readonly end: EpochMs;
  readonly reason: string;
  readonly categories: CategoryScope;
}

export type TargetAuth =
  | { readonly type: "none" }
  | { readonly type: "basic"; readonly username: Secret; readonly password: Secret }
  | { readonly type: "bearer"; readonly token: Secret };

export type TargetEnvironment = "production" | "playground" | "simulator";

export interface Target {
  readonly id: TargetId;
  /** Absolute URL without a trailing slash. */
  readonly baseUrl: string;
  readonly environment: TargetEnvironment;
  readonly auth: TargetAuth;
  /** Values that are credentials (from the environment, or a credential's header name) are Secrets. */
  readonly headers: Readonly<Record<string, string | Secret>>;
  /** Requests per second at most to this target across all its probes; null for no cap. */
  readonly maxRequestsPerSecond: number | null;
  /** Runs of this target's probes in flight at once at most (default 8). */
  readonly maxInFlight?: number;
  /** Reuse connections like a real client (keep-alive); false opens one per request. */
  readonly keepAlive: boolean;
  /** Verify TLS certificates (default true). */
  readonly tlsVerify: boolean;
  /**
   * Every value the environment put anywhere in this target (its base_url, a header): sent to
   * the target with each request, so scrubbed like the probe's own (HttpProbeSpec.environmentValues)
   * from what it sends back, and from the base URL a report shows. Absent: none.
   */
  readonly environmentValues?: readonly Secret[];
}

export type ProbeSchedule =
  | { readonly kind: "every"; readonly intervalMs: number }
  | { readonly kind: "cron"; readonly expression: string };

/** What every probe kind's spec has: identity, schedule, deadline and where it was declared. */
export interface ProbeSpecBase {
  readonly id: ProbeId;
  readonly category: CategoryId;
  /** The target it calls; null for a diagnostic probe that names its own host (tls, dns, tcp). */
  readonly target: TargetId | null;
  readonly schedule: ProbeSchedule;
  readonly timeoutMs: number;
  /** A probe that creates objects; refused unless its target is a playground. */
  readonly writes: boolean;
  /** Where the probe was declared, for error messages. */
  readonly source: { readonly file: string; readonly line: number };
  /** Statuses a valid measurement gets (`expect.status`); absent: only 401/403 are problems. */
  readonly expect?: ProbeExpectation | null;
  /**
   * Every value the environment put anywhere in this probe (its body, path or a header): scrubbed,
   * with its parts and encodings, from what a server sends back. Absent: none.
   */
  readonly environmentValues?: readonly Secret[];
  /**
   * True when the body references the environment, set or not: the recorded configuration then
   * shows the body as "[secret]", so the fingerprint neither holds the value nor depends on it.
   */
  readonly bodyFromEnvironment?: boolean;
}

export interface HttpProbeSpec extends ProbeSpecBase {
  readonly kind: "http";
  readonly target: TargetId;
  readonly method: string;
  /** Path and query appended to the target's baseUrl. */
  readonly path: string;
  /** Values that are credentials (from the environment, or a credential's header name) are Secrets. */
  readonly headers: Readonly<Record<string, string | Secret>>;
  readonly body: string | null;
  /** Redirects to follow (0 = none, the default). */
  readonly followRedirects: number;
  /** Body bytes read at most; the rest is drained and discarded. */
  readonly maxBodyBytes: number;
}

/** One HTTP request of a flow; `${steps.<id>.<name>}` in its path or body is filled at run time. */
export interface FlowStep {
  readonly id: string;
  /** The step's own category, else the flow's. */
  readonly category: CategoryId;
  readonly method: string;
  readonly path: string;
  /** The flow's headers with the step's own over them (the target's go under both at run time). */
  readonly headers: Readonly<Record<string, string | Secret>>;
  /** The body given inline or read from its body_file when the configuration was loaded. */
  readonly body: string | null;
  /** Values read from the JSON response: name -> JSONPath ("$.session_id"). */
  readonly extract: Readonly<Record<string, string>>;
}

/** Ordered HTTP steps against one target, stopping at the first failed one, then `finally`. */
export interface FlowProbeSpec extends ProbeSpecBase {
  readonly kind: "flow";
  readonly target: TargetId;
  readonly steps: readonly FlowStep[];
  readonly finally: readonly FlowStep[];
  readonly maxBodyBytes: number;
}

export interface ProbeExpectation {
  readonly status: readonly number[];
}

/**
 * A neutral endpoint probed beside the provider (contract section 8). Its results are stored as
 * probe `control:<id>` in the reserved category CONTROL_CATEGORY (src/model/validity.ts).
 */
export interface Control {
  readonly id: string;
  /** http: any response; tcp: a connection to the URL's host and port; dns: its host name resolves. */
  readonly kind: "http" | "tcp" | "dns";
  /** Absolute URL. */
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/**
 * The specs of the kinds that measure the network path, not the provider's API (never in SLA
 * figures), by kind. Each kind's module adds its own (`declare module` in src/probes/kinds/), so
 * that a kind is declared where it is written and this layer imports nothing from there.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the kinds' modules (declaration merging).
export interface DiagnosticProbeSpecs {}

export type DiagnosticProbeSpec = DiagnosticProbeSpecs[keyof DiagnosticProbeSpecs];

/** One member per probe kind: the API kinds, then the diagnostic ones (src/probes/registry.ts). */
export type ProbeSpec = HttpProbeSpec | FlowProbeSpec | DiagnosticProbeSpec;

/** A flow step's probe id: the flow's id and the step's ("/" is in no probe id, so none collides). */
export function flowStepProbeId(flow: ProbeId, step: string): ProbeId {
  return `${flow}/${step}`;
}

/** The probe ids a spec's results carry, each with its category: one per step of a flow. */
export function recordedProbesOf(
  spec: ProbeSpec,
): { readonly probe: ProbeId; readonly category: CategoryId }[] {
  if (spec.kind !== "flow") return [{ probe: spec.id, category: spec.category }];
  return [...spec.steps, ...spec.finally].map((s) => ({
    probe: flowStepProbeId(spec.id, s.id),
    category: s.category,
  }));
}

/** One delivery channel for the agent's own alerts; the union grows one member per channel. */
export type ReceiverSpec =
  | { readonly type: "alertmanager"; readonly id: string; readonly url: string; readonly timeoutMs: number }
  | {
      readonly type: "webhook";
      readonly id: string;
      readonly url: string;
      /** HMAC-SHA256 key of the signature header. */
      readonly secret: Secret;
      readonly timeoutMs: number;
    }
  /** A Slack incoming-webhook URL is itself the credential. */
  | { readonly type: "slack"; readonly id: string; readonly url: Secret; readonly timeoutMs: number }
  | {
      readonly type: "pagerduty";
      readonly id: string;
      /** The Events API v2 integration key of the PagerDuty service. */
      readonly routingKey: Secret;
      /** Where events are posted: https://events.pagerduty.com/v2/enqueue unless set. */
      readonly url: string;
      readonly timeoutMs: number;
    }
  | {
      readonly type: "email";
      readonly id: string;
      readonly smtp: SmtpSettings;
      readonly timeoutMs: number;
    };

/** An SMTP relay and the message's addresses (receiver type email). */
export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly from: string;
  readonly to: readonly string[];
  /** Upgrade with STARTTLS and refuse to send without it. */
  readonly starttls: boolean;
  /** PEM file of the CA that signed the relay's certificate; null: the system's CAs. */
  readonly caFile: string | null;
  readonly username: string | null;
  readonly password: Secret | null;
}

export interface AlertingSettings {
  readonly receivers: readonly ReceiverSpec[];
  /** How long a condition must hold before its alert fires. */
  readonly forMs: number;
  /** How often a firing alert is notified again. */
  readonly repeatIntervalMs: number;
  /** How long a new group waits before its first notification (Alertmanager's group_wait). */
  readonly groupWaitMs: number;
  /** How long after a group's last notification a change in it is notified (group_interval). */
  readonly groupIntervalMs: number;
  /** Ratio in [0, 1]: a category whose probe coverage is below this alerts. */
  readonly coverageBelow: number;
  /** The window whose p99 is compared with the latency objective. */
  readonly latencyWindow: "5m" | "30m" | "1h" | "6h" | "1d";
  /** runbook_url of an alert is this + "/" + its alertname; null: alerts carry no runbook_url. */
  readonly runbookBaseUrl: string | null;
}

/** One service-credit tier (contract section 10): under `belowRatio` availability earns `creditPct`. */
export interface CreditTier {
  readonly belowRatio: number;
  readonly creditPct: number;
}

/** Who the SLA is with, and the service credits it grants (none when the terms name none). */
export interface SlaTerms {
  readonly provider: string;
  readonly credits: readonly CreditTier[];
  /** The claim's sender; null when not configured. */
  readonly merchant: { readonly name: string; readonly contact: string } | null;
  readonly contractRef: string | null;
  /**
   * Which results decide the SLA figures (contract section 19, `sla.source`); absent: probes, so
   * that the configuration hashes of probe-only agents stay as they were. (Not named `source`:
   * that key names a probe's file and line, which the configuration's hash leaves out.)
   */
  readonly figuresFrom?: SlaSource;
  readonly monthlyFee: { readonly amount: number; readonly currency: string } | null;
}

/** `reports.schedule`: last month's report written and announced on a day of each month. */
export interface ReportSchedule {
  /** Day of the month (UTC), 1..28. */
  readonly day: number;
  readonly formats: readonly ("json" | "md" | "html" | "csv" | "pdf")[];
  /** Ids of alerting receivers told once the report is written. */
  readonly receivers: readonly string[];
}

export interface SloConfig {
  readonly version: 1;
  /** Absolute path of the slo.yaml this was loaded from. */
  readonly file: string;
  readonly agent: AgentSettings;
  readonly serviceClasses: ReadonlyMap<ServiceClassId, ServiceClass>;
  readonly categories: ReadonlyMap<CategoryId, Category>;
  readonly maintenance: {
    readonly policy: MaintenancePolicy;
    readonly windows: readonly MaintenanceWindow[];
    readonly feed?: MaintenanceFeed;
    /**
     * Set when the evidence log chose the policy (withFeedWindows): the policies loaded within the
     * month after the one that judges it, and the given one when the log holds it nowhere in the month.
     */
    readonly policyLog?: {
      readonly changes: readonly PolicyVersion[];
      readonly unapplied: MaintenancePolicy | null;
    };
  };
  readonly exclusions: readonly Exclusion[];
  readonly targets: ReadonlyMap<TargetId, Target>;
  readonly probes: readonly ProbeSpec[];
  /** Controls (contract section 8); absent or empty: none, and nothing is classified merchant_side. */
  readonly controls?: readonly Control[];
  /**
   * How many controls must be failing, each a healthy witness, for a provider failure to be
   * merchant_side (contract section 14); absent: 2, or 1 when one control is configured.
   */
  readonly controlsQuorum?: number;
  readonly alerting: AlertingSettings;
  readonly sla: SlaTerms;
  /** Real-traffic evidence (contract section 19); absent: POST /v1/traces is not served. */
  readonly traffic?: TrafficSettings;
  /** Absent: reports are written only by `slo-agent report`. */
  readonly reportSchedule?: ReportSchedule;
  /** `report --from-agents`: the pinned agent keys (regions.trusted_keys_file), absolute. */
  readonly regions?: { readonly trustedKeysFile: string };
  /**
   * Every value the environment (or a `*_file`) put into slo.yaml: wherever one lands in a field
   * that is not a Secret itself (a receiver's or the collector's URL, say), it is scrubbed before
   * the configuration is recorded (secretForms).
   */
  readonly environmentValues?: readonly Secret[];
  /**
   * The same but for the agent's own identity and addresses (`agent.region`, `id`, `listen`,
   * `data_dir`...: labels and places shown on every series and log line, not secrets): what every
   * result and log line is scrubbed of (probes/scrub.ts agentSecretValues).
   */
  readonly secretEnvironmentValues?: readonly Secret[];
}

export function categoryInScope(scope: CategoryScope, category: CategoryId): boolean {
  return scope === "all" || scope.includes(category);
}
