import type Database from "better-sqlite3";
import { feedWindowsDisagree } from "../feed-windows.js";
import { statementOf } from "../statements.js";
import { GENESIS_HASH } from "./canonical.js";
import { type ChainLink, chainTail, latestAnchor } from "./chain.js";
import { type Checkpoint, checkpointStatement, newestCheckpoint } from "./checkpoints.js";
import { describeRollbackRecord, hasInputLog, verifyInputChain } from "./input-log.js";
import { type AgentKey, signatureValid, statementBytes } from "./signing.js";
import { content, gap, HASH, link, RECORD_COLUMNS, SEQ, type StoredRecord } from "./verify.js";

/**
 * The key signs only what this process can show extends what was signed before
 * (docs/evidence-store.md, "What a writer signs"). Any honest writer (the agent, an import) signs
 * a checkpoint over the store's head; without this check it would launder whatever someone without
 * the key rewrote, deleted or forged since the newest checkpoint.
 */

/** What the writing process knows of the store that no one else can have forged. */
export interface SigningBasis {
  /** The store held no record and no anchor when this process opened it. */
  readonly emptyAtOpen: boolean;
  /** The input chain's head seq when this process opened it: records after it are this process's own. */
  readonly inputsAtOpen: number;
  /** The results chain's tail seq when this process opened it: records after it are this process's own. */
  readonly resultsAtOpen: number;
  /** The anchor this process's own prune wrote in the current transaction (the chain was checked before). */
  readonly ownAnchor?: ChainLink | null;
}

/**
 * Why the store's head must not be signed now, as one sentence naming the first bad record or
 * checkpoint; null when it may. Run inside the write transaction that signs. Cheap: it re-hashes
 * only what was written after the newest checkpoint.
 */
export function refusalToSign(db: Database.Database, key: AgentKey, basis: SigningBasis): string | null {
  const c = newestCheckpoint(db);
  if (!c) return basis.emptyAtOpen ? null : unsignedStore(db);
  const when = new Date(c.createdAt).toISOString();
  if (c.keyId !== key.keyId)
    return `the newest checkpoint (of ${when}, head seq ${c.headSeq}) is signed by key ${c.keyId}, not by this agent's key ${key.keyId}: forged, or the key was replaced without adopting the store (docs/evidence-store.md, "Rotating the key")`;
  if (!signatureValid(statementBytes(checkpointStatement(c)), c.signature, key.publicKeyPem))
    return `the newest checkpoint (of ${when}, head seq ${c.headSeq}) is not signed by this agent's key: forged or edited`;
  return disagreement(db, c, basis) ?? feedWindowsDisagree(db);
}

/**
 * Why the store does not extend checkpoint `c`, whatever key signed it; null when it does: the
 * anchor it signed, its head record and every record after it (none but the calling
 * transaction's own may be unsigned), its input head and every input record after it. `evidence adopt`
 * passes a basis that trusts every record to be this process's own.
 */
export function disagreement(db: Database.Database, c: Checkpoint, basis: SigningBasis): string | null {
  return anchorRefusal(db, c, basis) ?? resultsRefusal(db, c, basis) ?? inputsRefusal(db, c, basis);
}

function unsignedStore(db: Database.Database): string {
  const [count, lo, hi] = db.prepare("SELECT count(*), min(seq), max(seq) FROM results").raw(true).get() as [
    number,
    number | null,
    number | null,
  ];
  const what = count > 0 ? `records seq ${lo}..${hi}` : "a pruned chain";
  return `the store holds ${what} but no signed checkpoint: its checkpoints were deleted, or it was written without signing; a writer signs only a store it found empty or that a checkpoint it can check commits (recovery: docs/evidence-store.md, "A store that cannot be signed")`;
}

/** The anchor must be the one the checkpoint signed, unless this process's own prune moved it. */
function anchorRefusal(db: Database.Database, c: Checkpoint, basis: SigningBasis): string | null {
  const anchor = latestAnchor(db) ?? { seq: 0, hash: GENESIS_HASH };
  const hash = anchor.hash.toString("hex");
  if (anchor.seq === c.anchorSeq && hash === c.anchorHash) return null;
  const own = basis.ownAnchor;
  if (own && own.seq === anchor.seq && own.hash.equals(anchor.hash) && anchor.seq > c.anchorSeq) return null;
  return `the chain anchor at seq ${anchor.seq} is not the one the newest checkpoint signed (seq ${c.anchorSeq}), and this process did not prune there: records deleted and the anchor forged`;
}

