import { existsSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { type EpochMs, monthInterval } from "../model/time.js";
import { canonicalForm, chainHashHex, GENESIS_HASH, PeriodDigest } from "./canonical.js";
import { type ChainLink, latestAnchor } from "./chain.js";
import { periodInChainOrder } from "./queries.js";
import { RESULT_VALUE_COLUMNS, resultOfValues } from "./rows.js";
import { EVIDENCE_FILE, openReader } from "./schema.js";

export type ChainProblemKind = "altered" | "missing" | "reordered";

/** The first place where the stored chain disagrees with itself. */
export interface ChainProblem {
  readonly kind: ChainProblemKind;
  readonly seq: number;
  /** Of the record named by seq, when it is still there. */
  readonly probe: string | null;
  readonly ts: EpochMs | null;
  readonly detail: string;
}

export type VerifyOutcome =
  | {
      readonly ok: true;
      readonly records: number;
      readonly sha256: string;
      readonly anchor: ChainLink | null;
    }
  | { readonly ok: false; readonly records: number; readonly problem: ChainProblem };

/**
 * `slo-agent verify`: checks the evidence file in a data directory without writing to it (a
 * running agent may keep writing meanwhile). Throws when there is no evidence file.
 */
export function verifyEvidence(dataDir: string, options: { month?: string } = {}): VerifyOutcome {
  const path = join(dataDir, EVIDENCE_FILE);
  if (!existsSync(path)) throw new Error(`no evidence store at ${dataDir} (${EVIDENCE_FILE} not found)`);
  const db = openReader(path, 5_000);
  try {
    if (options.month === undefined) return verifyChain(db);
    const { start, end } = monthInterval(options.month);
    return verifyPeriod(db, start, end);
  } finally {
    db.close();
  }
}

/** One line naming the first problem, as `slo-agent verify` prints it. */
export function describeProblem(problem: ChainProblem): string {
  const where =
    problem.probe === null ? "" : ` (probe ${problem.probe}, ts ${new Date(problem.ts ?? 0).toISOString()})`;
  return `${problem.kind}: record seq ${problem.seq}${where}: ${problem.detail}`;
}

/**
 * A record as verify reads it, an array (stmt.raw()): RESULT_VALUE_COLUMNS, then seq and both
 * hashes as lowercase hex made by SQLite. Two Buffers and an object per row were most of a
 * month's verify.
 */
type StoredRecord = readonly unknown[];
const RECORD_COLUMNS = `${RESULT_VALUE_COLUMNS}, seq, lower(hex(prev_hash)), lower(hex(hash))`;
const TS = 0;
const PROBE = 1;
const SEQ = 13;
const PREV_HASH = 14;
const HASH = 15;

/** Where a problem is: a record's seq and what names it to a reader. */
interface Located {
  readonly seq: number;
  readonly probe: string;
  readonly ts: EpochMs;
}

/**
 * Recomputes the whole chain from the newest anchor (or genesis): every record must follow the
 * previous one by seq, name its hash as prev_hash, and hash to its stored hash.
 */
export function verifyChain(db: Database.Database): VerifyOutcome {
  const anchor = latestAnchor(db) ?? null;
  let previousSeq = anchor?.seq ?? 0;
  let previousHash = (anchor?.hash ?? GENESIS_HASH).toString("hex");
  let records = 0;
  const rows = db.prepare(`SELECT ${RECORD_COLUMNS} FROM results ORDER BY seq`).raw(true).iterate();
  for (const row of rows as Iterable<StoredRecord>) {
    const problem = nextInChain(db, row, previousSeq, previousHash);
    if (problem) return { ok: false, records, problem };
    previousSeq = row[SEQ] as number;
    previousHash = row[HASH] as string;
    records++;
  }
  return { ok: true, records, sha256: previousHash, anchor };
}

/** What is wrong with row as the successor of the record (or anchor) at previousSeq, if anything. */
function nextInChain(
  db: Database.Database,
  row: StoredRecord,
  previousSeq: number,
  previousHash: string,
): ChainProblem | null {
  const seq = row[SEQ] as number;
  if (seq <= previousSeq) return pruned(row, previousSeq);
  if (seq !== previousSeq + 1) return gap(located(row), previousSeq);
  return link(db, row, previousHash) ?? content(row);
}

/**
 * Checks only the records whose ts falls in [from, to) (each against its predecessor, wherever
 * that is) plus the whole chain for gaps, and returns the period digest of chainHead({from, to}).
 */
export function verifyPeriod(db: Database.Database, from: EpochMs, to: EpochMs): VerifyOutcome {
  // One read transaction: the gap check, the choice of query and the walk see the same records.
  return db.transaction((): VerifyOutcome => {
    const anchor = latestAnchor(db) ?? null;
    const missing = firstGap(db, anchor);
    if (missing) return { ok: false, records: 0, problem: missing };
    const anchorSeq = anchor?.seq ?? 0;
    const anchorHash = (anchor?.hash ?? GENESIS_HASH).toString("hex");
    const digest = new PeriodDigest();
    const hashAt = db.prepare("SELECT lower(hex(hash)) FROM results WHERE seq = ?").pluck();
    let previousSeq = Number.NaN;
    let previousHash = "";
    let records = 0;
    const { statement, args } = periodInChainOrder(db, RECORD_COLUMNS, from, to);
    for (const row of statement.raw(true).iterate(...args) as Iterable<StoredRecord>) {
      const before = (row[SEQ] as number) - 1;
      const expected =
        previousSeq === before
          ? previousHash
          : before === anchorSeq
            ? anchorHash
            : (hashAt.get(before) as string | undefined);
      const problem = expected ? (link(db, row, expected) ?? content(row)) : missingBefore(row);
      if (problem) return { ok: false, records, problem };
      previousSeq = before + 1;
      previousHash = row[HASH] as string;
      digest.addHex(previousHash);
      records++;
    }
    const { sha256 } = digest.finish();
    return { ok: true, records, sha256, anchor };
  })();
}

function content(row: StoredRecord): ChainProblem | null {
  const recomputed = chainHashHex(row[PREV_HASH] as string, canonicalForm(resultOfValues(row)));
  if (recomputed === row[HASH]) return null;
  return problemAt("altered", located(row), "its content does not match its hash");
}

/** A broken link means the predecessor was altered (its hash changed) or this record was moved. */
function link(db: Database.Database, row: StoredRecord, expected: string): ChainProblem | null {
  if (row[PREV_HASH] === expected) return null;
  const at = located(row);
  const realPredecessor = db
    .prepare("SELECT seq FROM results WHERE hash = unhex(?)")
    .pluck()
    .get(row[PREV_HASH]) as number | undefined;
  if (realPredecessor !== undefined) {
    return problemAt(
      "reordered",
      at,
      `it was chained after record seq ${realPredecessor}, not seq ${at.seq - 1}`,
    );
  }
  return problemAt(
    "altered",
    at,
    `the record before it (seq ${at.seq - 1}) is not the one it was chained to (hash changed or replaced)`,
  );
}

function gap(next: Located, previousSeq: number): ChainProblem | null {
  if (next.seq === previousSeq + 1) return null;
  const first = previousSeq + 1;
  const last = next.seq - 1;
  const range = first === last ? `seq ${first} is` : `seq ${first}..${last} are`;
  return {
    kind: "missing",
    seq: first,
    probe: null,
    ts: null,
    detail: `record ${range} missing before record seq ${next.seq} (probe ${next.probe})`,
  };
}

function missingBefore(row: StoredRecord): ChainProblem {
  return gap(located(row), (row[SEQ] as number) - 2)!;
}

function pruned(row: StoredRecord, previousSeq: number): ChainProblem {
  return problemAt(
    "reordered",
    located(row),
    `it sits at or before seq ${previousSeq}, where the chain already passed`,
  );
}

/** The first hole in seq numbering after the anchor, found without hashing anything. */
function firstGap(db: Database.Database, anchor: ChainLink | null): ChainProblem | null {
  const start = anchor?.seq ?? 0;
  const stats = db.prepare("SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM results").get() as {
    n: number;
    lo: number | null;
    hi: number | null;
  };
  if (stats.n === 0 || (stats.lo === start + 1 && stats.hi! - stats.lo + 1 === stats.n)) return null;
  const after = db
    .prepare(
      `SELECT seq, probe, ts FROM results r WHERE r.seq > ? + 1
       AND NOT EXISTS (SELECT 1 FROM results p WHERE p.seq = r.seq - 1) ORDER BY r.seq LIMIT 1`,
    )
    .get(start) as Located | undefined;
  if (stats.lo !== start + 1) {
    const first = db.prepare("SELECT seq, probe, ts FROM results ORDER BY seq LIMIT 1").get() as Located;
    if (first.seq > start + 1) return gap(first, start);
  }
  if (!after) return null;
  const previousSeq = db
    .prepare("SELECT max(seq) FROM results WHERE seq < ?")
    .pluck()
    .get(after.seq) as number;
  return gap(after, previousSeq ?? start);
}

function located(row: StoredRecord): Located {
  return { seq: row[SEQ] as number, probe: row[PROBE] as string, ts: row[TS] as EpochMs };
}

function problemAt(kind: ChainProblemKind, at: Located, detail: string): ChainProblem {
  return { kind, seq: at.seq, probe: at.probe, ts: at.ts, detail };
}
