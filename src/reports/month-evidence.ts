import { createHash } from "node:crypto";
import { configSha256, effectiveConfiguration } from "../config/fingerprint.js";
import type { SloConfig } from "../model/config.js";
import { changeText, differenceText, figureDifferences } from "../model/config-differences.js";
import { type EpochMs, monthInterval } from "../model/time.js";
import {
  type AgentKey,
  describeProblem,
  type EvidenceStore,
  keyFileOf,
  loadAgentKey,
  MissingKeyError,
  monthStatement,
  type PeriodVerification,
  recomputeScriptSha256,
  type Statement,
  type VerifiedRecords,
} from "../record/index.js";
import { AGENT_VERSION } from "../version.js";
import { monthAdoptions } from "./adoptions.js";
import type { EvidenceSeal } from "./evidence.js";
import { formatDuration } from "./format.js";
import type { AdoptionRef, ConfigRecordRef } from "./model.js";

export interface SealInput {
  readonly command: string;
  readonly store: EvidenceStore;
  readonly config: SloConfig;
  readonly dataDir: string;
  readonly month: string;
  readonly now: EpochMs;
  /** Whether a statement that cannot be signed is an error (export) or a warning (report). */
  readonly signatureRequired: boolean;
  /** Reads the month's records in the verification's pass (the report's build). */
  readonly readAlong?: (records: VerifiedRecords) => void;
  /** Told, as one line, why the statement is not signed (when that is allowed). */
  readonly warn: (line: string) => void;
}

/** The agent key the statement must be signed with cannot be had (signatureRequired). */
export class AgentKeyError extends Error {}

/**
 * The agent key of a data directory (or agent.signing_key_file), never created here (the writer that
 * first fills an empty store creates it). A store without a key is still reported on: unsigned,
 * with a warning (required: exit 2).
 */
export function agentKeyFor(
  command: string,
  config: SloConfig,
  dataDir: string,
  required: boolean,
  warn: (line: string) => void,
  signedBy: string | null = null,
): AgentKey | null {
  try {
    // Never created here: a key minted for a store that already holds records (its key and
    // checkpoints deleted) would sign whatever it holds (docs/evidence-store.md, "Signed checkpoints").
    const file = keyFileOf(dataDir, config.agent.signingKeyFile);
    const key = loadAgentKey(file, { create: false, signedBy });
    if (key !== null) return key;
    const why = `no signing key at ${file}: the agent or an import creates it when it first writes to an empty store`;
    if (required) throw new AgentKeyError(`${command}: ${why}`);
    warn(`${command}: warning: the statement is not signed: ${why}`);
    return null;
  } catch (error) {
    // A key the checkpoints need is missing: the verification already names it (exit 1).
    if (required && !(error instanceof MissingKeyError))
      throw new AgentKeyError(`${command}: ${(error as Error).message}`);
    warn(`${command}: warning: the statement is not signed: ${(error as Error).message}`);
    return null;
  }
}

/** A month's records re-checked, and the statement over them signed. */
export interface MonthEvidence {
  readonly verification: PeriodVerification;
  readonly problemText: string | null;
  readonly configSha256: string;
  /** The month's configuration records, and the payload (JCS) of the one config_sha256 names; null: none is. */
  readonly configRecords: readonly ConfigRecordRef[];
  readonly recordedConfiguration: string | null;
  /** The configuration given is none the log holds for the month: what differs (every format shows it). */
  readonly configWarning: string | null;
  readonly adoptions: readonly AdoptionRef[];
  /** Each `rollback_detected` record an adoption signed over, one sentence each: a warning in every format. */
  readonly adoptedRollbacks: readonly string[];
  /** Each change of a figure-deciding setting between the month's configuration records: a warning in every format. */
  readonly configChanges: readonly string[];
  readonly statement: Statement;
  readonly key: AgentKey | null;
}

