/** The evidence store: durable, tamper-evident probe results, rollups and agent runs (docs/evidence-store.md). */

export { BUNDLE_FILES, bundleLine, canonicalOfLine, recomputeScriptSha256 } from "./bundle.js";
export {
  type BundleOutcome,
  type BundlePins,
  BundleUnreadable,
  readBundleFile,
  verifyBundle,
} from "./bundle-verify.js";
export { canonicalForm, chainHash, GENESIS_HASH, PeriodDigest } from "./canonical.js";
export type { ChainedResult, ChainLink } from "./chain.js";
export { checkpointStatement, newestCheckpoint } from "./checkpoints.js";
export type { FeedObservation, FeedWindowLedger, FeedWindowReading } from "./feed-windows.js";
export {
  type ImportFileOptions,
  type ImportFileOutcome,
  type ImportProgress,
  importResultFile,
  type RejectedLine,
  readResultFile,
} from "./import.js";
export type { InputKind, InputRecord } from "./input-log.js";
export { type KnownIds, type ParsedLine, parseResultLine } from "./ndjson.js";
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
export { EVIDENCE_FILE, SCHEMA_VERSION } from "./schema.js";
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
} from "./signing.js";
export { monthStatement, STATEMENT_KIND } from "./statement.js";
export { EvidenceStore, type EvidenceStoreOptions, type ImportOutcome, openEvidenceStore } from "./store.js";
export {
  checkTimestampReply,
  type StatementTimestamp,
  type TimestampRequest,
  type TimestampTokenInfo,
  timestampRequest,
  timestampTokenInfo,
} from "./timestamp.js";
export {
  checkTokenSignature,
  TokenSignatureError,
  type TokenSigner,
  tsaCertificatesOfPem,
} from "./timestamp-signature.js";
export { resultProblem } from "./validation.js";
export {
  type ChainProblem,
  type ChainProblemKind,
  describeProblem,
  type VerifyOutcome,
  verifyEvidence,
} from "./verify.js";
export type { PeriodVerification, VerifiedRecords } from "./verify-period.js";
export { describeWriteError, type StoreHealth } from "./write-queue.js";
