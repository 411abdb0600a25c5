import type { EpochMs } from "../../model/time.js";
import type { Statement } from "./signing.js";
import type { PeriodVerification } from "./verify-period.js";

/** What a monthly statement says; the signature covers its JCS bytes (contract section 7). */
export interface MonthStatementInput {
  readonly month: string;
  readonly verification: PeriodVerification;
  readonly configSha256: string;
  /** Names the agent that signs: its host name. */
  readonly agent: string;
  readonly agentVersion: string;
  readonly generatedAt: EpochMs;
}

export const STATEMENT_KIND = "slo-agent/monthly-evidence/v1";

/**
 * The monthly statement: strings and integers only, and only what the records say, never where
 * one store chained them: the same records imported in any order or split give the same bytes
 * (contract section 13). The seq range is the report's (`evidence.first_seq`/`last_seq`, under
 * report_signature) and the bundle's (records.ndjson up to the signed checkpoint). `chain` says
 * whether the records verified when it was made ("verified") or not ("UNVERIFIED"), so a
 * statement over altered evidence can never pass for one over intact evidence.
 */
export function monthStatement(input: MonthStatementInput): Statement {
  const v = input.verification;
  return {
    kind: STATEMENT_KIND,
    month: input.month,
    records: v.records,
    sha256: v.sha256,
    config_sha256: input.configSha256,
    agent: input.agent,
    agent_version: input.agentVersion,
    generated_at: new Date(input.generatedAt).toISOString(),
    chain: v.problem === null ? "verified" : "UNVERIFIED",
  };
}
