import { createHash, createPublicKey, verify } from "node:crypto";
import type Database from "better-sqlite3";
import type { EpochMs } from "../../model/time.js";
import { feedWindowsDisagree } from "../feed-windows.js";
import { statementOf } from "../statements.js";
import { GENESIS_HASH } from "./canonical.js";
import { chainTail, latestAnchor } from "./chain.js";
import {
  describeRollbackRecord,
  hasInputLog,
  inputHead,
  rollbackRecordAfter,
  verifyInputChain,
} from "./input-log.js";
import { type AgentKey, keyIdOf, type Statement, signatureValid, statementBytes } from "./signing.js";

/** How far apart the checkpoints an agent keeps are (store clock); it signs every batch in between (writeCheckpoint). */
export const CHECKPOINT_INTERVAL_MS = 5 * 60_000;

/** A signed checkpoint: the chain head and the newest anchor at one moment. */
export interface Checkpoint {
  readonly id: number;
  readonly headSeq: number;
  readonly headHash: string;
  readonly anchorSeq: number;
  readonly anchorHash: string;
  readonly createdAt: EpochMs;
  readonly keyId: string;
  readonly signature: Buffer;
  /** The input chain's head (input-log.ts); null in checkpoints signed before it existed. */
  readonly inputsSeq: number | null;
  readonly inputsHash: string | null;
  /** SHA-256 (hex) of the previous checkpoint's signed bytes; null for the first, and before chaining. */
  readonly previousSha256: string | null;
}

/** What a checkpoint's signature covers (JCS bytes of this object). */
export function checkpointStatement(c: Omit<Checkpoint, "id" | "keyId" | "signature">): Statement {
  const statement: Record<string, string | number> = {
    kind: "slo-agent/checkpoint/v1",
    head_seq: c.headSeq,
    head_hash: c.headHash,
    anchor_seq: c.anchorSeq,
    anchor_hash: c.anchorHash,
    created_at: new Date(c.createdAt).toISOString(),
  };
  // Only when present: checkpoints signed before the input chain still verify as they were signed.
  if (c.inputsSeq !== null && c.inputsHash !== null) {
    statement.inputs_seq = c.inputsSeq;
    statement.inputs_hash = c.inputsHash;
  }
  if (c.previousSha256 !== null) statement.previous_sha256 = c.previousSha256;
  return statement;
}

/** What the next checkpoint chains to: SHA-256 (hex) of this one's signed bytes. */
export function checkpointDigest(c: Omit<Checkpoint, "id" | "keyId" | "signature">): string {
  return createHash("sha256")
    .update(statementBytes(checkpointStatement(c)))
    .digest("hex");
}

/**
 * Signs the current head and anchor, inside the write transaction that moved them (so the head
 * cannot move meanwhile, and a crash leaves records and their signature together or neither): an
 * honest writer never leaves a record unsigned, so one found unsigned was not written by it
 * (signing-guard.ts). Nothing is written when the newest checkpoint already names the head, the
 * anchor and the input head and is less than CHECKPOINT_INTERVAL_MS old. Checkpoints are kept
 * about CHECKPOINT_INTERVAL_MS apart: while the one before the newest is younger than that, the
 * newest (when this key signed it) is signed again in place over the new head, chained to the same
 * predecessor, instead of adding a row per batch. Returns whether it wrote one.
 */
