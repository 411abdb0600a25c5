import type Database from "better-sqlite3";
import type { EpochMs } from "../../model/time.js";
import { statementOf } from "../statements.js";
import { type ChainLink, chainTail, latestAnchor } from "./chain.js";
import { appendInput, inputHead } from "./input-log.js";

/** A head this process signed: the results chain's tail and the input chain's head, and when. */
export interface SignedHead {
  readonly results: ChainLink;
  readonly inputs: { readonly seq: number; readonly hash: string };
  readonly at: EpochMs;
}

/** The store no longer holds the head this process signed: what it signed, what it found, the sentence. */
export interface WentBack {
  readonly signed: SignedHead;
  readonly found: string;
  readonly message: string;
}

/** The `rollback_detected` input record this process wrote: its seq, when, and why. */
export interface RollbackRecorded {
  readonly seq: number;
  readonly at: EpochMs;
  readonly message: string;
}

const WHERE = `(docs/evidence-store.md, "What an unanchored rollback can still do")`;

/**
 * The newest head (results and inputs) this process signed and committed. If the store ever goes
 * back under it (records deleted and an older, validly signed checkpoint restored), nothing in the
 * file shows it, but this process knows: it checks at every batch, every refresh and at close, and
 * leaves what it found in the log as a `rollback_detected` input record that nothing signs
 * (docs/evidence-store.md, "A rollback under a running agent").
 */
export class RollbackGuard {
  #signed: SignedHead | null = null;
  /** What the current transaction signed, made #signed once it commits. */
  #pending: SignedHead | null = null;
  #recorded: (RollbackRecorded & { readonly hash: string }) | null = null;

  /** Inside the transaction that signs the head as it is now. */
  signing(db: Database.Database, now: EpochMs): void {
    this.#pending = { results: chainTail(db), inputs: inputHead(db), at: now };
  }

  /** The transaction signed nothing, or rolled back. */
  abandon(): void {
    this.#pending = null;
  }

  /** The transaction that signed committed: the store must never go back behind its head. */
  committed(): void {
    if (this.#pending !== null) this.#signed = this.#pending;
    this.#pending = null;
  }

  /**
   * Whether the store went back under this process since it last signed: the record (or input
   * record) it signed as the head is gone or another one, or its checkpoint over them is. Three
   * lookups by key, prepared once (statements.ts).
   */
  wentBack(db: Database.Database): WentBack | null {
    const signed = this.#signed;
    if (signed === null) return null;
    const when = new Date(signed.at).toISOString();
    const { seq, hash } = signed.results;
    if (seq > (latestAnchor(db)?.seq ?? 0)) {
      const stored = statementOf(db, "SELECT hash FROM results WHERE seq = ?").pluck().get(seq) as
        | Buffer
        | undefined;
      if (stored === undefined || !stored.equals(hash)) {
        const found = stored === undefined ? "gone" : "another record now";
        return {
          signed,
          found: `record seq ${seq} is ${found}`,
          message: `the store went back under this agent: record seq ${seq}, the head it signed at ${when}, is ${found}: records were deleted and an older checkpoint restored (a rollback); nothing after it is signed until the store is examined ${WHERE}`,
        };
      }
    }
    const input = signed.inputs;
    if (input.seq > 0 && inputHashAt(db, input.seq) !== input.hash) {
      const found = inputHashAt(db, input.seq) === undefined ? "gone" : "another record now";
      return {
        signed,
        found: `input record seq ${input.seq} is ${found}`,
        message: `the store went back under this agent: input record seq ${input.seq}, the input head it signed at ${when}, is ${found}: input records were deleted and an older checkpoint restored (a rollback) ${WHERE}`,
      };
    }
    // Only the newest checkpoint deleted (the records kept): what this process signed is no longer signed.
    // A writer's schema has inputs_seq (schema.ts migrates it); NULL in checkpoints signed before it.
    const newest = statementOf(
      db,
      "SELECT head_seq AS headSeq, ifnull(inputs_seq, 0) AS inputsSeq, created_at AS createdAt FROM checkpoints ORDER BY id DESC LIMIT 1",
    ).get() as { headSeq: number; inputsSeq: number; createdAt: number } | undefined;
    if (newest === undefined || newest.headSeq < seq || newest.inputsSeq < input.seq) {
      const instead =
        newest === undefined
          ? "no checkpoint is left"
          : `the newest checkpoint left is of ${new Date(newest.createdAt).toISOString()}, head seq ${newest.headSeq}, input seq ${newest.inputsSeq}`;
      return {
        signed,
        found: `the checkpoint it signed over record seq ${seq} and input seq ${input.seq} is gone (${instead})`,
        message: `the store went back under this agent: the checkpoint it signed at ${when} over its own records up to seq ${seq} and input records up to seq ${input.seq} is gone (${instead}): checkpoints were deleted; nothing more is signed until the store is examined ${WHERE}`,
      };
    }
    return null;
  }

  /**
   * Inside the caller's write transaction: leaves the rollback found in the log itself, as a
   * `rollback_detected` input record that nothing signs, so that verify and every report name it
   * until someone deletes it (which takes a store no agent is running on). Returns its seq, or null
   * when the record this process wrote is still there.
   */
  record(db: Database.Database, now: EpochMs, went: WentBack): number | null {
    if (this.recorded(db)) return null;
    const tail = chainTail(db);
    const inputs = inputHead(db);
    const seq = appendInput(db, "rollback_detected", now, {
      signed_head: {
        results_seq: went.signed.results.seq,
        results_hash: went.signed.results.hash.toString("hex"),
        inputs_seq: went.signed.inputs.seq,
        inputs_hash: went.signed.inputs.hash,
        signed_at: new Date(went.signed.at).toISOString(),
      },
      found: {
        what: went.found,
        results_seq: tail.seq,
        results_hash: tail.hash.toString("hex"),
        inputs_seq: inputs.seq,
        inputs_hash: inputs.hash,
      },
    });
    this.#recorded = { seq, hash: inputHead(db).hash, at: now, message: went.message };
    return seq;
  }

  /** The rollback record this process wrote is in the store (its transaction committed, nobody deleted it). */
  recorded(db: Database.Database): boolean {
    const recorded = this.#recorded;
    return recorded !== null && inputHashAt(db, recorded.seq) === recorded.hash;
  }

  detected(): RollbackRecorded | null {
    if (this.#recorded === null) return null;
    const { seq, at, message } = this.#recorded;
    return { seq, at, message };
  }
}

function inputHashAt(db: Database.Database, seq: number): string | undefined {
  return statementOf(db, "SELECT lower(hex(hash)) FROM input_records WHERE seq = ?").pluck().get(seq) as
    | string
    | undefined;
}
