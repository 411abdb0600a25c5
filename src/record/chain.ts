import type Database from "better-sqlite3";
import type { ProbeResult } from "../model/result.js";
import { canonicalForm, chainHashHex, GENESIS_HASH } from "./canonical.js";
import { fillRowValues, INSERT_RESULT_SQL } from "./rows.js";

/** A result once it is part of the chain. */
export interface ChainedResult {
  readonly seq: number;
  readonly result: ProbeResult;
}

export interface ChainLink {
  readonly seq: number;
  readonly hash: Buffer;
}

/** The last link of the chain: the newest record, else the newest anchor, else genesis (seq 0). */
export function chainTail(db: Database.Database): ChainLink {
  const last = db.prepare("SELECT seq, hash FROM results ORDER BY seq DESC LIMIT 1").get() as
    | ChainLink
    | undefined;
  if (last) return last;
  const anchor = latestAnchor(db);
  return anchor ?? { seq: 0, hash: GENESIS_HASH };
}

export function latestAnchor(db: Database.Database): ChainLink | undefined {
  return db.prepare("SELECT seq, hash FROM chain_anchors ORDER BY seq DESC LIMIT 1").get() as
    | ChainLink
    | undefined;
}

/**
 * Appends results to the chain one at a time, skipping any whose probe + ts is already stored.
 * Create it inside a write transaction and use it only there: the tail is read when it is
 * created, so two writers (the daemon and an import) never fork the chain.
 */
export class ChainWriter {
  /** What was appended, in chain order; null when the caller did not ask to keep it. */
  readonly appended: ChainedResult[] | null;
  duplicates = 0;
  #count = 0;
  readonly #insert: Database.Statement;
  readonly #params: unknown[] = new Array(16);
  #tailSeq: number;
  #tailHex: string;

  constructor(db: Database.Database, keepAppended: boolean) {
    this.#insert = db.prepare(INSERT_RESULT_SQL);
    const tail = chainTail(db);
    this.#tailSeq = tail.seq;
    this.#tailHex = tail.hash.toString("hex");
    this.appended = keepAppended ? [] : null;
  }

  /** How many results this writer appended. */
  get count(): number {
    return this.#count;
  }

  /** Returns whether the result was appended (false: its probe + ts was already stored). */
  append(result: ProbeResult, canonical: string = canonicalForm(result)): boolean {
    const seq = this.#tailSeq + 1;
    const hash = chainHashHex(this.#tailHex, canonical);
    const params = fillRowValues(this.#params, result, seq, this.#tailHex, hash);
    if (this.#insert.run(params).changes !== 1) {
      this.duplicates++;
      return false;
    }
    this.#tailSeq = seq;
    this.#tailHex = hash;
    this.#count++;
    this.appended?.push({ seq, result });
    return true;
  }
}
