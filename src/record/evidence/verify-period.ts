import type Database from "better-sqlite3";
import type { ProbeResult } from "../../model/result.js";
import type { EpochMs } from "../../model/time.js";
import { resultOfValues } from "../rows.js";
import { canonicalForm, chainHashHex, GENESIS_HASH, PeriodDigest } from "./canonical.js";
import { type ChainLink, latestAnchor } from "./chain.js";
import {
  type ChainProblem,
  content,
  firstGap,
  gap,
  HASH,
  link,
  located,
  PREV_HASH,
  problemAt,
  RECORD_COLUMNS,
  SEQ,
  type StoredRecord,
  TS,
} from "./verify.js";

/** A period's records checked, with the digest made from their content. */
export interface PeriodVerification {
  readonly records: number;
  /** The period digest (PeriodDigest) over the records' content as read: altered content changes it. */
  readonly sha256: string;
  /** The lowest and highest seq of the period's records; 0 when it has none. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly anchor: ChainLink | null;
  /** The first problem in seq order; the digest is computed even when there is one. */
  readonly problem: ChainProblem | null;
}

/**
 * The period's records as the verification reads them (all categories, in ts then probe order),
 * for a report built in the same pass; digest() is the period digest once they have been read.
 */
export interface VerifiedRecords {
  readonly results: Iterable<ProbeResult>;
  digest(): { readonly records: number; readonly sha256: string };
}

/**
 * Checks the records whose ts falls in [from, to) and everything chained from the record before
 * the period's first one up to the chain's tail: every one must follow its predecessor by seq,
 * name its hash and hash to its own. Walking on to the tail, not just the period's run, ties the
 * period to the head the newest checkpoint signs (checkPeriodCommitted): a month rewritten and
 * rechained only as far as its last record + 1 breaks a link after it. Walking the whole seq
 * run, not just the period's ts, catches a record whose ts was moved out of the period (it still
 * sits in the run and no longer hashes). The whole chain is also checked for gaps. Two passes:
 * the links in seq order, then the period's records in ts order, each re-hashed once and
 * digested; `readAlong` sees the second pass's results (the report reads the month once). Run it
 * inside one read transaction.
 */
export function verifyPeriod(
  db: Database.Database,
  from: EpochMs,
  to: EpochMs,
  readAlong?: (records: VerifiedRecords) => void,
): PeriodVerification {
  const anchor = latestAnchor(db) ?? null;
  const chainGap = firstGap(db, anchor);
  const [count, first, last] = db
    .prepare("SELECT count(*), min(seq), max(seq) FROM results WHERE ts >= ? AND ts < ?")
    .raw(true)
    .get(from, to) as [number, number | null, number | null];
  if (count === 0 || first === null || last === null) {
    readAlong?.({ results: [], digest: () => new PeriodDigest().finish() });
    return { ...new PeriodDigest().finish(), firstSeq: 0, lastSeq: 0, anchor, problem: chainGap };
  }
  const tail = db.prepare("SELECT max(seq) FROM results").pluck().get() as number;
  const links = firstBrokenLink(db, { from, to, first, last, tail, anchor });
  const pass = new ContentPass(db, from, to);
  try {
    readAlong?.({ results: pass.results(), digest: () => pass.finish() });
  } catch (error) {
    pass.abandon(); // an open read would keep the transaction from ending and hide the error
    throw error;
  }
  const digest = pass.finish();
  const altered = pass.altered;
  // As one walk in seq order would name it: the lower seq first, a link before content at one seq.
  const problem =
    chainGap ?? (altered !== null && (links === null || altered.seq < links.seq) ? altered : links);
  return { ...digest, firstSeq: first, lastSeq: last, anchor, problem };
}

interface SeqRun {
  readonly from: EpochMs;
  readonly to: EpochMs;
  /** The lowest and highest seq of the period's records. */
  readonly first: number;
  readonly last: number;
  /** The highest seq of the chain: the walk goes on to it. */
  readonly tail: number;
  readonly anchor: ChainLink | null;
}

/**
 * The first record in [first - 1, tail] (not before the anchor) that does not follow its
 * predecessor, or, being outside the period's ts, does not hash to its own hash (the period's
 * own records are re-hashed by digestOfContent).
 */
