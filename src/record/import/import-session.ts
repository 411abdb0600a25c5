import type Database from "better-sqlite3";
import type { ProbeResult } from "../../model/result.js";
import { canonicalForm, isoTimestamp } from "../evidence/canonical.js";
import { type ChainedResult, ChainWriter } from "../evidence/chain.js";
import { inPrunedDay } from "../evidence/pruned-boundary.js";
import { type ExclusionJudge, type LatencyOf, RollupAccumulator } from "../rollups.js";
import { RESULT_VALUE_COLUMNS, resultOfValues } from "../rows.js";
import type { SpeculativeHashes } from "./import-chunk.js";
import { conflictWithLine, ImportStaging, type LineBatch, spanKey } from "./import-staging.js";
import type { RejectedLine } from "./line-chunks.js";

export interface ImportOutcome {
  readonly imported: number;
  readonly alreadyPresent: number;
}

/** The file an import read, as its `import` input record names it. */
export interface ImportSource {
  readonly file_sha256: string;
  /** Lines of the file, blank ones included. */
  readonly lines: number;
  /** Lines refused and skipped (--skip-invalid). */
  readonly skipped: number;
}

/**
 * The payload of an `import` input record (docs/evidence-store.md, "Input records"): the seq range
 * holds exactly the records the import stored (its transaction held the store's only writer).
 */
export interface ImportRecord extends ImportSource {
  readonly stored: number;
  readonly already_present: number;
  readonly first_seq: number;
  readonly last_seq: number;
  readonly first_ts: string;
  readonly last_ts: string;
}

export interface CommittedImport {
  readonly imported: number;
  /** Null unless the session was asked to keep what it appended. */
  readonly appended: readonly ChainedResult[] | null;
}

/** Results to append, with (optionally) their canonical forms and line numbers, index for index. */
export interface ImportBatch {
  readonly results: readonly ProbeResult[];
  readonly canonicals?: readonly string[];
  readonly lines?: readonly number[];
  /** Chain hashes computed ahead (by the parse worker), used where the tail they assumed holds. */
  readonly speculative?: SpeculativeHashes | null;
}

