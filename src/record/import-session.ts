import type Database from "better-sqlite3";
import type { ProbeResult } from "../model/result.js";
import { type ChainedResult, ChainWriter } from "./chain.js";
import { type ExclusionJudge, RollupAccumulator } from "./rollups.js";

export interface ImportOutcome {
  readonly imported: number;
  readonly alreadyPresent: number;
}

export interface CommittedImport {
  readonly imported: number;
  /** Null unless the session was asked to keep what it appended. */
  readonly appended: readonly ChainedResult[] | null;
}

/** Chain order for an import: ts, then probe. */
export function compareChainOrder(a: ProbeResult, b: ProbeResult): number {
  return a.ts - b.ts || (a.probe < b.probe ? -1 : a.probe > b.probe ? 1 : 0);
}

/**
 * One import, written as its results arrive inside a single write transaction (BEGIN IMMEDIATE)
 * that stays open until commit() or rollback(): all of it is stored, or none. Results must come
 * in chain order; appendInOrder refuses a chunk that would break it, so the caller can start over
 * sorted. Rollups are summed in memory and written once, at commit.
 */
export class ImportSession {
  readonly #db: Database.Database;
  readonly #end: (committed: CommittedImport | null) => void;
  readonly #chain: ChainWriter;
  readonly #rollups: RollupAccumulator;
  #last: ProbeResult | null = null;
  readonly #addRollup = (result: ProbeResult) => this.#rollups.add(result);
  #open = true;

  constructor(
    db: Database.Database,
    options: {
      isExcluded: ExclusionJudge;
      keepAppended: boolean;
      /** Called once when the session ends: what was committed, or null after a rollback. */
      end: (committed: CommittedImport | null) => void;
    },
  ) {
    this.#db = db;
    this.#end = options.end;
    db.exec("BEGIN IMMEDIATE");
    try {
      this.#chain = new ChainWriter(db, options.keepAppended);
    } catch (error) {
      db.exec("ROLLBACK");
      options.end(null);
      throw error;
    }
    this.#rollups = new RollupAccumulator(options.isExcluded);
  }

  /**
   * Appends results that continue the chain order (canonicals[i], when given, is the canonical
   * form of results[i], computed elsewhere). Returns false, having written none of them, when
   * they are out of order.
   */
  appendInOrder(results: readonly ProbeResult[], canonicals?: readonly string[]): boolean {
    this.#assertOpen();
    let previous = this.#last;
    for (const result of results) {
      if (previous !== null && compareChainOrder(previous, result) > 0) return false;
      previous = result;
    }
    this.#chain.appendMany(results, canonicals, this.#addRollup);
    this.#last = previous;
    return true;
  }

  /** Appends results in any order: they are sorted into chain order first (stably: the first of equals wins). */
  appendAll(
    results: readonly ProbeResult[],
    canonicals?: readonly string[],
    onProgress?: (done: number) => void,
  ): void {
    const order = Array.from(results.keys()).sort((a, b) => compareChainOrder(results[a]!, results[b]!));
    const chunk = 10_000;
    for (let from = 0; from < order.length; from += chunk) {
      const indexes = order.slice(from, from + chunk);
      const ok = this.appendInOrder(
        indexes.map((i) => results[i]!),
        canonicals && indexes.map((i) => canonicals[i]!),
      );
      if (!ok) throw new Error("import: results out of chain order after sorting");
      onProgress?.(Math.min(order.length, from + chunk));
    }
  }

  /** Writes the rollups and commits; on failure nothing is stored and the error is thrown. */
  commit(): ImportOutcome {
    this.#assertOpen();
    try {
      this.#rollups.writeTo(this.#db);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.rollback();
      throw error;
    }
    this.#open = false;
    this.#end({ imported: this.#chain.count, appended: this.#chain.appended });
    return { imported: this.#chain.count, alreadyPresent: this.#chain.duplicates };
  }

  rollback(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#db.inTransaction) this.#db.exec("ROLLBACK");
    this.#end(null);
  }

  #assertOpen(): void {
    if (!this.#open) throw new Error("import session already ended");
  }
}