export function writeCheckpoint(db: Database.Database, key: AgentKey, now: EpochMs): boolean {
  const tail = chainTail(db);
  const anchor = latestAnchor(db) ?? { seq: 0, hash: GENESIS_HASH };
  const newest = newestCheckpoint(db);
  const inputs = inputHead(db);
  if (
    newest &&
    newest.headSeq === tail.seq &&
    newest.headHash === tail.hash.toString("hex") &&
    newest.anchorSeq === anchor.seq &&
    newest.anchorHash === anchor.hash.toString("hex") &&
    newest.inputsSeq === inputs.seq &&
    newest.inputsHash === inputs.hash &&
    now - newest.createdAt < CHECKPOINT_INTERVAL_MS
  )
    return false;
  const before = newest ? checkpointBefore(db, newest.id) : undefined;
  const replace =
    newest !== undefined &&
    before !== undefined &&
    newest.keyId === key.keyId &&
    now - before.createdAt < CHECKPOINT_INTERVAL_MS;
  const previous = replace ? before : newest;
  const body = {
    headSeq: tail.seq,
    headHash: tail.hash.toString("hex"),
    anchorSeq: anchor.seq,
    anchorHash: anchor.hash.toString("hex"),
    createdAt: now,
    inputsSeq: inputs.seq,
    inputsHash: inputs.hash,
    previousSha256: previous ? checkpointDigest(previous) : null,
  };
  const signature = key.signBytes(statementBytes(checkpointStatement(body)));
  const values = [
    body.headSeq,
    body.headHash,
    body.anchorSeq,
    body.anchorHash,
    now,
    key.keyId,
    signature,
    body.inputsSeq,
    body.inputsHash,
    body.previousSha256,
  ];
  if (replace) {
    statementOf(
      db,
      `UPDATE checkpoints SET head_seq = ?, head_hash = unhex(?), anchor_seq = ?, anchor_hash = unhex(?),
         created_at = ?, key_id = ?, signature = ?, inputs_seq = ?, inputs_hash = unhex(?), previous_sha256 = unhex(?)
       WHERE id = ?`,
    ).run(...values, newest.id);
  } else {
    statementOf(
      db,
      `INSERT INTO checkpoints (head_seq, head_hash, anchor_seq, anchor_hash, created_at, key_id, signature,
         inputs_seq, inputs_hash, previous_sha256)
       VALUES (?, unhex(?), ?, unhex(?), ?, ?, ?, ?, unhex(?), unhex(?))`,
    ).run(...values);
  }
  return true;
}

function checkpointBefore(db: Database.Database, id: number): Checkpoint | undefined {
  return statementOf(
    db,
    `SELECT ${checkpointColumns(db)} FROM checkpoints WHERE id < ? ORDER BY id DESC LIMIT 1`,
  ).get(id) as Checkpoint | undefined;
}

export function newestCheckpoint(db: Database.Database): Checkpoint | undefined {
  if (!hasCheckpointTable(db)) return undefined;
  return statementOf(db, `SELECT ${checkpointColumns(db)} FROM checkpoints ORDER BY id DESC LIMIT 1`).get() as
    | Checkpoint
    | undefined;
}

/** A store opened read-only may predate the input chain and the checkpoint columns naming its head. */
export function checkpointColumns(db: Database.Database): string {
  const inputs = hasInputLog(db)
    ? "inputs_seq AS inputsSeq, lower(hex(inputs_hash)) AS inputsHash"
    : "NULL AS inputsSeq, NULL AS inputsHash";
  const chained = statementOf(
    db,
    "SELECT 1 FROM pragma_table_info('checkpoints') WHERE name = 'previous_sha256'",
  ).get();
  // hex(NULL) is '', not NULL.
  const previous = chained
    ? "CASE WHEN previous_sha256 IS NULL THEN NULL ELSE lower(hex(previous_sha256)) END AS previousSha256"
    : "NULL AS previousSha256";
  return `id, head_seq AS headSeq, lower(hex(head_hash)) AS headHash, anchor_seq AS anchorSeq,
    lower(hex(anchor_hash)) AS anchorHash, created_at AS createdAt, key_id AS keyId, signature, ${inputs},
    ${previous}`;
}