/** Chain order for an import: ts, then probe, then agent (none first), then a merchant request's span id. */
export function compareChainOrder(a: ProbeResult, b: ProbeResult): number {
  return (
    a.ts - b.ts ||
    compareText(a.probe, b.probe) ||
    compareText(a.agent ?? "", b.agent ?? "") ||
    compareText(spanKey(a), spanKey(b))
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether two results have the same identity: agent + probe + ts (docs/regions-merge.md), + span id for traffic. */
export function sameIdentity(a: ProbeResult, b: ProbeResult): boolean {
  return (
    a.ts === b.ts && a.probe === b.probe && (a.agent ?? "") === (b.agent ?? "") && spanKey(a) === spanKey(b)
  );
}

/** Probe-minutes of rollups summed in memory before they are written: bounds an import's memory. */
const ROLLUP_FLUSH_ROWS = 2_000;

/**
 * One import, written as its results arrive inside a single write transaction (BEGIN IMMEDIATE)
 * that stays open until commit() or rollback(): all of it is stored, or none. Results come in
 * chain order (appendInOrder refuses a batch that would break it), or in any order through
 * stage() and appendStaged(). A result with the probe + ts of an earlier line or of a stored
 * record is dropped when it is the same and listed in `conflicts` when it is not.
 */
export class ImportSession {
  readonly #db: Database.Database;
  readonly #end: (committed: CommittedImport | null) => void;
  readonly #chain: ChainWriter;
  readonly #rollups: RollupAccumulator;
  readonly #stored: Database.Statement;
  /** Results refused for meeting an earlier line or a stored record with other content. */
  readonly conflicts: RejectedLine[] = [];
  #repeats = 0;
  #storedConflicts = 0;
  #last: { result: ProbeResult; canonical: string; line: number } | null = null;
  #staging: ImportStaging | null = null;
  readonly #addRollup = (result: ProbeResult) => this.#rollups.add(result);
  #open = true;
  readonly #beforeCommit: (imported: number, record: ImportRecord | null) => void;
  /** Whether a ts falls on a day retention pruned (its figures are its committed rollups). */
  readonly #pruned: (ts: number) => boolean;

  constructor(
    db: Database.Database,
    options: {
      isExcluded: ExclusionJudge;
      latencyOf?: LatencyOf;
      keepAppended: boolean;
      /**
       * Inside the transaction, just before COMMIT (records the import, signs the head): how many
       * results were appended, and what the import of a file stored (null: not a file, or nothing).
       */
      beforeCommit?: (imported: number, record: ImportRecord | null) => void;
      /** Called once when the session ends: what was committed, or null after a rollback. */
      end: (committed: CommittedImport | null) => void;
    },
  ) {
    this.#db = db;
    this.#end = options.end;
    this.#beforeCommit = options.beforeCommit ?? (() => {});
    db.exec("BEGIN IMMEDIATE");
    try {
      this.#chain = new ChainWriter(db, options.keepAppended);
      this.#stored = db
        .prepare(
          `SELECT seq, ${RESULT_VALUE_COLUMNS} FROM results WHERE ts = ? AND probe = ? AND ifnull(agent, '') = ?
             AND (CASE WHEN source IS NULL THEN '' ELSE ifnull(correlation_id, '') END) = ?`,
        )
        .raw(true);
      this.#pruned = inPrunedDay(db);
    } catch (error) {
      db.exec("ROLLBACK");
      options.end(null);
      throw error;
    }
    this.#rollups = new RollupAccumulator(options.isExcluded, options.latencyOf);
  }

  /**
   * Appends results that continue the chain order. Returns false, having written none of them,
   * when they are out of order.
   */
  appendInOrder(batch: ImportBatch): boolean {
    this.#assertOpen();
    let previous = this.#last?.result ?? null;
    for (const result of batch.results) {
      if (previous !== null && compareChainOrder(previous, result) > 0) return false;
      previous = result;
    }
    const fresh = this.#withoutRepeats(batch);
    this.#chain.appendMany(
      fresh.results,
      fresh.canonicals,
      this.#addRollup,
      (i) => this.#checkStored(fresh.results[i]!, fresh.canonicals[i]!, fresh.lines[i]!),
      fresh.speculative ?? undefined,
    );
    if (this.#rollups.size >= ROLLUP_FLUSH_ROWS) this.#rollups.flushTo(this.#db);
    return true;
  }

  /** Appends results in any order: they are sorted into chain order first (stably: the first of equals wins). */
  appendAll(results: readonly ProbeResult[], onProgress?: (done: number) => void): void {
    const order = Array.from(results.keys()).sort((a, b) => compareChainOrder(results[a]!, results[b]!));
    const chunk = 10_000;
    for (let from = 0; from < order.length; from += chunk) {
      const indexes = order.slice(from, from + chunk);
      const ok = this.appendInOrder({ results: indexes.map((i) => results[i]!), lines: indexes });
      if (!ok) throw new Error("import: results out of chain order after sorting");
      onProgress?.(Math.min(order.length, from + chunk));
    }
  }

  /** Keeps a batch in any order, on disk, for appendStaged(); conflicts between its lines are listed. */
  stage(batch: LineBatch): void {
    this.#assertOpen();
    this.#staging ??= new ImportStaging(this.#db);
    for (const conflict of this.#staging.add(batch)) this.conflicts.push(conflict);
  }

  /** The chain's last hash (hex): where a parse worker's speculative hashes start. */
  get chainTailHex(): string {
    return this.#chain.tailHex;
  }

  /** Results staged (repeats of an earlier line left out). */
  get stagedCount(): number {
    return this.#staging?.count ?? 0;
  }

  /** Appends what was staged, in chain order. */
  appendStaged(onProgress?: (done: number) => void): void {
    if (!this.#staging) return;
    let done = 0;
    for (const batch of this.#staging.sorted()) {
      if (!this.appendInOrder(batch)) throw new Error("import: staged results out of chain order");
      done += batch.results.length;
      onProgress?.(done);
    }
    this.#repeats += this.#staging.repeats;
    this.#staging.drop();
    this.#staging = null;
  }

  /**
   * Writes the rollups and commits; on failure nothing is stored and the error is thrown. With
   * `source` (a file) the store records the import in its input log.
   */
  commit(source?: ImportSource): ImportOutcome {
    this.#assertOpen();
    const alreadyPresent = this.#chain.duplicates - this.#storedConflicts + this.#repeats;
    try {
      this.#rollups.flushTo(this.#db);
      this.#staging?.drop();
      const record = source && this.#chain.count > 0 ? this.#recordOf(source, alreadyPresent) : null;
      this.#beforeCommit(this.#chain.count, record);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.rollback();
      throw error;
    }
    this.#open = false;
    this.#end({ imported: this.#chain.count, appended: this.#chain.appended });
    return { imported: this.#chain.count, alreadyPresent };
  }

  /** What this import stored: its records are the chain's last `count` links. */
  #recordOf(source: ImportSource, alreadyPresent: number): ImportRecord {
    const last = this.#chain.tailSeq;
    const first = last - this.#chain.count + 1;
    const span = this.#db
      .prepare("SELECT min(ts) AS first, max(ts) AS last FROM results WHERE seq BETWEEN ? AND ?")
      .get(first, last) as { first: number; last: number };
    return {
      ...source,
      stored: this.#chain.count,
      already_present: alreadyPresent,
      first_seq: first,
      last_seq: last,
      first_ts: isoTimestamp(span.first),
      last_ts: isoTimestamp(span.last),
    };
  }

  rollback(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#db.inTransaction) this.#db.exec("ROLLBACK");
    this.#end(null);
  }

  /**
   * The batch without results whose probe + ts the one before it had (equal keys are neighbours
   * in chain order): the same result is a repeat, counted as already present; another is a conflict.
   */
  #withoutRepeats(batch: ImportBatch): Required<ImportBatch> {
    const results: ProbeResult[] = [];
    const canonicals: string[] = [];
    const lines: number[] = [];
    const given = batch.speculative ?? null;
    const speculative = given && { prevs: [] as string[], hashes: [] as string[] };
    batch.results.forEach((result, i) => {
      const canonical = batch.canonicals?.[i] ?? canonicalForm(result);
      const line = batch.lines?.[i] ?? i;
      const last = this.#last;
      this.#last = { result, canonical, line };
      if (last === null || !sameIdentity(last.result, result)) {
        if (this.#refusedAsPruned(result, canonical, line)) return;
        results.push(result);
        canonicals.push(canonical);
        lines.push(line);
        speculative?.prevs.push(given!.prevs[i]!);
        speculative?.hashes.push(given!.hashes[i]!);
        return;
      }
      // Compared with the first of the run of equals, which is the one kept.
      this.#last = last;
      if (last.canonical === canonical) this.#repeats++;
      else this.conflicts.push(conflictWithLine(line, last.line));
    });
    return { results, canonicals, lines, speculative };
  }

  /** A result whose probe + ts is stored: the same is idempotent, other content is a conflict. */
  #checkStored(result: ProbeResult, canonical: string, line: number): void {
    const row = this.#storedRow(result);
    if (row === undefined) return;
    if (canonicalForm(resultOfValues(row.slice(1))) === canonical) return;
    this.#storedConflicts++;
    this.conflicts.push({
      line,
      message: `probe ${result.probe} at ${isoTimestamp(result.ts)} is already stored (record seq ${row[0]}) with other content (conflicting duplicate${agentText(result)})`,
    });
  }

  /**
   * A result on a day retention pruned is refused (listed in `conflicts`), unless the very same
   * record is still stored: that day's figures are its committed rollups, which count results
   * whose records are gone, so nothing can tell a new result there from one already counted
   * (an old export imported again would count the day twice).
   */
  #refusedAsPruned(result: ProbeResult, canonical: string, line: number): boolean {
    if (!this.#pruned(result.ts)) return false;
    const row = this.#storedRow(result);
    if (row !== undefined && canonicalForm(resultOfValues(row.slice(1))) === canonical) return false;
    const day = isoTimestamp(result.ts).slice(0, 10);
    this.conflicts.push({
      line,
      message: `probe ${result.probe} at ${isoTimestamp(result.ts)} falls on ${day}, a day whose records retention pruned: its figures are the rollups committed in the log, which may already count this result, so nothing is imported into it`,
    });
    return true;
  }

  /** The stored record with this result's identity: [seq, ...values], or undefined. */
  #storedRow(result: ProbeResult): unknown[] | undefined {
    return this.#stored.get(result.ts, result.probe, result.agent ?? "", spanKey(result)) as
      | unknown[]
      | undefined;
  }

  #assertOpen(): void {
    if (!this.#open) throw new Error("import session already ended");
  }
}

function agentText(result: ProbeResult): string {
  return result.agent == null ? "" : `, agent ${result.agent}`;
}
