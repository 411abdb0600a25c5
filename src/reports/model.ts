/**
 * The monthly SLA evidence report as data: the JSON form of contract section 4 (snake_case, full
 * precision) plus keys beyond it. Every renderer reads only this; nothing here does I/O.
 */

import type { Signature, Statement, StatementTimestamp } from "../record/index.js";
import type {
  AutomaticExclusionFigures,
  CategoryFigures,
  DailyFigures,
  ExclusionFigures,
  MaintenanceFigures,
  MaintenanceWindowFigures,
  MeasurementProblemFigures,
  ServiceClassFigures,
} from "../slo/index.js";
import type { Claim } from "./claim.js";
import type { ClassificationCounts } from "./classification.js";
import type { TrafficFigures } from "./traffic-figures.js";

/** An instant as ISO-8601 UTC with milliseconds. */
export type IsoInstant = string;

export interface ReportPeriod {
  readonly start: IsoInstant;
  readonly end: IsoInstant;
}

/**
 * The section 4 pieces come from src/slo as they are, so that the report can never disagree with
 * the SLA arithmetic: these names are the report's view of them.
 */
/** Beyond the contract, each category row also counts the probe's flags and body errors of its requests. */
export type CategoryRow = CategoryFigures &
  ClassificationCounts &
  MeasurementValidity & {
    /** The month's merchant requests (contract section 19); present when traffic: is configured. */
    readonly traffic?: TrafficFigures;
  };

/** Contract section 8, per category. */
export interface MeasurementValidity {
  /** SR/R over every request made, before maintenance, exclusions and automatic exclusions; null without traffic. */
  readonly measured_availability_pct: number | null;
  /** Responses that measured nothing useful (they still count per the SLA formula). */
  readonly measurement_problems: readonly MeasurementProblemFigures[];
  /** Minutes of the category inside merchant_side episodes: what the controls took off the provider's account. */
  readonly merchant_side_excluded_minutes: number;
}
export type AutomaticExclusionRow = AutomaticExclusionFigures;
/** Beyond section 4, each class has the service credit its availability earns (section 10). */
export type ServiceClassRow = ServiceClassFigures & {
  /** The credit tier's credit_pct; 0 under no tier; null with no traffic or no credits configured. */
  readonly credit_pct: number | null;
  /** sla.monthly_fee.amount * credit_pct / 100 (to the cent); null without a fee or credit_pct. */
  readonly credit_amount: number | null;
  /**
   * Only when `--category` left some of the class's categories out: the ones its figures pool
   * (so they are not the class's SLA figures).
   */
  readonly pooled_categories?: readonly string[];
};
export type MaintenanceRow = MaintenanceWindowFigures;
export type MaintenanceSection = MaintenanceFigures;
export type ExclusionRow = ExclusionFigures;
/** One category over one UTC day (the CSV rows and the charts). */
export type DailyRow = DailyFigures & {
  /** Contract section 8 per day: SR/R over every request made, before any exclusion; null without traffic. */
  readonly measured_availability_pct: number | null;
  /** Minutes of the day inside merchant_side episodes for the category (contract section 14). */
  readonly merchant_side_excluded_minutes: number;
  /** The day's merchant requests (contract section 19); present when traffic: is configured. */
  readonly traffic?: TrafficFigures;
};

export interface Coverage {
  readonly expected_probes: number;
  readonly recorded_probes: number;
  /** recorded / expected; null when no probe was expected. */
  readonly ratio: number | null;
  /** Beyond the contract: agent runs that overlap the month (0 when all its data was imported). */
  readonly agent_runs: number;
}

export interface ConfigRecordRef {
  readonly seq: number;
  readonly loaded_at: IsoInstant;
  readonly sha256: string;
}

/**
 * An `slo-agent evidence adopt` (an `adoption` input record): the operator signed a store the
 * writers refused to sign. What the checkpoints signed before it is all they prove of the records
 * up to its head_seq (docs/evidence-store.md, "A store that cannot be signed").
 */