/**
 * The record the checkpoint signed as head still has its hash, and every record after it follows
 * it by seq, names its predecessor's hash and hashes to its own, up to the tail.
 */
function resultsRefusal(db: Database.Database, c: Checkpoint, basis: SigningBasis): string | null {
  const anchor = latestAnchor(db) ?? { seq: 0, hash: GENESIS_HASH };
  let previousSeq = c.headSeq;
  let previousHash = c.headHash;
  if (basis.ownAnchor && c.headSeq <= anchor.seq) {
    // This process pruned past the signed head after checking the chain up to its tail.
    previousSeq = anchor.seq;
    previousHash = anchor.hash.toString("hex");
  } else if (c.headSeq > c.anchorSeq) {
    const stored = statementOf(db, "SELECT lower(hex(hash)) FROM results WHERE seq = ?")
      .pluck()
      .get(c.headSeq) as string | undefined;
    if (stored === undefined)
      return `record seq ${c.headSeq}, the head the newest checkpoint signed, is missing: records deleted`;
    if (stored !== c.headHash)
      return `record seq ${c.headSeq} no longer has the hash the newest checkpoint signed: the chain was rewritten up to here`;
  }
  const rows = statementOf(db, `SELECT ${RECORD_COLUMNS} FROM results WHERE seq > ? ORDER BY seq`)
    .raw(true)
    .iterate(previousSeq) as Iterable<StoredRecord>;
  for (const row of rows) {
    const seq = row[SEQ] as number;
    const problem =
      (seq !== previousSeq + 1
        ? gap({ seq, probe: String(row[1]), ts: row[0] as number }, previousSeq)
        : null) ??
      link(db, row, previousHash) ??
      content(row);
    if (problem) return `record seq ${problem.seq} after the newest checkpoint: ${problem.detail}`;
    if (seq <= basis.resultsAtOpen)
      return unsignedTail(c, seq, Math.min(basis.resultsAtOpen, chainTail(db).seq));
    previousSeq = seq;
    previousHash = row[HASH] as string;
  }
  return null;
}

/**
 * Records after the newest checkpoint that this transaction did not write. An honest writer signs
 * the records it appends in the transaction that appends them (checkpoints.ts, writeCheckpoint), so
 * a crash never leaves one unsigned: these were added by someone without the key, or are what
 * remains after newer checkpoints were deleted (the records after this one rewritten or cut), or
 * were recorded while the agent could not sign (its key missing).
 */
function unsignedTail(c: Checkpoint, seq: number, last: number): string {
  const when = new Date(c.createdAt).toISOString();
  return `records seq ${seq}..${last} follow the newest checkpoint (of ${when}, head seq ${c.headSeq}) unsigned, and this process did not write them: an agent signs each batch as it writes it, so newer checkpoints were deleted and the records after this one rewritten, cut or added, or they were recorded while the agent could not sign (recovery: docs/evidence-store.md, "A store that cannot be signed")`;
}

/**
 * The input record the checkpoint signed as the input head still has its hash; those after it
 * link and re-hash, and were written by this process (an honest writer signs each input record
 * in the transaction that appends it, so one left unsigned was added by someone else).
 */
function inputsRefusal(db: Database.Database, c: Checkpoint, basis: SigningBasis): string | null {
  if (!hasInputLog(db)) return null;
  const previousSeq = c.inputsSeq ?? 0;
  const previousHash = c.inputsHash ?? GENESIS_HASH.toString("hex");
  if (previousSeq > 0) {
    const stored = statementOf(db, "SELECT lower(hex(hash)) FROM input_records WHERE seq = ?")
      .pluck()
      .get(previousSeq) as string | undefined;
    if (stored !== previousHash)
      return `input record seq ${previousSeq}, the input head the newest checkpoint signed, is ${stored === undefined ? "missing" : "not the one it signed"}: the input chain (configuration, maintenance observations) was rewritten`;
  }
  // `evidence adopt` trusts every record (inputsAtOpen 0): a rollback_detected record is adopted, and stays in the chain.
  const problem = verifyInputChain(db, { seq: previousSeq, hash: previousHash }, (record) =>
    record.seq > basis.inputsAtOpen
      ? null
      : record.kind === "rollback_detected"
        ? describeRollbackRecord(record)
        : "added after the newest checkpoint, and not by this process: an agent signs its input records as it writes them",
  );
  return (
    problem &&
    `input record seq ${problem.seq} (${problem.probe}) after the newest checkpoint: ${problem.detail}`
  );
}
