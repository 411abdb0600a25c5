import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import canonicalize from "canonicalize";
import type { Clock } from "../clock/clock.js";
import { canonicalAddress } from "../model/address.js";
import type { PolicyVersion, WindowVersion } from "../model/config.js";
import { type AgentIdentity, type ProbeResult, withIdentity } from "../model/result.js";
import type { ResultSink } from "../model/sink.js";
import { type EpochMs, type Interval, monthInterval } from "../model/time.js";
import { type BackdatedRecords, backdatedRecordsOf } from "./backdated.js";
import { type BundleInput, writeBundle } from "./evidence/bundle.js";
import { type ChainedResult, type ChainLink, ChainWriter, chainTail } from "./evidence/chain.js";
import { newestCheckpoint, writeCheckpoint } from "./evidence/checkpoints.js";
import {
  adoptedRollbacks,
  appendInput,
  configRecordsOf,
  hasInputLog,
  type InputRecord,
  type InputsOutOfTime,
  inputHead,
  inputRecordsOf,
  inputsOutOfTimeOf,
  latestInputOf,
  newestRecordedTs,
  verifyInputChain,
} from "./evidence/input-log.js";
import { prunedBoundary } from "./evidence/pruned-boundary.js";
import { RollbackGuard, type RollbackRecorded, type WentBack } from "./evidence/rollback-guard.js";
import { commitLegacyPrunedDays } from "./evidence/rollup-commitments.js";
import { type AgentKey, keyFileOf, loadAgentKey, MissingKeyError } from "./evidence/signing.js";
import { disagreement, refusalToSign } from "./evidence/signing-guard.js";
import {
  describeProblem,
  periodWithCheckpoint,
  type VerifyOutcome,
  verifyChain,
  withCheckpoint,
} from "./evidence/verify.js";
import { type PeriodVerification, type VerifiedRecords, verifyPeriod } from "./evidence/verify-period.js";
import type { FeedLeftOut, FeedOutage } from "./feed-reachability.js";
import {
  declaredVersionsOf,
  FeedWindowLedger,
  feedWindowsDisagree,
  policyVersionsOf,
} from "./feed-windows.js";
import { type ImportOutcome, ImportSession } from "./import/import-session.js";
import { type ImportedRecords, importedRecordsOf } from "./imported.js";
import { NotificationLedger } from "./notifications.js";
import { chainHeadOf, queryResults, type ResultQuery } from "./queries.js";
import { type PruneOutcome, pruneEvidence, prunePostponed } from "./retention.js";
import {
  type ExclusionJudge,
  type LatencyOf,
  queryRollups,
  RollupAccumulator,
  type RollupQuery,
  registerRollupFunctions,
  type StoredRollup,
} from "./rollups.js";
import { RESULT_VALUE_COLUMNS, resultOfValues } from "./rows.js";
import { AgentRuns, type RunInterval } from "./runs.js";
import {
  applySizeCap,
  EVIDENCE_FILE,
  fileIdentity,
  IMPORT_CACHE_KIB,
  openReader,
  openWriter,
} from "./schema.js";
import { statementOf } from "./statements.js";
import { resultProblem } from "./validation.js";
import { type StoreHealth, WriteQueue } from "./write-queue.js";

export interface EvidenceStoreOptions {
  readonly dataDir: string;
  readonly clock: Clock;
  /** Raw results older than this are pruned by prune(); rollups are kept. Default 400. */
  readonly retentionDays?: number;
  /** Results kept in memory while the disk is unwritable; beyond, the oldest are dropped. Default 100k. */
  readonly maxBufferedResults?: number;
  /** How long a result waits to be written with others. Default 200 ms. */
  readonly batchMs?: number;
  /** Where the store's state changes go (one line each). Default: stderr. */
  readonly logger?: (line: string, level?: "warn" | "error") => void;
  /** How long a write waits for another writer (an import, say) before counting as a failure. Default 100 ms. */
  readonly busyTimeoutMs?: number;
  /**
   * The writer's page cache between imports, in KiB (an import has IMPORT_CACHE_KIB while it
   * runs). Default: IMPORT_CACHE_KIB throughout; a running agent gives LIVE_CACHE_KIB.
   */
  readonly liveCacheKiB?: number;
  /** A cap on the database file's size; writes beyond fail like a full disk. Default none. */
  readonly maxDatabaseBytes?: number | null;
  /** Whether a result is excluded (maintenance, exclusions), for the rollups. Default: none is. */
  readonly isExcluded?: ExclusionJudge;
  /** The duration a result counts at in the rollups' latency (timeouts at the probe's timeout). Default: as recorded. */
  readonly latencyOf?: LatencyOf;
  /** Per-minute rollups older than this are compacted into hour rollups by prune(). Default 400. */
  readonly minuteRollupDays?: number;
  /**
   * Open an existing store only to read (verify, reports): no file or directory is created and
   * nothing is written. Throws `no evidence store at DIR (evidence.sqlite not found)` if there is none.
   */
  readonly readOnly?: boolean;
  /**
   * The agent's Ed25519 key file (`agent.signing_key_file`); default agent-signing-key.pem in the
   * data directory, created (0600) on first use. The writer signs a checkpoint of the chain head
   * every CHECKPOINT_INTERVAL_MS, after a prune or an import, and on close.
   */
  readonly signingKeyFile?: string | null;
  /** False: write no checkpoints (and create no key). Default true. */
  readonly checkpoints?: boolean;
  /**
   * The agent writing (agent.id, agent.region): stamped on every result that names no agent,
   * live or imported. Null (default): results are stored as they come.
   */
  readonly identity?: AgentIdentity | null;
}