/** Verifies the month's records in the store and signs the statement about them. */
export function monthEvidence(input: SealInput): MonthEvidence {
  const { start, end } = monthInterval(input.month);
  const verification = input.store.verifyPeriod({ from: start, to: end }, input.readAlong);
  // After the pass: a report refused by its build (an unknown --category) creates no key.
  const key = agentKeyFor(
    input.command,
    input.config,
    input.dataDir,
    input.signatureRequired,
    input.warn,
    input.store.checkpointKeyId(),
  );
  const config = configSha256(input.config);
  const statement = monthStatement({
    month: input.month,
    verification,
    configSha256: config,
    agent: input.config.agent.id,
    agentVersion: AGENT_VERSION,
    generatedAt: input.now,
  });
  const problemText = verification.problem ? describeProblem(verification.problem) : null;
  const records = input.store.configRecords({ from: start, to: end });
  const configRecords = records.map((r) => ({
    seq: r.seq,
    loaded_at: new Date(r.ts).toISOString(),
    sha256: createHash("sha256").update(r.payload, "utf8").digest("hex"),
  }));
  const recorded = records.find((_r, i) => configRecords[i]!.sha256 === config);
  const newest = records.at(-1);
  const configWarning =
    newest && !recorded
      ? unrecordedConfigWarning(
          input,
          config,
          newest,
          records.map((r) => r.seq),
        )
      : null;
  if (configWarning !== null) input.warn(`${input.command}: warning: ${configWarning}`);
  return {
    verification,
    problemText,
    configSha256: config,
    configRecords,
    recordedConfiguration: recorded?.payload ?? null,
    configWarning,
    adoptions: monthAdoptions(input.store.adoptions(), start, verification.firstSeq),
    adoptedRollbacks: input.store.adoptedRollbacks(),
    configChanges: configChangeWarnings(records, input.month, Math.min(end, input.now)),
    statement,
    key,
  };
}

/**
 * Each change in what decides figures and verdicts between consecutive configuration records in
 * force in the month (the newest loaded before it and each loaded inside it), with how long the
 * changed one was in force: until the next record, else until the month's end (or now). A forged
 * slo.yaml reloaded for two seconds and reverted leaves two such warnings (AUDIT-23f finding 4).
 * Declared maintenance windows are left out: each window's versions are its own history.
 */
function configChangeWarnings(
  records: readonly { readonly seq: number; readonly ts: number; readonly payload: string }[],
  month: string,
  until: number,
): string[] {
  const parsed = records.map((r) => ({ ...r, config: JSON.parse(r.payload) as unknown }));
  return parsed.flatMap((record, i) => {
    const before = parsed[i - 1];
    if (!before) return [];
    // A record without categories (a test's or an old store's stand-in) is no configuration.
    const isConfig = (c: unknown) => typeof c === "object" && c !== null && "categories" in c;
    if (!isConfig(record.config) || !isConfig(before.config)) return [];
    const changes = figureDifferences(record.config, before.config).filter(
      (d) => !d.path.startsWith("maintenance.windows"),
    );
    if (changes.length === 0) return [];
    const next = parsed[i + 1];
    const end = next ? next.ts : Math.max(record.ts, until);
    const shown = changes.slice(0, 12).map(changeText);
    if (changes.length > shown.length) shown.push(`and ${changes.length - shown.length} more`);
    const held = next ? `until input record ${next.seq}` : "to the end of what this report covers";
    return [
      `the configuration the agent ran with changed during ${month} in what decides figures and verdicts: ${shown.join("; ")} from ${new Date(record.ts).toISOString()} for ${formatDuration(end - record.ts)} (input record ${record.seq} against input record ${before.seq}, in force ${held})`,
    ];
  });
}

/**
 * The configuration given (slo.yaml as it is now) against the newest the log holds for the month,
 * naming each difference that decides a figure or a verdict (src/model/config-differences.ts).
 */
function unrecordedConfigWarning(
  input: SealInput,
  config: string,
  newest: { readonly seq: number; readonly payload: string },
  seqs: readonly number[],
): string {
  const differences = figureDifferences(effectiveConfiguration(input.config), JSON.parse(newest.payload));
  const shown = differences.slice(0, 12).map((d) => differenceText(d, "report"));
  if (differences.length > shown.length) shown.push(`and ${differences.length - shown.length} more`);
  const what =
    differences.length === 0
      ? `it differs from the newest (input record ${newest.seq}) in nothing these figures and verdicts are computed with`
      : `against the newest (input record ${newest.seq}) it differs in what decides figures and verdicts: ${shown.join("; ")}; these figures and verdicts are computed with the configuration given, not the one the agent ran with`;
  return `the configuration given to this report (config_sha256 ${config}) is none of the configurations the agent recorded for ${input.month} (input records ${seqs.join(", ")}): ${what}.`;
}

export function sealOf(evidence: MonthEvidence): EvidenceSeal {
  return {
    records: evidence.verification.records,
    sha256: evidence.verification.sha256,
    problem: evidence.verification.problem,
    problemText: evidence.problemText,
    configSha256: evidence.configSha256,
    recomputeSha256: recomputeScriptSha256(),
    seqs: { first: evidence.verification.firstSeq, last: evidence.verification.lastSeq },
    configRecords: evidence.configRecords,
    configWarning: evidence.configWarning,
    adoptions: evidence.adoptions,
    adoptedRollbacks: evidence.adoptedRollbacks,
    configChanges: evidence.configChanges,
    statement: evidence.statement,
    signature: evidence.key?.sign(evidence.statement) ?? null,
  };
}