export interface AdoptionRef {
  /** Its input-log seq. */
  readonly seq: number;
  readonly adopted_at: IsoInstant;
  /** The writers' refusal it overrode. */
  readonly overridden: string;
  /** The chain head it signed. */
  readonly head_seq: number;
  readonly key_id: string;
  /** The newest checkpoint left before it; null: the store had none. */
  readonly previous_checkpoint: {
    readonly head_seq: number;
    readonly head_hash: string;
    readonly created_at: IsoInstant;
    readonly key_id: string;
  } | null;
}

/** The month's records that `slo-agent import` stored (src/record/imported.ts), per category. */
export interface ImportedEvidence {
  readonly records: number;
  /** Imported records between two consecutive runs the agent measured itself (same probe and agent). */
  readonly interleaved: number;
  readonly by_category: readonly {
    readonly category: string;
    readonly records: number;
    readonly interleaved: number;
  }[];
}

export interface Evidence {
  readonly records: number;
  readonly sha256: string;
  /** Contract section 7, set by sealReport: false only with --allow-unverified. */
  readonly verified?: boolean;
  /** The first problem found, when not verified. */
  readonly problem?: string;
  readonly config_sha256?: string;
  /** SHA-256 of the recompute.py the agent ships in its bundles: compare with the bundle's and the release's. */
  readonly recompute_sha256?: string;
  /** Where this store chained the month's records (not in the statement: it depends on import order). */
  readonly first_seq?: number;
  readonly last_seq?: number;
  /**
   * The configuration records of the evidence log in force during the month (the newest loaded
   * before it and each loaded inside): input-log seq, when loaded, SHA-256 of its canonical
   * payload. The one whose sha256 is config_sha256 decided the figures. Absent: the log has none
   * (a store the daemon never ran, filled by `import`).
   */
  readonly config_records?: readonly ConfigRecordRef[];
  /** Adoptions made after the month began or signing over its records; absent when none. */
  readonly adoptions?: readonly AdoptionRef[];
  /** The month's records that `import` stored rather than the agent's run; absent when none. */
  readonly imported?: ImportedEvidence;
  readonly statement?: Statement;
  readonly signature?: Signature;
  /** RFC 3161 timestamp of the statement, when agent.tsa_url is set and the TSA answered. */
  readonly timestamp?: StatementTimestamp;
}

export interface CountedCode {
  readonly code: string;
  readonly count: number;
}

/**
 * A contiguous failure period of one category: what the provider's support desk asks for.
 * `result_flags` and `body_errors` count the classification detail of its failed requests.
 */
export interface Incident extends ClassificationCounts {
  readonly category: string;
  readonly start: IsoInstant;
  /** When a served request showed recovery, else the end of the last failed request. */
  readonly end: IsoInstant;
  readonly duration_ms: number;
  readonly recovered: boolean;
  /** Non-excluded requests from start to end, failed or not. */
  readonly requests: number;
  readonly failed_requests: number;
  /** How the requests failed: status codes ("503") and failure reasons ("timeout"), most frequent first. */
  readonly failures: readonly CountedCode[];
  /** The provider's error codes seen in the failed responses, most frequent first. */
  readonly error_codes: readonly CountedCode[];
  /** The provider's correlation ids of the failed requests, in time order. */
  readonly correlation_ids: readonly string[];
}

/** An hour whose exact p99 exceeded the category's latency objective (listed for latency misses). */
export interface LatencyIncident {
  readonly category: string;
  /** The UTC hour, [start, end). */
  readonly start: IsoInstant;
  readonly end: IsoInstant;
  /** Nearest-rank p99 of the hour's latency-counted durations (timeouts at their probe's timeout). */
  readonly p99_ms: number;
  /** The hour's latency-counted requests. */
  readonly requests: number;
}

export interface UnmonitoredInterval {
  readonly start: IsoInstant;
  readonly end: IsoInstant;
}

