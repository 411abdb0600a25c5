/** The evidence store: durable, tamper-evident probe results, rollups and agent runs (docs/evidence-store.md). */

export { BACKDATED_BEHIND_MS, type BackdatedRecords } from "./backdated.js";
export { type Anchor, AnchorImprintMismatch, type AnchorRequest } from "./evidence/anchor.js";
export { BUNDLE_FILES, bundleLine, canonicalOfLine, recomputeScriptSha256 } from "./evidence/bundle.js";
export {
  type BundleOutcome,
  type BundlePins,
  BundleUnreadable,
  readBundleFile,
  verifyBundle,
} from "./evidence/bundle-verify.js";
export { canonicalForm, chainHash, GENESIS_HASH, PeriodDigest } from "./evidence/canonical.js";
export type { ChainedResult, ChainLink } from "./evidence/chain.js";
export { checkpointStatement, newestCheckpoint } from "./evidence/checkpoints.js";
export type { InputKind, InputRecord, InputsOutOfTime } from "./evidence/input-log.js";
export { RFC3161_ANCHOR } from "./evidence/rfc3161-anchor.js";
export {
  AgentKey,
  DEFAULT_KEY_FILE,
  keyFileOf,
  loadAgentKey,
  MissingKeyError,
  type Signature,
  type Statement,
  signatureValid,
  statementBytes,
} from "./evidence/signing.js";
export { monthStatement, STATEMENT_KIND } from "./evidence/statement.js";
export {
  checkTimestampReply,
  type StatementTimestamp,
  type TimestampRequest,
  type TimestampTokenInfo,
  timestampRequest,
  timestampTokenInfo,
} from "./evidence/timestamp.js";
export {
  checkTokenSignature,
  TokenSignatureError,
  type TokenSigner,
  tsaCertificatesOfPem,
} from "./evidence/timestamp-signature.js";
export {
  type ChainProblem,
  type ChainProblemKind,
  describeProblem,
  type VerifyOutcome,
  verifyEvidence,
} from "./evidence/verify.js";
export type { PeriodVerification, VerifiedRecords } from "./evidence/verify-period.js";
export type { FeedLeftOut, FeedOutage, FeedReachability, LeftOutWindow } from "./feed-reachability.js";
export type { FeedObservation, FeedWindowLedger, FeedWindowReading } from "./feed-windows.js";
export {
  type ImportFileOptions,
  type ImportFileOutcome,
  type ImportProgress,
  importResultFile,
  type RejectedLine,
  readResultFile,
} from "./import/import.js";
export { type KnownIds, type ParsedLine, parseResultLine } from "./import/ndjson.js";
export { CONSECUTIVE_RUNS_WITHIN, type ImportedRecords } from "./imported.js";
export type {
  AlertStates,
  NotificationLedger,
  NotificationToQueue,
  QueuedNotification,
} from "./notifications.js";
export type { ResultQuery } from "./queries.js";
export type { PruneOutcome } from "./retention.js";
export type { ExclusionJudge, LatencyOf, RollupQuery, StoredRollup } from "./rollups.js";
export type { RunInterval } from "./runs.js";
export { RollupsDisagreeError } from "./runs-error.js";
export { EVIDENCE_FILE, LIVE_CACHE_KIB, SCHEMA_VERSION } from "./schema.js";
export {
  EvidenceStore,
  type EvidenceStoreOptions,
  type ImportOutcome,
  NoKeyForRecordsError,
  openEvidenceStore,
} from "./store.js";
export { resultProblem } from "./validation.js";
export { describeWriteError, type StoreHealth } from "./write-queue.js";