/** A store opened read-only may predate the checkpoints table. */
function hasCheckpointTable(db: Database.Database): boolean {
  return (
    statementOf(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'").get() !==
    undefined
  );
}

/** What is wrong with the store against its newest signed checkpoint, as one sentence; null if nothing. */
export interface CheckpointFinding {
  readonly seq: number;
  readonly kind: "altered" | "missing";
  readonly detail: string;
}

/**
 * A period that must be committed by the newest checkpoint: its records' seq range, and its end
 * when that has passed (`now`), so that a checkpoint signed before it cannot stand for it.
 */
export interface PeriodCommitment {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly end: EpochMs;
  readonly now: EpochMs;
}

/**
 * Checks the newest checkpoint: it is signed by the agent's key (a missing key is a finding
 * naming the key the checkpoints need, never a silent skip), the store's newest anchor is the one
 * it signed, and the record it signed as head is still there with the same hash. With a period:
 * the period's records are at or before that head (else they are not committed), and, for a
 * period that has ended, the checkpoint was signed after its end (else the log was rolled back
 * to an older checkpoint, or never signed since). With a period or without, no record may follow
 * that head unsigned (bar those after `ownAfter`, the caller's own). The chain walk ties every record up to the head
 * to the signature; when the head was rewritten, the first signed checkpoint the stored chain no
 * longer matches is named, as near as the checkpoints get to where the rewrite began.
 */
export function checkCheckpoint(
  db: Database.Database,
  publicKeyPem: string | null,
  period?: PeriodCommitment,
  ownAfter = Number.POSITIVE_INFINITY,
): CheckpointFinding | null {
  const c = newestCheckpoint(db);
  if (!c) {
    if (period === undefined) return unsignedRecords(db);
    if (period.lastSeq === 0) return null;
    return {
      seq: period.firstSeq,
      kind: "missing",
      detail: `no signed checkpoint commits records seq ${period.firstSeq}..${period.lastSeq}: the store's checkpoints were deleted, or it was never signed`,
    };
  }
  const when = new Date(c.createdAt).toISOString();
  const keyProblem = keyFinding(c, publicKeyPem);
  if (keyProblem) return keyProblem;
  if (!signatureValid(statementBytes(checkpointStatement(c)), c.signature, publicKeyPem!)) {
    return {
      seq: c.headSeq,
      kind: "altered",
      detail: `the checkpoint of ${when} (head seq ${c.headSeq}) is not signed by the agent's key (rewritten or forged)`,
    };
  }
  const anchor = latestAnchor(db) ?? { seq: 0, hash: GENESIS_HASH };
  const anchorHash = anchor.hash.toString("hex");
  if (anchor.seq !== c.anchorSeq || anchorHash !== c.anchorHash) {
    return {
      seq: anchor.seq,
      kind: "altered",
      detail: `chain anchor at seq ${anchor.seq} is not the one the signed checkpoint of ${when} names (seq ${c.anchorSeq}): forged or replaced`,
    };
  }
  const head = c.headSeq === c.anchorSeq ? null : headFinding(db, c, publicKeyPem!, anchor.seq);
  return (
    head ??
    inputsFinding(db, c) ??
    everyCheckpointFinding(db, publicKeyPem!, anchor.seq) ??
    // A period's figures read past it too (a crashed run's end, the newest records): an unsigned
    // tail, whatever it is dated, fails a month as it fails the whole chain.
    (period ? commitmentFinding(c, period) : null) ??
    tailFinding(db, c, ownAfter)
  );
}

/**
 * Records after the newest checkpoint's head are pinned only by the chain: an honest writer signs
 * each batch in the transaction that appends it, so none is left unsigned, not even by a crash.
 * Unsigned ones show newer checkpoints deleted (and the records after this one rewritten, cut or
 * added), or an agent that recorded without its key. Records after seq `ownAfter` were written by
 * the calling process.
 */
function tailFinding(db: Database.Database, c: Checkpoint, ownAfter: number): CheckpointFinding | null {
  const unsigned = db
    .prepare("SELECT seq FROM results WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 1")
    .get(c.headSeq, Math.min(ownAfter, Number.MAX_SAFE_INTEGER)) as { seq: number } | undefined;
  if (!unsigned) return null;
  return {
    seq: unsigned.seq,
    kind: "missing",
    detail: `unsigned after the newest signed checkpoint (of ${new Date(c.createdAt).toISOString()}, head seq ${c.headSeq}): an agent signs each batch as it writes it, so newer checkpoints were deleted, or the records were added without the key or while the agent could not sign (docs/evidence-store.md, "What a writer signs")`,
  };
}

/** Records, and a checkpoint table, but no checkpoint: every checkpoint was deleted (or never written). */
function unsignedRecords(db: Database.Database): CheckpointFinding | null {
  if (!hasCheckpointTable(db)) return null;
  const [lo, hi] = db.prepare("SELECT min(seq), max(seq) FROM results").raw(true).get() as [
    number | null,
    number | null,
  ];
  if (lo === null || hi === null) return null;
  return {
    seq: lo,
    kind: "missing",
    detail: `no signed checkpoint commits records seq ${lo}..${hi}: the store's checkpoints were deleted, or it was never signed (docs/evidence-store.md, "A store that cannot be signed")`,
  };
}

/**
 * Every checkpoint, not just the newest: each naming the agent's key signed by it (one of an earlier
 * key, before a rotation or an adoption, is pinned by the chain where it is chained), chained to the one before it by
 * previous_sha256 once chaining began, and still naming the hash the store holds at its head seq
 * and input seq (unless pruned). An older checkpoint that disagrees with the chain shows a rewrite
 * that a later checkpoint was signed over; one deleted between two others breaks the chain.
 */
function everyCheckpointFinding(
  db: Database.Database,
  publicKeyPem: string,
  anchorSeq: number,
): CheckpointFinding | null {
  const key = createPublicKey(publicKeyPem);
  const agentKeyId = keyIdOf(key);
  const rows = db
    .prepare(`SELECT ${checkpointColumns(db)} FROM checkpoints ORDER BY id`)
    .iterate() as Iterable<Checkpoint>;
  const resultHash = db.prepare("SELECT lower(hex(hash)) FROM results WHERE seq = ?").pluck();
  const inputHash = hasInputLog(db)
    ? db.prepare("SELECT lower(hex(hash)) FROM input_records WHERE seq = ?").pluck()
    : null;
  let previous: Checkpoint | null = null;
  let chaining = false;
  for (const c of rows) {
    const named = `the signed checkpoint of ${new Date(c.createdAt).toISOString()} (head seq ${c.headSeq})`;
    const at = (kind: "altered" | "missing", detail: string): CheckpointFinding => ({
      seq: c.headSeq,
      kind,
      detail: `${named}: ${detail}`,
    });
    if (c.previousSha256 !== null) {
      if (previous === null || c.previousSha256 !== checkpointDigest(previous))
        return at(
          "missing",
          "the checkpoint it chains to (previous_sha256) is not the one before it: checkpoints deleted or replaced",
        );
      chaining = true;
    } else if (chaining) {
      return at("altered", "it chains to no checkpoint although the ones before it are chained: inserted");
    }
    // One of an earlier key (before a rotation) cannot be checked here; it must still agree below.
    if (c.keyId === agentKeyId && !verify(null, statementBytes(checkpointStatement(c)), key, c.signature))
      return at("altered", "it is not signed by the agent's key (rewritten or forged)");
    if (c.headSeq > anchorSeq && c.headSeq > c.anchorSeq) {
      const stored = resultHash.get(c.headSeq) as string | undefined;
      if (stored === undefined)
        return at("missing", `record seq ${c.headSeq}, its head, is missing: records deleted`);
      if (stored !== c.headHash)
        return at(
          "altered",
          "its head record no longer has the hash it signed: the chain was rewritten at or before it, and a later checkpoint was signed over the rewrite",
        );
    }
    if (inputHash !== null && c.inputsSeq !== null && c.inputsSeq > 0 && c.inputsHash !== null) {
      if (inputHash.get(c.inputsSeq) !== c.inputsHash)
        return at(
          "altered",
          `input record seq ${c.inputsSeq}, its input head, is not the one it signed: the input chain was rewritten`,
        );
    }
    previous = c;
  }
  return null;
}

/** The key ids the store's checkpoints name, oldest first: what a provider compares with the published one. */
export function checkpointKeyIds(db: Database.Database): string[] {
  if (!hasCheckpointTable(db)) return [];
  return db
    .prepare("SELECT key_id FROM checkpoints GROUP BY key_id ORDER BY min(id)")
    .pluck()
    .all() as string[];
}

/** The key the checkpoint names must be the agent's, and the agent's key must be there to check it. */
function keyFinding(c: Checkpoint, publicKeyPem: string | null): CheckpointFinding | null {
  if (publicKeyPem === null) {
    return {
      seq: c.headSeq,
      kind: "missing",
      detail: `the signing key ${c.keyId} that the checkpoints need is missing: restore agent.signing_key_file (or the data directory's agent-signing-key.pem); no checkpoint can be checked without it`,
    };
  }
  const keyId = keyIdOf(createPublicKey(publicKeyPem));
  if (keyId === c.keyId) return null;
  return {
    seq: c.headSeq,
    kind: "altered",
    detail: `the newest checkpoint (head seq ${c.headSeq}) names key ${c.keyId}, not the agent's key ${keyId}: forged, or the key was replaced`,
  };
}

function headFinding(
  db: Database.Database,
  c: Checkpoint,
  publicKeyPem: string,
  anchorSeq: number,
): CheckpointFinding | null {
  const when = new Date(c.createdAt).toISOString();
  const stored = db.prepare("SELECT lower(hex(hash)) FROM results WHERE seq = ?").pluck().get(c.headSeq) as
    | string
    | undefined;
  if (stored === c.headHash) return null;
  const first = firstBrokenCheckpoint(db, publicKeyPem);
  if (first && first.id !== c.id) {
    return {
      seq: first.headSeq,
      kind: "altered",
      detail: `its hash is not the one the signed checkpoint of ${new Date(first.createdAt).toISOString()} names: the chain was rewritten at or before this record, and every newer checkpoint disagrees too`,
    };
  }
  if (stored === undefined) {
    const newest = (db.prepare("SELECT max(seq) FROM results").pluck().get() as number | null) ?? anchorSeq;
    return {
      seq: newest + 1,
      kind: "missing",
      detail: `records seq ${newest + 1}..${c.headSeq} are missing: the signed checkpoint of ${when} names seq ${c.headSeq} as the head`,
    };
  }
  return {
    seq: c.headSeq,
    kind: "altered",
    detail: `its hash is not the one the signed checkpoint of ${when} names: the chain was rewritten up to here`,
  };
}

/**
 * The oldest checkpoint, validly signed, whose head record is not the one it signed (a different
 * hash, or gone). Only reached when the newest one disagrees: the newest alone carries the proof.
 */
function firstBrokenCheckpoint(db: Database.Database, publicKeyPem: string): Checkpoint | undefined {
  const candidates = db
    .prepare(
      `SELECT c.* FROM (SELECT ${checkpointColumns(db)} FROM checkpoints) c
       LEFT JOIN results r ON r.seq = c.headSeq
       WHERE c.headSeq > c.anchorSeq AND lower(hex(r.hash)) IS NOT c.headHash
         AND c.headSeq > (SELECT coalesce(max(seq), 0) FROM chain_anchors)
       ORDER BY c.headSeq, c.id`,
    )
    .iterate() as Iterable<Checkpoint>;
  for (const c of candidates) {
    if (signatureValid(statementBytes(checkpointStatement(c)), c.signature, publicKeyPem)) return c;
  }
  return undefined;
}

/**
 * The input chain must verify, its head be the one the checkpoint signed (every input record
 * committed: an observation added since could back a forged window), and the feed's windows be
 * what the observations in it say.
 */
function inputsFinding(db: Database.Database, c: Checkpoint): CheckpointFinding | null {
  const broken = verifyInputChain(db);
  // Named at the head this checkpoint signed: an input seq is not a record seq.
  if (broken)
    return {
      seq: c.headSeq,
      kind: broken.kind === "missing" ? "missing" : "altered",
      detail: `${broken.probe} at input seq ${broken.seq}: ${broken.detail}`,
    };
  const head = inputHead(db);
  const signedSeq = c.inputsSeq ?? 0;
  const when = new Date(c.createdAt).toISOString();
  if (head.seq === signedSeq && c.inputsHash !== null && head.hash !== c.inputsHash) {
    return {
      seq: c.headSeq,
      kind: "altered",
      detail: `input record seq ${head.seq} is not the one the signed checkpoint of ${when} commits as the input head: the input chain (configuration, maintenance observations) was rewritten without the key`,
    };
  }
  const rollback = rollbackRecordAfter(db, signedSeq);
  if (rollback) return { seq: c.headSeq, kind: "missing", detail: describeRollbackRecord(rollback) };
  if (head.seq !== signedSeq) {
    return {
      seq: c.headSeq,
      kind: "altered",
      detail: `the input records (configuration, maintenance observations) end at seq ${head.seq}, not at the input seq ${signedSeq} the signed checkpoint of ${when} commits: added, removed or rewritten without the key, or not signed yet`,
    };
  }
  const feed = feedWindowsDisagree(db);
  return feed ? { seq: c.headSeq, kind: "altered", detail: feed } : null;
}

function commitmentFinding(c: Checkpoint, period: PeriodCommitment): CheckpointFinding | null {
  if (period.lastSeq === 0) return null;
  const when = new Date(c.createdAt).toISOString();
  if (period.lastSeq > c.headSeq) {
    const from = Math.max(c.headSeq + 1, period.firstSeq);
    return {
      seq: from,
      kind: "missing",
      detail: `records seq ${from}..${period.lastSeq} of the period are not committed by the newest signed checkpoint (of ${when}, head seq ${c.headSeq}): added without the key, or recorded while the agent could not sign (it signs every batch as it writes it)`,
    };
  }
  if (period.end <= period.now && c.createdAt < period.end) {
    return {
      seq: c.headSeq,
      kind: "missing",
      detail: `the newest signed checkpoint is of ${when}, before the end of the period (${new Date(period.end).toISOString()}): newer checkpoints and the records after them were deleted, or the agent has not signed since; run the agent (it signs when it starts writing) and retry`,
    };
  }
  return null;
}