export type { ImportOutcome };

const MAX_BATCH = 5_000;
const NOT_EXCLUDED: ExclusionJudge = () => false;

/** The evidence store: see docs/evidence-store.md. Single writer process at a time for live results. */
/** The signing key is missing from a store that already holds records: no key is minted for it. */
export class NoKeyForRecordsError extends Error {}

export class EvidenceStore implements ResultSink {
  readonly path: string;
  readonly #options: EvidenceStoreOptions;
  readonly #clock: Clock;
  readonly #log: (line: string, level?: "warn" | "error") => void;
  readonly #queue: WriteQueue;
  readonly #listeners = new Set<(batch: readonly ChainedResult[]) => void>();
  #db: Database.Database;
  #fileId: string;
  #reader: Database.Database | null = null;
  readonly #runs: AgentRuns;
  #committed = 0;
  #maxBytes: number | null;
  #closed = false;
  #importing: ImportSession | null = null;
  /** The alert notification queue and alert states (outside the hash chain). */
  readonly notifications = new NotificationLedger(() => this.#writerDb());
  /** The maintenance feed's windows and when each was first seen (outside the hash chain). */
  readonly feedWindows = new FeedWindowLedger(
    () => this.#ownDb(),
    // Signed at the store's clock, not the reading's time (a checkpoint dates what it commits).
    (inputsBefore) =>
      this.#sign(this.#clock.now(), null, {
        resultsAfter: chainTail(this.#db).seq,
        inputsAfter: inputsBefore,
      }),
  );
  #key: AgentKey | null = null;
  /** The store held no record and no anchor when this process opened it (src/record/evidence/signing-guard.ts). */
  #emptyAtOpen = false;
  /** The input chain's head seq when this process opened the store: later input records are its own. */
  #inputsAtOpen = 0;
  /** The results chain's tail seq when this process opened the store: later records are its own. */
  #resultsAtOpen = 0;
  /** Why the head was last not signed; null once a checkpoint was written (or none was refused). */
  #refusal: string | null = null;
  /** The head this process signed and committed, checked against the store (evidence/rollback-guard.ts). */
  readonly #guard = new RollbackGuard();

