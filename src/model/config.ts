import type { Secret } from "./secret.js";
import type { EpochMs } from "./time.js";

/**
 * The domain model of a loaded configuration. The wire form (YAML strings like "99.0" or "30s")
 * is converted into this once, in src/config/; nothing downstream sees raw strings.
 */

export type CategoryId = string;
export type ServiceClassId = string;
export type ProbeId = string;
export type TargetId = string;

export interface AgentSettings {
  readonly region: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** Absolute path. */
  readonly dataDir: string;
  /** How long raw results are kept; rollups are kept longer. */
  readonly retentionDays: number;
  /** How long per-minute rollups are kept before they are merged into hourly ones. */
  readonly minuteRollupDays: number;
  /** Push metrics to an OpenTelemetry Collector as well; null when not configured. */
  readonly otlp: OtlpPush | null;
  /** The agent's Ed25519 key file (absolute); null: agent-signing-key.pem in dataDir. */
  readonly signingKeyFile?: string | null;
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

/** "all" or an explicit list of category ids. */
export type CategoryScope = "all" | readonly CategoryId[];

export interface MaintenanceWindow {
  readonly id: string;
  readonly start: EpochMs;
  readonly end: EpochMs;
  readonly announcedAt: EpochMs;
  readonly categories: CategoryScope;
  readonly description?: string;
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
  /** Reuse connections like a real client (keep-alive); false opens one per request. */
  readonly keepAlive: boolean;
  /** Verify TLS certificates (default true). */
  readonly tlsVerify: boolean;
}

export type ProbeSchedule =
  | { readonly kind: "every"; readonly intervalMs: number }
  | { readonly kind: "cron"; readonly expression: string };

export interface HttpProbeSpec {
  readonly kind: "http";
  readonly id: ProbeId;
  readonly category: CategoryId;
  readonly target: TargetId;
  readonly schedule: ProbeSchedule;
  readonly method: string;
  /** Path and query appended to the target's baseUrl. */
  readonly path: string;
  /** Values that are credentials (from the environment, or a credential's header name) are Secrets. */
  readonly headers: Readonly<Record<string, string | Secret>>;
  readonly body: string | null;
  readonly timeoutMs: number;
  /** A probe that creates objects; refused unless its target is a playground. */
  readonly writes: boolean;
  /** Redirects to follow (0 = none, the default). */
  readonly followRedirects: number;
  /** Body bytes read at most; the rest is drained and discarded. */
  readonly maxBodyBytes: number;
  /** Where the probe was declared, for error messages. */
  readonly source: { readonly file: string; readonly line: number };
}

/** The union grows one member per probe kind. */
export type ProbeSpec = HttpProbeSpec;

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
  };
  readonly exclusions: readonly Exclusion[];
  readonly targets: ReadonlyMap<TargetId, Target>;
  readonly probes: readonly ProbeSpec[];
}

export function categoryInScope(scope: CategoryScope, category: CategoryId): boolean {
  return scope === "all" || scope.includes(category);
}