/** Who measured what (contract section 10); never a credential. */
export interface ReportContext {
  readonly provider: string;
  readonly region: string;
  /** The agent that wrote the report (its host name); null when not known. */
  readonly agent: string | null;
  readonly agent_version: string;
  /** The targets the probes call, by base URL. */
  readonly targets: readonly { readonly id: string; readonly base_url: string }[];
  /** The claimant (sla.merchant); null when not configured. */
  readonly merchant: { readonly name: string; readonly contact: string } | null;
  /** The agreement's reference (sla.contract_ref); null when not configured. */
  readonly contract_ref: string | null;
  /** The fee credits apply to (sla.monthly_fee); null when not configured. */
  readonly monthly_fee: { readonly amount: number; readonly currency: string } | null;
  /**
   * agent.max_stall_ms in force over the month (contract section 14), each value once in the order
   * loaded: from the configurations the agent recorded, else the given one's. Absent in a merged
   * report from agents that predate it.
   */
  readonly max_stall_ms?: readonly number[];
}

/**
 * The controls and controls_quorum in force when the month began, and each change the agent loaded
 * within it: a provider result is judged by the settings in force when it was sent.
 */
export interface ControlsSection {
  readonly quorum: number;
  readonly controls: readonly string[];
  readonly changes?: readonly {
    readonly loaded_at: IsoInstant;
    readonly quorum: number;
    readonly controls: readonly string[];
  }[];
}

export interface ReportSummary {
  readonly objectives_met: boolean | null;
  /** "category:availability" / "category:latency" / "class:availability" for every objective missed. */
  readonly missed: readonly string[];
}

export interface MonthlyReport {
  readonly month: string;
  readonly generated_at: IsoInstant;
  readonly period: ReportPeriod;
  readonly context: ReportContext;
  /** The figures may still change: the month is open or coverage is under 90% (contract section 10). */
  readonly preliminary: boolean;
  /** Why, in words; empty when final. */
  readonly preliminary_reasons: readonly string[];
  readonly categories: readonly CategoryRow[];
  readonly service_classes: readonly ServiceClassRow[];
  readonly maintenance: MaintenanceSection;
  /** The controls that judged merchant_side (contract section 14); absent when none was configured. */
  readonly controls?: ControlsSection;
  readonly exclusions: readonly ExclusionRow[];
  readonly coverage: Coverage;
  readonly evidence: Evidence;
  readonly summary: ReportSummary;
  /** Requests excluded because the evidence says they were not the provider's (contract section 8). */
  readonly automatic_exclusions: readonly AutomaticExclusionRow[];
  readonly incidents: readonly Incident[];
  /** Hours over the latency objective, for every category that missed it; start order. */
  readonly latency_incidents: readonly LatencyIncident[];
  /** When the agent was not running; empty when no agent ran in the month (imported data). */
  readonly unmonitored: readonly UnmonitoredInterval[];
  /** Stretches with no recorded result at all, for at least the gap threshold. */
  readonly data_gaps: readonly UnmonitoredInterval[];
  readonly daily: readonly DailyRow[];
  /**
   * Oddities that leave the chain intact but concern the figures (src/reports/warnings.ts):
   * records of another agent id, back-dated records, coverage above 1. Absent when none.
   */
  readonly warnings?: readonly string[];
  /** Only with `report --claim`: the letter to the provider (src/reports/claim.ts). */
  readonly claim?: Claim;
  /** Contract section 13: the agent's signature of this whole report (src/reports/signature.ts); absent when unsigned. */
  readonly report_signature?: ReportSignature;
}

/** `report_signature`: Ed25519 over the JCS bytes of the report without it. */
export interface ReportSignature {
  readonly alg: "ed25519";
  readonly key_id: string;
  /** Base64 of the 64 signature bytes. */
  readonly value: string;
}

/** Every objective the report shows as missed, in report order. */
export function missedObjectives(
  categories: readonly CategoryFigures[],
  classes: readonly ServiceClassFigures[],
): string[] {
  const missed: string[] = [];
  for (const c of categories) {
    if (c.availability_met === false) missed.push(`${c.category}:availability`);
    if (c.latency_met === false) missed.push(`${c.category}:latency`);
  }
  for (const s of classes) {
    if (s.availability_met === false) missed.push(`${s.service_class}:availability`);
  }
  return missed;
}