  constructor(options: EvidenceStoreOptions) {
    this.#options = options;
    this.#clock = options.clock;
    this.#log = options.logger ?? ((line) => process.stderr.write(`${line}\n`));
    this.#maxBytes = options.maxDatabaseBytes ?? null;
    this.path = join(options.dataDir, EVIDENCE_FILE);
    if (options.readOnly && !existsSync(this.path)) {
      throw new Error(`no evidence store at ${options.dataDir} (${EVIDENCE_FILE} not found)`);
    }
    this.#db = options.readOnly ? openReader(this.path, options.busyTimeoutMs ?? 100) : this.#openWriter();
    this.#fileId = fileIdentity(this.path);
    this.#queue = new WriteQueue({
      clock: options.clock,
      batchMs: options.batchMs ?? 200,
      maxBatch: MAX_BATCH,
      maxBuffered: options.maxBufferedResults ?? 100_000,
      logger: this.#log,
      write: (batch) => this.#writeBatch(batch),
      recover: () => this.#reopenIfMoved(),
    });
    this.#runs = new AgentRuns(options.clock, this.#queue, options.identity?.agent ?? null);
    if (!options.readOnly) {
      const db = this.#db;
      db.transaction(() => {
        this.#emptyAtOpen =
          db.prepare("SELECT 1 FROM results UNION ALL SELECT 1 FROM chain_anchors LIMIT 1").get() ===
          undefined;
        this.#inputsAtOpen = inputHead(db).seq;
        this.#resultsAtOpen = chainTail(db).seq;
        // A store pruned before commitments existed: its pruned days committed once, as found, and signed.
        if (commitLegacyPrunedDays(db, options.clock.now()) > 0)
          this.#sign(options.clock.now(), null, this.#ownFromHere());
      }).immediate();
    }
  }

  /**
   * Records an input that decides figures (a configuration as loaded, canonical and without
   * secrets) in the input log, unless the newest record of that kind says the same. Returns the
   * seq of the record that holds it, which a report names.
   */
  recordInput(kind: "config", payload: unknown): number {
    const db = this.#ownDb();
    let signed = false;
    const seq = db
      .transaction(() => {
        const text = canonicalize(payload) ?? "null";
        const latest = latestInputOf(db, kind);
        if (latest?.payload === text) return latest.seq;
        const own = this.#ownFromHere();
        const seq = appendInput(db, kind, this.#clock.now(), payload);
        // Signed as it is written: an input record no checkpoint commits was not written by an agent.
        this.#sign(this.#clock.now(), null, own);
        signed = true;
        return seq;
      })
      .immediate();
    // The configuration record is part of the head this process guards (a reload's, too).
    if (signed) this.#headCommitted();
    return seq;
  }

  /** The store's clock: an import refuses results dated after it (MAX_RESULT_AHEAD_MS). */
  now(): EpochMs {
    return this.#clock.now();
  }

  /** Queues a result for the next batch; it is acknowledged once onCommitted reports it. */
  record(result: ProbeResult): void {
    if (this.#closed) throw new Error("evidence store is closed");
    if (this.#options.readOnly) throw new Error("evidence store was opened read-only");
    const stamped = withIdentity(result, this.identity);
    // Clocks may read fractions of a millisecond; the evidence keeps whole ones.
    const whole = Number.isInteger(stamped.ts) ? stamped : { ...stamped, ts: Math.floor(stamped.ts) };
    const problem = resultProblem(whole);
    if (problem) {
      this.#log(`evidence store: refused a result of probe ${result.probe}: ${problem}`);
      return;
    }
    this.#queue.add(whole);
  }

  flush(): void {
    this.#queue.flush();
  }

  /** The agent whose results this store keeps (stamped on those that name none), or null. */
  get identity(): AgentIdentity | null {
    return this.#options.identity ?? null;
  }

  close(): void {
    if (this.#closed) return;
    this.#importing?.rollback();
    // First: a final write that fails (the store locked, the disk full) must not skip the check.
    this.checkSignedHead();
    this.#queue.flush();
    this.#queue.stop();
    if (!this.#options.readOnly) this.#checkpointNow();
    const left = this.#queue.buffered;
    if (left > 0) this.#log(`evidence store closed with ${left} results it could not write`, "error");
    this.#closed = true;
    this.#reader?.close();
    this.#db.close();
  }

  /** Calls listener after every committed batch with the results it stored (duplicates left out). */
  onCommitted(listener: (batch: readonly ChainedResult[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Results committed by this store object since it was opened. */
  get committedResults(): number {
    return this.#committed;
  }

  health(): StoreHealth {
    return this.#queue.health();
  }

  /** Committed results with from <= ts < to, in ts order (then probe), streamed from disk. */
  results(query: ResultQuery): Iterable<ProbeResult> {
    return queryResults(this.#readerDb(), query);
  }

  /**
   * Whether the probe got an HTTP response sent in [from, to): in the raw results, or, where
   * retention pruned them, in the rollups (a status class counted). What decides target_unreached
   * (src/slo/target-reach.ts) after a restart or in a report, from the evidence itself.
   */
  answeredBetween(probe: string, from: EpochMs, to: EpochMs): boolean {
    const db = this.#readerDb();
    const lo = Math.max(from, Number.MIN_SAFE_INTEGER);
    const hi = Math.min(to, Number.MAX_SAFE_INTEGER);
    const raw = db
      .prepare("SELECT 1 FROM results WHERE ts >= ? AND ts < ? AND probe = ? AND status IS NOT NULL LIMIT 1")
      .get(lo, hi, probe);
    if (raw !== undefined) return true;
    const pruned = this.prunedUntil();
    if (pruned === null || pruned <= lo) return false;
    const rolled = db
      .prepare(
        "SELECT 1 FROM rollups WHERE minute >= ? AND minute < ? AND probe = ? AND count_2xx + count_3xx + count_4xx + count_5xx > 0 LIMIT 1",
      )
      .get(lo, Math.min(hi, pruned), probe);
    return rolled !== undefined;
  }

  /**
   * Whether a response recorded before `before` came from `address` (its `observed.address`,
   * `scheme://ip:port`), compared in canonical form (src/model/address.ts: [::ffff:127.0.0.1] and
   * 0.0.0.0 are 127.0.0.1): a failure that tried an address that answered is not target_unreached
   * (src/slo/target-reach.ts). Reads the distinct addresses that answered before `before` (once
   * per address per report or start, and only for a target that never answered).
   */
  answeredFrom(address: string, before: EpochMs): boolean {
    const wanted = canonicalAddress(address);
    const rows = statementOf(
      this.#readerDb(),
      "SELECT DISTINCT json_extract(observed, '$.address') AS address FROM results WHERE ts < ? AND status IS NOT NULL AND observed IS NOT NULL",
    ).iterate(Math.min(before, Number.MAX_SAFE_INTEGER)) as IterableIterator<{ address: unknown }>;
    for (const { address: answered } of rows) {
      if (typeof answered === "string" && canonicalAddress(answered) === wanted) {
        rows.return?.();
        return true;
      }
    }
    return false;
  }

  /** Stretches overlapping [from, to) in which the maintenance feed could not be read (input log). */
  feedOutages(range: { from: EpochMs; to: EpochMs }): FeedOutage[] {
    return this.feedWindows.outages(range.from, range.to);
  }

  /** Entries of a readable maintenance feed the agent left out during [from, to) (input log). */
  feedLeftOut(range: { from: EpochMs; to: EpochMs }): FeedLeftOut[] {
    return this.feedWindows.leftOut(range.from, range.to);
  }

  rollups(query: RollupQuery): Iterable<StoredRollup> {
    return queryRollups(this.#readerDb(), query);
  }

  /**
   * Where raw results begin after retention pruned some: the start of the day the newest prune
   * record names (every day before it is counted from its rollups, late imports included; see
   * evidence/pruned-boundary.ts). Null when nothing was ever pruned.
   */
  prunedUntil(): EpochMs | null {
    return prunedBoundary(this.#readerDb());
  }

  /** Agent runs overlapping [from, to), this process's own one as up until now. */
  runIntervals(query: { from: EpochMs; to: EpochMs }): RunInterval[] {
    return this.#runs.intervals(this.#readerDb(), query.from, query.to);
  }

  /** The parts of [from, to) when no agent run was up: not the provider's unavailability. */
  unmonitoredIntervals(from: EpochMs, to: EpochMs): Interval[] {
    return this.#runs.unmonitored(this.#readerDb(), from, to);
  }

  /**
   * Where the runs of [from, to) rest on the unsigned `runs` table of a store from before runs were
   * input records: the end of that part (the first signed run's start, or `to`); null when none do.
   */
  unsignedRunsUntil(period: { from: EpochMs; to: EpochMs }): EpochMs | null {
    return this.#runs.unsignedUntil(this.#readerDb(), period.from, period.to);
  }

  /** Records of [from, to) that `import` stored, and those interleaving the agent's own (src/record/imported.ts). */
  importedRecords(
    period: { from: EpochMs; to: EpochMs },
    intervalOf: (probe: string) => number | null,
  ): ImportedRecords | null {
    return importedRecordsOf(this.#readerDb(), period.from, period.to, intervalOf);
  }

  /** Records of [from, to) chained well after newer ones: back-dated (src/record/backdated.ts). */
  backdatedRecords(period: { from: EpochMs; to: EpochMs }): BackdatedRecords | null {
    return backdatedRecordsOf(this.#readerDb(), period.from, period.to);
  }

  /** Input records that decide figures dated out of time (inputsOutOfTimeOf); null: none. */
  inputsOutOfTime(now: EpochMs): InputsOutOfTime | null {
    return inputsOutOfTimeOf(this.#readerDb(), now);
  }

  /** Without a period: the last record's hash. With one: the period digest (docs/evidence-store.md). */
  chainHead(period: { from?: EpochMs; to?: EpochMs } = {}): { records: number; sha256: string } {
    return chainHeadOf(this.#readerDb(), period);
  }

  /** The whole chain, or one month, plus the newest checkpoint against the agent key (when known). */
  verify(options: { month?: string } = {}): VerifyOutcome {
    this.flush();
    const db = this.#readerDb();
    return db.transaction((): VerifyOutcome => {
      if (options.month === undefined) {
        // A store that signs no checkpoints (checkpoints: false) is checked as a chain only.
        if (this.#options.checkpoints === false) return verifyChain(db);
        // Records this process appended after opening count as its own (it signs each batch as it
        // writes it, so these are only batches whose signing it refused, which it logged).
        const ownAfter = this.#options.readOnly ? undefined : this.#resultsAtOpen;
        return withCheckpoint(db, verifyChain(db), this.#publicKeyPem(), undefined, ownAfter);
      }
      const { start, end } = monthInterval(options.month);
      const p = this.#againstCheckpoint(db, verifyPeriod(db, start, end), start, end);
      return p.problem
        ? { ok: false, records: p.records, problem: p.problem }
        : { ok: true, records: p.records, sha256: p.sha256, anchor: p.anchor };
    })();
  }

  /** The period checked against the newest checkpoint, unless this store signs none. */
  #againstCheckpoint(
    db: Database.Database,
    p: PeriodVerification,
    start: EpochMs,
    end: EpochMs,
  ): PeriodVerification {
    if (this.#options.checkpoints === false) return p;
    return periodWithCheckpoint(db, p, this.#publicKeyPem(), { start, end, now: this.#clock.now() });
  }

  /**
   * What a report needs: the period's records re-hashed (digest from the recomputed hashes), its
   * links on both sides, gaps in the chain and the newest checkpoint; problem is the first found.
   * `readAlong` reads the period's records as they are re-hashed, in the same read transaction.
   */
  verifyPeriod(
    period: { from: EpochMs; to: EpochMs },
    readAlong?: (records: VerifiedRecords) => void,
  ): PeriodVerification {
    this.flush();
    // The writer signs its head first: a period must be committed by the newest checkpoint.
    if (!this.#options.readOnly) this.#checkpointNow();
    const db = this.#readerDb();
    return db.transaction((): PeriodVerification => {
      const p = verifyPeriod(db, period.from, period.to, readAlong);
      return this.#againstCheckpoint(db, p, period.from, period.to);
    })();
  }

  /**
   * Writes the evidence bundle of a verified period into dir: its records, everything chained
   * between them and one record on each side, with the signed statement. Returns lines written.
   */
  writeBundle(
    dir: string,
    input: Omit<BundleInput, "fromSeq" | "toSeq">,
    period: PeriodVerification,
  ): number {
    const db = this.#readerDb();
    const anchorSeq = period.anchor?.seq ?? 0;
    const fromSeq = period.firstSeq === 0 ? 1 : Math.max(period.firstSeq - 1, anchorSeq + 1);
    const toSeq = period.lastSeq === 0 ? 0 : period.lastSeq + 1;
    return db.transaction(() => writeBundle(db, dir, { ...input, fromSeq, toSeq }))();
  }

  /** The agent key: loaded (or, for a writer, created) on first use; null when there is none. */
  signingKey(): AgentKey | null {
    if (this.#key) return this.#key;
    const file = keyFileOf(this.#options.dataDir, this.#options.signingKeyFile);
    const signedBy = newestCheckpoint(this.#readerDb())?.keyId ?? null;
    // A new key only for a store this process found empty: one minted for a store holding records
    // (its key and checkpoints deleted) would sign whatever it holds now.
    this.#key = loadAgentKey(file, { create: !this.#options.readOnly && this.#emptyAtOpen, signedBy });
    if (this.#key === null && !this.#options.readOnly && !this.#emptyAtOpen) {
      throw new NoKeyForRecordsError(
        `signing key ${file} is missing and the store already holds records: a key is created only for an empty store; restore the key (docs/evidence-store.md, "A store that cannot be signed")`,
      );
    }
    return this.#key;
  }

  /** The configuration records (input log) in force during [from, to), for the report to name. */
  configRecords(period: { from: EpochMs; to: EpochMs }): InputRecord[] {
    return configRecordsOf(this.#readerDb(), period.from, period.to);
  }

  /** The `adoption` input records (`slo-agent evidence adopt`), oldest first: reports and bundles show them. */
  adoptions(): InputRecord[] {
    return inputRecordsOf(this.#readerDb(), "adoption");
  }

  /** Each `rollback_detected` record an adoption signed over, one sentence each (adoptedRollbacks). */
  adoptedRollbacks(): string[] {
    const db = this.#readerDb();
    return adoptedRollbacks([...inputRecordsOf(db, "rollback_detected"), ...inputRecordsOf(db, "adoption")]);
  }

  /** The newest time any result or input record of the log holds (null: the log is empty). */
  newestRecordedTs(): EpochMs | null {
    return newestRecordedTs(this.#readerDb());
  }

  /**
   * Each declared maintenance window's versions (contract section 14, moved maintenance), from
   * every configuration record of the log: a restart or a report reads the same history. logBegan:
   * when the log's first configuration was loaded; null when it holds none (a store filled by import).
   */
  declaredWindowVersions(): {
    versions: Map<string, WindowVersion[]>;
    logBegan: EpochMs | null;
    policies: PolicyVersion[];
  } {
    const records = configRecordsOf(this.#readerDb(), Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    return {
      versions: declaredVersionsOf(records),
      logBegan: records[0]?.ts ?? null,
      policies: policyVersionsOf(records),
    };
  }

  /**
   * Why this process did not sign the store's head the last time it tried (a sentence naming the
   * first bad record or checkpoint); null when it did not refuse.
   */
  signingRefusal(): string | null {
    return this.#refusal;
  }

  /**
   * `slo-agent evidence adopt`: the operator's explicit decision to sign a store this process
   * would refuse to sign (its checkpoints deleted, an older store, a rotated or lost key, records
   * left unsigned too long). Only a chain and input chain consistent with themselves and with the
   * newest remaining checkpoint (whatever key signed it) are adopted: never one that checkpoint
   * shows rewritten or cut. An `adoption` input record names what was overridden, the head, and
   * what was signed before, and is signed with the agent key (created if it is missing). Returns
   * the refusal overridden (null: nothing needed adopting) and the key id.
   */
  adopt(): { overridden: string | null; keyId: string } {
    if (this.#options.readOnly) throw new Error("evidence store was opened read-only");
    const db = this.#db;
    return db
      .transaction(() => {
        const file = keyFileOf(this.#options.dataDir, this.#options.signingKeyFile);
        this.#key ??= loadAgentKey(file, { create: true });
        const key = this.#key!;
        const overridden = this.#refusalToSign(key, null, this.#ownAtOpen());
        if (overridden !== null) {
          const chain = verifyChain(db);
          if (!chain.ok)
            throw new Error(
              `the chain does not verify, so it is not adopted: ${describeProblem(chain.problem)}`,
            );
          const inputs = verifyInputChain(db);
          if (inputs !== null)
            throw new Error(
              `the input chain does not verify, so it is not adopted: ${inputs.detail} (input seq ${inputs.seq})`,
            );
          const feed = feedWindowsDisagree(db);
          if (feed !== null) throw new Error(`not adopted: ${feed}`);
          const before = newestCheckpoint(db);
          const contradicted =
            before && disagreement(db, before, { emptyAtOpen: false, inputsAtOpen: 0, resultsAtOpen: 0 });
          if (contradicted)
            throw new Error(
              `the store does not extend its newest remaining checkpoint, so it is not adopted: ${contradicted}`,
            );
          const head = chainTail(db);
          appendInput(db, "adoption", this.#clock.now(), {
            overridden,
            head_seq: head.seq,
            head_hash: head.hash.toString("hex"),
            key_id: key.keyId,
            previous_key_id: before?.keyId ?? null,
            previous_checkpoint: before
              ? {
                  head_seq: before.headSeq,
                  head_hash: before.headHash,
                  inputs_seq: before.inputsSeq,
                  created_at: new Date(before.createdAt).toISOString(),
                }
              : null,
          });
        }
        writeCheckpoint(db, key, this.#clock.now());
        this.#refusal = null;
        return { overridden, keyId: key.keyId };
      })
      .immediate();
  }

  /** The key id the newest checkpoint names: the key this store's signatures need; null for none. */
  checkpointKeyId(): string | null {
    return newestCheckpoint(this.#readerDb())?.keyId ?? null;
  }

  /** The agent's public key; null when its file is missing (verification then names the key id). */
  #publicKeyPem(): string | null {
    try {
      return this.signingKey()?.publicKeyPem ?? null;
    } catch (error) {
      if (error instanceof MissingKeyError || error instanceof NoKeyForRecordsError) return null;
      throw error;
    }
  }

  /** Signs the head now (its own transaction); a failure is logged, the next batch retries. */
  #checkpointNow(): void {
    if (this.#options.checkpoints === false) return;
    try {
      const now = this.#clock.now();
      this.#db.transaction(() => this.#sign(now, null, this.#ownFromHere())).immediate();
      this.#headCommitted();
    } catch (error) {
      this.#guard.abandon();
      this.#log(`evidence store: checkpoint not written (${describeCheckpointError(error)})`);
    }
  }

  /**
   * Inside the caller's write transaction: signs the head, unless the store does not extend what
   * was signed before (signing-guard.ts). A refusal is logged as an error naming the first bad
   * record or checkpoint, kept for signingRefusal(), and results go on being recorded unsigned.
   */
  #sign(now: EpochMs, ownAnchor: ChainLink | null, own: OwnWrites): void {
    if (this.#options.checkpoints === false || this.#options.readOnly) return;
    this.#guard.abandon();
    let refusal: string | null;
    let key: AgentKey | null = null;
    try {
      key = this.signingKey();
      const went = key === null ? null : this.#guard.wentBack(this.#db);
      if (went !== null) this.#recordRollback(went);
      refusal = key === null ? null : (went?.message ?? this.#refusalToSign(key, ownAnchor, own));
    } catch (error) {
      refusal = (error as Error).message;
    }
    if (refusal !== null) {
      this.#refused(refusal);
      return;
    }
    if (!key) return;
    writeCheckpoint(this.#db, key, now);
    this.#guard.signing(this.#db, now);
    this.#refusal = null;
  }

  /** Logs a refusal to sign (once per reason) and keeps it for signingRefusal(). */
  #refused(refusal: string): void {
    if (refusal !== this.#refusal)
      this.#log(
        `evidence store: error: not signing the evidence (results are still recorded): ${refusal}`,
        "error",
      );
    this.#refusal = refusal;
  }

  #refusalToSign(key: AgentKey, ownAnchor: ChainLink | null, own: OwnWrites): string | null {
    return refusalToSign(this.#db, key, {
      emptyAtOpen: this.#emptyAtOpen,
      inputsAtOpen: own.inputsAfter,
      resultsAtOpen: own.resultsAfter,
      ownAnchor,
    });
  }

  /** The head the last transaction signed has committed: the store must never go back behind it. */
  #headCommitted(): void {
    this.#guard.committed();
  }

  /** Inside the caller's write transaction: the rollback found, left in the log (once) and logged at error. */
  #recordRollback(went: WentBack): void {
    const seq = this.#guard.record(this.#db, this.#clock.now(), went);
    if (seq === null) return;
    this.#log(
      `evidence store: error: the store went back under this agent: ${went.found} (the head it signed at ${new Date(went.signed.at).toISOString()}); recorded as input record seq ${seq} (rollback_detected), which is not signed, so verify and reports fail until the store is examined; this agent signs nothing more`,
      "error",
    );
  }

  /**
   * The periodic check of a running agent (and the first step of close): whether the store still
   * holds the head this process signed. A rollback found is recorded at once (#recordRollback)
   * rather than at the next batch, which an idle agent stopped right after might never write.
   * Returns the rollback found, or null.
   */
  checkSignedHead(): string | null {
    if (this.#closed || this.#options.readOnly || this.#options.checkpoints === false) return null;
    // An import holds the write transaction: it checks as it signs (#sign), and a record written now would share its fate.
    if (this.#importing !== null) return null;
    let went: WentBack | null = null;
    try {
      went = this.#guard.wentBack(this.#db);
      if (went === null) return null;
      if (!this.#guard.recorded(this.#db))
        this.#db.transaction(() => this.#recordRollback(went!)).immediate();
    } catch (error) {
      this.#log(
        went === null
          ? `evidence store: error: could not check that the store still holds the head this agent signed (${describeCheckpointError(error)})`
          : `evidence store: error: ${went.message}; the rollback record could not be written (${describeCheckpointError(error)})`,
        "error",
      );
      return went?.message ?? null;
    }
    this.#refused(went.message);
    return went.message;
  }

  /** A rollback this process found under it and recorded: the record's seq, when, and what it found; null for none. */
  rollbackDetected(): RollbackRecorded | null {
    return this.#guard.detected();
  }

  /** Nothing is this process's own but what it wrote since it opened the store (and signed as it went). */
  #ownAtOpen(): OwnWrites {
    return { resultsAfter: this.#resultsAtOpen, inputsAfter: this.#inputsAtOpen };
  }

  /** What the current transaction will append after: the heads as it began. */
  #ownFromHere(): OwnWrites {
    return { resultsAfter: chainTail(this.#db).seq, inputsAfter: inputHead(this.#db).seq };
  }

  startRun(now: EpochMs): void {
    this.#runs.start(now);
  }

  heartbeat(now: EpochMs): void {
    this.#runs.heartbeat(now);
  }

  endRun(now: EpochMs): void {
    this.#runs.end(now);
  }

  /** Prunes raw results older than retentionDays (a chain prefix) and anchors the chain there. */
  prune(now: EpochMs): PruneOutcome {
    if (this.#importing) return prunePostponed();
    this.flush();
    const days = {
      results: this.#options.retentionDays ?? 400,
      minuteRollups: this.#options.minuteRollupDays ?? 400,
    };
    // The new anchor is signed in the same transaction: an anchor no checkpoint names fails verify.
    // What the prune appends (its prune record) is its own: the heads as its transaction began.
    let own = this.#ownAtOpen();
    return pruneEvidence(
      this.#db,
      now,
      days,
      this.#log,
      (anchor) => {
        if (this.#options.checkpoints === false) return;
        const key = this.signingKey();
        const refusal = key === null ? "no signing key" : this.#refusalToSign(key, anchor, own);
        if (refusal !== null) throw new Error(refusal);
        writeCheckpoint(this.#db, key!, now);
      },
      // Nothing is pruned from a store that cannot be signed (checked first, in the same transaction).
      () => {
        own = this.#ownFromHere();
        return this.#options.checkpoints === false ? null : this.#pruneRefusal(own);
      },
    );
  }

  /** Why the chain as it is now may not be signed (and so not pruned); null when it may. */
  #pruneRefusal(own: OwnWrites): string | null {
    try {
      const key = this.signingKey();
      return key === null ? null : this.#refusalToSign(key, null, own);
    } catch (error) {
      return (error as Error).message;
    }
  }

  /**
   * Stores a backfill in ts order in one transaction: all of it or, on error, none. A result with
   * the probe + ts of another (or of a stored record) but other content is refused, naming its index.
   */
  importResults(given: readonly ProbeResult[], onProgress?: (done: number) => void): ImportOutcome {
    const results = this.identity ? given.map((result) => withIdentity(result, this.identity)) : given;
    for (const result of results) {
      const problem = resultProblem(result);
      if (problem) throw new RangeError(`cannot import a result of probe ${result.probe}: ${problem}`);
    }
    const session = this.beginImport();
    try {
      session.appendAll(results, onProgress);
      const conflict = session.conflicts[0];
      if (conflict) throw new RangeError(`cannot import result ${conflict.line}: ${conflict.message}`);
    } catch (error) {
      session.rollback();
      throw error;
    }
    return session.commit();
  }

  /**
   * Starts an import written as it arrives, in one transaction held until commit or rollback.
   * Live results wait in memory meanwhile. The caller checks results (resultProblem) first.
   */
  beginImport(): ImportSession {
    if (this.#closed) throw new Error("evidence store is closed");
    if (this.#importing) throw new Error("an import is already in progress on this store");
    this.flush();
    this.#queue.pause();
    // Only what this import's transaction signs may become the guarded head (beforeCommit signs when it stores any).
    this.#guard.abandon();
    const own = this.#ownFromHere();
    this.#db.pragma(`cache_size = -${IMPORT_CACHE_KIB}`);
    const session = new ImportSession(this.#db, {
      isExcluded: this.#options.isExcluded ?? NOT_EXCLUDED,
      latencyOf: this.#options.latencyOf,
      keepAppended: this.#listeners.size > 0,
      // Recorded and signed in the import's own transaction: no crash can leave its records unsigned.
      beforeCommit: (imported, record) => {
        if (record !== null && hasInputLog(this.#db))
          appendInput(this.#db, "import", this.#clock.now(), record);
        if (imported > 0) this.#sign(this.#clock.now(), null, own);
      },
      end: (committed) => {
        this.#importing = null;
        this.#applyLiveCache(this.#db);
        this.#queue.resume();
        if (committed === null) {
          this.#guard.abandon();
          return;
        }
        this.#headCommitted();
        this.#committed += committed.imported;
        if (committed.appended) this.#notify(committed.appended);
      },
    });
    this.#importing = session;
    return session;
  }

  /** Changes the size cap (null removes it); a store that was full resumes at its next retry. */
  setMaxDatabaseBytes(bytes: number | null): void {
    this.#maxBytes = bytes;
    applySizeCap(this.#db, bytes);
  }

  /** Must run inside a write transaction. */
  #append(results: readonly ProbeResult[]): ChainedResult[] {
    const chain = new ChainWriter(this.#db, true);
    const rollups = new RollupAccumulator(this.#options.isExcluded ?? NOT_EXCLUDED, this.#options.latencyOf);
    for (const result of results) {
      const kept = appendLive(this.#db, chain, result);
      if (kept !== null) rollups.add(kept);
    }
    rollups.writeTo(this.#db);
    return chain.appended ?? [];
  }

  #writeBatch(batch: readonly ProbeResult[]): void {
    if (fileIdentity(this.path) !== this.#fileId) {
      throw Object.assign(new Error(`${this.path} vanished or was replaced`), { code: "VANISHED" });
    }
    const write = this.#db.transaction(() => {
      // Signed in the transaction that appends them: an honest writer leaves no record unsigned.
      const own = this.#ownFromHere();
      // The run first: a `run_start` names the results head before its run's first result.
      this.#runs.writeIfChanged(this.#db);
      const appended = this.#append(batch);
      this.#sign(this.#clock.now(), null, own);
      return appended;
    });
    let appended: ChainedResult[];
    try {
      appended = write.immediate();
    } catch (error) {
      // Rolled back: what it signed never was the store's head, so it is never the guarded one.
      this.#guard.abandon();
      throw error;
    }
    this.#headCommitted();
    this.#runs.committed();
    this.#committed += appended.length;
    this.#notify(appended);
  }

  #notify(appended: readonly ChainedResult[]): void {
    if (appended.length === 0) return;
    for (const listener of this.#listeners) {
      try {
        listener(appended);
      } catch (error) {
        this.#log(`evidence store: a commit listener failed: ${(error as Error).message}`);
      }
    }
  }

  /** After the file vanished or was replaced, write to whatever is at the path now (a new file if none). */
  #reopenIfMoved(): void {
    if (fileIdentity(this.path) === this.#fileId) return;
    this.#reader?.close();
    this.#reader = null;
    this.#db.close();
    this.#db = this.#openWriter();
    this.#fileId = fileIdentity(this.path);
    this.#runs.movedToNewFile();
    this.#log(`evidence store: ${this.path} vanished or was replaced; writing to the file now at that path`);
  }

  #openWriter(): Database.Database {
    mkdirSync(this.#options.dataDir, { recursive: true });
    const db = openWriter(this.path, this.#clock, { busyTimeoutMs: this.#options.busyTimeoutMs ?? 100 });
    registerRollupFunctions(db);
    applySizeCap(db, this.#maxBytes);
    this.#applyLiveCache(db);
    return db;
  }

  /** The writer's page cache while no import runs (EvidenceStoreOptions.liveCacheKiB). */
  #applyLiveCache(db: Database.Database): void {
    const kib = this.#options.liveCacheKiB;
    if (kib !== undefined) db.pragma(`cache_size = -${Math.max(1, Math.round(kib))}`);
  }

  #writerDb(): Database.Database {
    if (this.#closed) throw new Error("evidence store is closed");
    if (this.#options.readOnly) throw new Error("evidence store was opened read-only");
    return this.#db;
  }

  /** The writer, or the reader of a read-only store. */
  #ownDb(): Database.Database {
    if (this.#closed) throw new Error("evidence store is closed");
    return this.#db;
  }

  #readerDb(): Database.Database {
    if (this.#closed) throw new Error("evidence store is closed");
    this.#reader ??= openReader(this.path, this.#options.busyTimeoutMs ?? 100);
    return this.#reader;
  }
}

/** Records after these seqs are the calling transaction's own (signing-guard.ts). */
interface OwnWrites {
  readonly resultsAfter: number;
  readonly inputsAfter: number;
}

function describeCheckpointError(error: unknown): string {
  return (error as { code?: string }).code ?? (error as Error).message;
}

/** How far a live probe result is moved past a stored one of the same probe and millisecond. */
const MAX_SAME_MS_SHIFT = 1_000;

/**
 * Appends a live result; returns it as stored, or null when it was not. A result the same as the
 * stored one of its probe and millisecond is a repeat and stays out. One that differs is not: the
 * wall clock stepped back under the agent (NTP, by hand) and dated it where another already is. It
 * is kept a millisecond later (then two, ...): the store's (ts, probe) uniqueness, which makes
 * re-importing a file idempotent, silently dropped a step's failures. A merchant request (traffic)
 * reported twice stays out too.
 */
function appendLive(db: Database.Database, chain: ChainWriter, result: ProbeResult): ProbeResult | null {
  if (chain.append(result)) return result;
  if (result.source === "traffic" || sameAsStored(db, result)) return null;
  for (let shift = 1; shift <= MAX_SAME_MS_SHIFT; shift++) {
    const moved = { ...result, ts: result.ts + shift };
    if (chain.append(moved)) return moved;
  }
  return null;
}

/** Whether the stored result of `result`'s probe and millisecond had the same outcome. */
function sameAsStored(db: Database.Database, result: ProbeResult): boolean {
  const row = statementOf(
    db,
    `SELECT ${RESULT_VALUE_COLUMNS} FROM results WHERE ts = ? AND probe = ? AND ifnull(agent, '') = ? LIMIT 1`,
  )
    .raw(true)
    .get(result.ts, result.probe, result.agent ?? "") as unknown[] | undefined;
  if (row === undefined) return true;
  const stored = resultOfValues(row);
  const outcome = (r: ProbeResult) =>
    JSON.stringify([r.status, r.durationMs, r.error, r.errorCode, r.correlationId, r.serverMs ?? null]);
  return outcome(stored) === outcome(result);
}

export function openEvidenceStore(options: EvidenceStoreOptions): EvidenceStore {
  return new EvidenceStore(options);
}
