import type Database from "better-sqlite3";
import type { ProbeResult } from "../../model/result.js";
import type { SpeculativeHashes } from "../import/import-chunk.js";
import { fillRowValues, INSERT_RESULT_SQL, insertResultsSql, RESULT_COLUMN_COUNT } from "../rows.js";
import { DUPLICATE_SPAN } from "../schema.js";
import { statementOf } from "../statements.js";
import { canonicalForm, chainHashHex, GENESIS_HASH } from "./canonical.js";

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
  const last = statementOf(db, "SELECT seq, hash FROM results ORDER BY seq DESC LIMIT 1").get() as
    | ChainLink
    | undefined;
  if (last) return last;
  const anchor = latestAnchor(db);
  return anchor ?? { seq: 0, hash: GENESIS_HASH };
}

export function latestAnchor(db: Database.Database): ChainLink | undefined {
  return statementOf(db, "SELECT seq, hash FROM chain_anchors ORDER BY seq DESC LIMIT 1").get() as
    | ChainLink
    | undefined;
}

/** Rows per multi-row INSERT: one statement step per batch instead of per row is most of an import's write. */
const BATCH_ROWS = 64;

function isConflict(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || isDuplicateSpan(error)
  );
}

/** The trigger's refusal of a merchant request whose span id is already stored (src/record/schema.ts). */
function isDuplicateSpan(error: unknown): boolean {
  return (
    (error as { code?: unknown }).code === "SQLITE_CONSTRAINT_TRIGGER" &&
    (error as Error).message === DUPLICATE_SPAN
  );
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
  readonly #params: unknown[] = new Array(RESULT_COLUMN_COUNT);
  readonly #db: Database.Database;
  #batchInsert: Database.Statement | null = null;
  #batchParams: unknown[] | null = null;
  /** A batch met a stored probe + ts: more are likely (a re-import), so go row by row until one is clean. */
  #rowByRow = false;
  #tailSeq: number;
  #tailHex: string;

  constructor(db: Database.Database, keepAppended: boolean) {
    this.#db = db;
    this.#insert = statementOf(db, INSERT_RESULT_SQL);
    const tail = chainTail(db);
    this.#tailSeq = tail.seq;
    this.#tailHex = tail.hash.toString("hex");
    this.appended = keepAppended ? [] : null;
  }

  /** How many results this writer appended. */
  get count(): number {
    return this.#count;
  }

  /** The seq of the chain's last link. */
  get tailSeq(): number {
    return this.#tailSeq;
  }

  /** The hash of the chain's last link, as hex. */
  get tailHex(): string {
    return this.#tailHex;
  }

  /** Returns whether the result was appended (false: its probe + ts was already stored). */
  append(result: ProbeResult, canonical: string = canonicalForm(result), speculative?: string): boolean {
    const seq = this.#tailSeq + 1;
    const hash = speculative ?? chainHashHex(this.#tailHex, canonical);
    const params = fillRowValues(this.#params, result, seq, this.#tailHex, hash);
    let changes: number;
    try {
      changes = this.#insert.run(params).changes;
    } catch (error) {
      if (!isDuplicateSpan(error)) throw error;
      changes = 0;
    }
    if (changes !== 1) {
      this.duplicates++;
      return false;
    }
    this.#tailSeq = seq;
    this.#tailHex = hash;
    this.#count++;
    this.appended?.push({ seq, result });
    return true;
  }

  /**
   * Appends results in the order given, as append() would one by one, calling onAppended for each
   * one stored. Rows go in multi-row INSERTs; a batch that meets a stored (or repeated) probe + ts
   * is undone by SQLite as a whole and written again row by row, so duplicates are skipped exactly as
   * before; onDuplicate hears of each one skipped (by its index), so the caller can compare it.
   * `speculative` hashes, computed ahead by the import's parse worker, are used for a result only
   * when the tail they assumed is the chain's tail: the hash is the same, computed once.
   */
  appendMany(
    results: readonly ProbeResult[],
    canonicals: readonly string[] | undefined,
    onAppended: (result: ProbeResult) => void,
    onDuplicate?: (index: number) => void,
    speculative?: SpeculativeHashes,
  ): void {
    let from = 0;
    for (; from + BATCH_ROWS <= results.length; from += BATCH_ROWS) {
      if (!this.#rowByRow && this.#appendBatch(results, canonicals, from, speculative)) {
        for (let i = from; i < from + BATCH_ROWS; i++) onAppended(results[i]!);
        continue;
      }
      const duplicatesBefore = this.duplicates;
      for (let i = from; i < from + BATCH_ROWS; i++)
        this.#appendOne(results, canonicals, i, onAppended, onDuplicate, speculative);
      this.#rowByRow = this.duplicates > duplicatesBefore;
    }
    for (let i = from; i < results.length; i++)
      this.#appendOne(results, canonicals, i, onAppended, onDuplicate, speculative);
  }

  #appendOne(
    results: readonly ProbeResult[],
    canonicals: readonly string[] | undefined,
    i: number,
    onAppended: (result: ProbeResult) => void,
    onDuplicate: ((index: number) => void) | undefined,
    speculative: SpeculativeHashes | undefined,
  ): void {
    const hash = speculativeHash(speculative, i, this.#tailHex);
    if (this.append(results[i]!, canonicals?.[i], hash)) onAppended(results[i]!);
    else onDuplicate?.(i);
  }

  /** Writes results[from, from + BATCH_ROWS) in one statement; false, having written none, on a conflict. */
  #appendBatch(
    results: readonly ProbeResult[],
    canonicals: readonly string[] | undefined,
    from: number,
    speculative: SpeculativeHashes | undefined,
  ): boolean {
    // Prepared on first use: the daemon's small batches never need it.
    this.#batchInsert ??= statementOf(this.#db, insertResultsSql(BATCH_ROWS));
    this.#batchParams ??= new Array(BATCH_ROWS * RESULT_COLUMN_COUNT);
    const params = this.#batchParams;
    const row = this.#params;
    let seq = this.#tailSeq;
    let tailHex = this.#tailHex;
    for (let i = 0; i < BATCH_ROWS; i++) {
      const result = results[from + i]!;
      const hash =
        speculativeHash(speculative, from + i, tailHex) ??
        chainHashHex(tailHex, canonicals?.[from + i] ?? canonicalForm(result));
      fillRowValues(row, result, ++seq, tailHex, hash);
      for (let c = 0; c < RESULT_COLUMN_COUNT; c++) params[i * RESULT_COLUMN_COUNT + c] = row[c];
      tailHex = hash;
    }
    try {
      this.#batchInsert.run(params);
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
    for (let i = 0; i < BATCH_ROWS; i++) {
      this.appended?.push({ seq: this.#tailSeq + 1 + i, result: results[from + i]! });
    }
    this.#tailSeq = seq;
    this.#tailHex = tailHex;
    this.#count += BATCH_ROWS;
    return true;
  }
}

/** The worker's hash of result i when it assumed this tail, else undefined (compute it). */
function speculativeHash(
  speculative: SpeculativeHashes | undefined,
  i: number,
  tailHex: string,
): string | undefined {
  return speculative !== undefined && speculative.prevs[i] === tailHex ? speculative.hashes[i] : undefined;
}
