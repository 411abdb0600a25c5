import type Database from "better-sqlite3";
import type { EpochMs } from "../model/time.js";
import { GENESIS_HASH } from "./canonical.js";
import { chainTail, latestAnchor } from "./chain.js";
import { type AgentKey, type Statement, signatureValid, statementBytes } from "./signing.js";

/** How often the store signs its chain head while results keep coming (store clock). */
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
}

/** What a checkpoint's signature covers (JCS bytes of this object). */
export function checkpointStatement(c: Omit<Checkpoint, "id" | "keyId" | "signature">): Statement {
  return {
    kind: "slo-agent/checkpoint/v1",
    head_seq: c.headSeq,
    head_hash: c.headHash,
    anchor_seq: c.anchorSeq,
    anchor_hash: c.anchorHash,
    created_at: new Date(c.createdAt).toISOString(),
  };
}

/**
 * Signs the current head and anchor unless the newest checkpoint already names both. Must run
 * inside a write transaction (so the head cannot move meanwhile). Returns whether it wrote one.
 */
export function writeCheckpoint(db: Database.Database, key: AgentKey, now: EpochMs): boolean {
  const tail = chainTail(db);
  const anchor = latestAnchor(db) ?? { seq: 0, hash: GENESIS_HASH };
  const newest = newestCheckpoint(db);
  const body = {
    headSeq: tail.seq,
    headHash: tail.hash.toString("hex"),
    anchorSeq: anchor.seq,
    anchorHash: anchor.hash.toString("hex"),
    createdAt: now,
  };
  if (newest && newest.headSeq === body.headSeq && newest.headHash === body.headHash) {
    if (newest.anchorSeq === body.anchorSeq && newest.anchorHash === body.anchorHash) return false;
  }
  const signature = key.signBytes(statementBytes(checkpointStatement(body)));
  db.prepare(
    `INSERT INTO checkpoints (head_seq, head_hash, anchor_seq, anchor_hash, created_at, key_id, signature)
     VALUES (?, unhex(?), ?, unhex(?), ?, ?, ?)`,
  ).run(body.headSeq, body.headHash, body.anchorSeq, body.anchorHash, now, key.keyId, signature);
  return true;
}

export function newestCheckpoint(db: Database.Database): Checkpoint | undefined {
  if (!hasCheckpointTable(db)) return undefined;
  return db
    .prepare(
      `SELECT id, head_seq AS headSeq, lower(hex(head_hash)) AS headHash, anchor_seq AS anchorSeq,
       lower(hex(anchor_hash)) AS anchorHash, created_at AS createdAt, key_id AS keyId, signature
       FROM checkpoints ORDER BY id DESC LIMIT 1`,
    )
    .get() as Checkpoint | undefined;
}

/** A store opened read-only may predate the checkpoints table. */
function hasCheckpointTable(db: Database.Database): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'").get() !==
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
 * Checks the newest checkpoint: its signature (when the agent's public key is known), that the
 * store's newest anchor is the one it signed, and that the record it signed as head is still there
 * with the same hash. The chain walk then ties every record up to that head to the signature.
 */
export function checkCheckpoint(
  db: Database.Database,
  publicKeyPem: string | null,
): CheckpointFinding | null {
  const c = newestCheckpoint(db);
  if (!c) return null;
  const when = new Date(c.createdAt).toISOString();
  if (
    publicKeyPem !== null &&
    !signatureValid(statementBytes(checkpointStatement(c)), c.signature, publicKeyPem)
  ) {
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
  if (c.headSeq === c.anchorSeq) return null;
  const stored = db.prepare("SELECT lower(hex(hash)) FROM results WHERE seq = ?").pluck().get(c.headSeq) as
    | string
    | undefined;
  if (stored === undefined) {
    const newest = (db.prepare("SELECT max(seq) FROM results").pluck().get() as number | null) ?? anchor.seq;
    return {
      seq: newest + 1,
      kind: "missing",
      detail: `records seq ${newest + 1}..${c.headSeq} are missing: the signed checkpoint of ${when} names seq ${c.headSeq} as the head`,
    };
  }
  if (stored !== c.headHash) {
    return {
      seq: c.headSeq,
      kind: "altered",
      detail: `its hash is not the one the signed checkpoint of ${when} names: the chain was rewritten up to here`,
    };
  }
  return null;
}
