import type { ChainProblem, Signature, Statement, StatementTimestamp } from "../record/index.js";
import { adoptionWarning } from "./adoptions.js";
import type { AdoptionRef, ConfigRecordRef, Evidence, MonthlyReport } from "./model.js";

/** What the report command found when it checked the month's records, and what it signed. */
export interface EvidenceSeal {
  readonly records: number;
  /** The period digest over the records' content (PeriodDigest). */
  readonly sha256: string;
  readonly problem: ChainProblem | null;
  readonly problemText: string | null;
  readonly configSha256: string;
  /** SHA-256 of the shipped recompute.py. */
  readonly recomputeSha256?: string;
  /** The month's seq range in this store's chain (0 and 0 for an empty month). */
  readonly seqs?: { readonly first: number; readonly last: number };
  /** The month's configuration records (input log); empty: none recorded. */
  readonly configRecords?: readonly ConfigRecordRef[];
  /** The configuration given is none the log holds for the month (month-evidence.ts); null: it is one. */
  readonly configWarning?: string | null;
  /** The adoptions the month's figures rest on (src/reports/adoptions.ts); empty: none. */
  readonly adoptions?: readonly AdoptionRef[];
  /** Each `rollback_detected` record an adoption signed over, one sentence each; empty: none. */
  readonly adoptedRollbacks?: readonly string[];
  /** Each change of a figure-deciding setting during the month (month-evidence.ts); empty: none. */
  readonly configChanges?: readonly string[];
  readonly statement: Statement;
  /** Null when no key could be had (a store on read-only media without one). */
  readonly signature: Signature | null;
  /** The TSA's timestamp of the statement; null when none is configured or the TSA failed. */
  readonly timestamp?: StatementTimestamp | null;
}

/**
 * The report with its evidence object as contract section 7 has it: the figures re-derived from
 * the re-hashed records, `verified`, the configuration's digest, the statement and its signature.
 */
export function sealReport(report: MonthlyReport, seal: EvidenceSeal): MonthlyReport {
  const evidence: Evidence = {
    records: seal.records,
    sha256: seal.sha256,
    verified: seal.problem === null,
    ...(seal.problemText === null ? {} : { problem: seal.problemText }),
    config_sha256: seal.configSha256,
    ...(seal.recomputeSha256 ? { recompute_sha256: seal.recomputeSha256 } : {}),
    ...(seal.seqs ? { first_seq: seal.seqs.first, last_seq: seal.seqs.last } : {}),
    ...(seal.configRecords?.length ? { config_records: seal.configRecords } : {}),
    ...(seal.adoptions?.length ? { adoptions: seal.adoptions } : {}),
    ...(report.evidence.imported ? { imported: report.evidence.imported } : {}),
    statement: seal.statement,
    ...(seal.signature === null ? {} : { signature: seal.signature }),
    ...(seal.timestamp ? { timestamp: seal.timestamp } : {}),
  };
  const warnings = [
    ...(seal.configWarning ? [seal.configWarning] : []),
    ...(seal.configChanges ?? []),
    ...(report.warnings ?? []),
    ...(seal.adoptions ?? []).map(adoptionWarning),
    ...(seal.adoptedRollbacks ?? []),
  ];
  return { ...report, evidence, ...(warnings.length > 0 ? { warnings } : {}) };
}

/** The line every format leads with when the evidence did not verify. */
export function unverifiedBanner(evidence: Evidence): string | null {
  if (evidence.verified !== false) return null;
  return `UNVERIFIED: the evidence log did not verify (${evidence.problem ?? "altered"}); these figures cannot be relied on.`;
}