function firstBrokenLink(db: Database.Database, run: SeqRun): ChainProblem | null {
  const anchorSeq = run.anchor?.seq ?? 0;
  const lo = Math.max(run.first - 1, anchorSeq + 1);
  let previousSeq = lo - 1;
  let previousHash =
    previousSeq === anchorSeq
      ? (run.anchor?.hash ?? GENESIS_HASH).toString("hex")
      : (db.prepare("SELECT lower(hex(hash)) FROM results WHERE seq = ?").pluck().get(previousSeq) as
          | string
          | undefined);
  if (linksHold(db, run, lo, previousHash)) return null;
  const rows = db
    .prepare(`SELECT ${RECORD_COLUMNS} FROM results WHERE seq >= ? AND seq <= ? ORDER BY seq`)
    .raw(true)
    .iterate(lo, run.tail) as Iterable<StoredRecord>;
  for (const row of rows) {
    const seq = row[SEQ] as number;
    const ts = row[TS] as number;
    const problem =
      (seq !== previousSeq + 1 ? gap(located(row), previousSeq) : null) ??
      (previousHash === undefined ? null : link(db, row, previousHash)) ??
      (ts >= run.from && ts < run.to ? null : content(row));
    if (problem) return problem;
    previousSeq = seq;
    previousHash = row[HASH] as string;
  }
  return null;
}

/**
 * firstBrokenLink's walk finds nothing, checked inside SQLite: no seq missing in [lo, tail], the
 * first record naming previousHash, every later one naming its predecessor's hash, and the run's
 * records outside the period's ts hashing to their own. A walk in JS costs a row object per
 * record (most of a month's verification); it runs only where this says something is wrong, to
 * name the problem exactly as before.
 */
function linksHold(
  db: Database.Database,
  run: SeqRun,
  lo: number,
  previousHash: string | undefined,
): boolean {
  const present = db
    .prepare("SELECT count(*) FROM results WHERE seq >= ? AND seq <= ?")
    .pluck()
    .get(lo, run.tail) as number;
  if (present !== run.tail - lo + 1) return false;
  if (previousHash !== undefined) {
    const named = db.prepare("SELECT lower(hex(prev_hash)) FROM results WHERE seq = ?").pluck().get(lo);
    if (named !== previousHash) return false;
  }
  const unlinked = db
    .prepare(
      `SELECT 1 FROM results r JOIN results before ON before.seq = r.seq - 1
       WHERE r.seq > ? AND r.seq <= ? AND r.prev_hash IS NOT before.hash LIMIT 1`,
    )
    .get(lo, run.tail);
  if (unlinked !== undefined) return false;
  // Iterated, not all(): after out-of-order imports the run may hold many other months' records.
  const outside = db
    .prepare(`SELECT ${RECORD_COLUMNS} FROM results WHERE seq >= ? AND seq <= ? AND NOT (ts >= ? AND ts < ?)`)
    .raw(true)
    .iterate(lo, run.tail, run.from, run.to) as Iterable<StoredRecord>;
  for (const row of outside) if (content(row) !== null) return false;
  return true;
}

/**
 * The period's records in ts order, each re-hashed and digested as it is read: the digest, and
 * the altered record of lowest seq (content not matching its hash). Read once, by results() or,
 * for what nobody read, by finish().
 */
class ContentPass {
  altered: ChainProblem | null = null;
  readonly #digest = new PeriodDigest();
  readonly #rows: IterableIterator<StoredRecord>;
  #result: { records: number; sha256: string } | null = null;

  constructor(db: Database.Database, from: EpochMs, to: EpochMs) {
    this.#rows = db
      .prepare(`SELECT ${RECORD_COLUMNS} FROM results WHERE ts >= ? AND ts < ? ORDER BY ts, probe`)
      .raw(true)
      .iterate(from, to) as IterableIterator<StoredRecord>;
  }

  *results(): Generator<ProbeResult> {
    // Not for-of: a reader that stops early must not close the rows that finish() still digests.
    for (let row = this.#rows.next(); !row.done; row = this.#rows.next()) yield this.#check(row.value);
  }

  finish(): { records: number; sha256: string } {
    if (this.#result === null) {
      for (const row of this.#rows) this.#check(row);
      this.#result = this.#digest.finish();
    }
    return this.#result;
  }

  abandon(): void {
    this.#rows.return?.();
  }

  #check(row: StoredRecord): ProbeResult {
    const result = resultOfValues(row);
    const canonical = canonicalForm(result);
    this.#digest.add(row[TS] as number, canonical);
    if (chainHashHex(row[PREV_HASH] as string, canonical) !== row[HASH]) {
      if (this.altered === null || (row[SEQ] as number) < this.altered.seq) {
        this.altered = problemAt("altered", located(row), "its content does not match its hash");
      }
    }
    return result;
  }
}
