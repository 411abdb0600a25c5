import { existsSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { type EpochMs, monthInterval } from "../model/time.js";
import { canonicalForm, chainHash, GENESIS_HASH, PeriodDigest } from "./canonical.js";
import { type ChainLink, latestAnchor } from "./chain.js";
import { periodInChainOrder } from "./queries.js";
import { RESULT_COLUMNS, type ResultRow, resultOfRow } from "./rows.js";
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
 * Recomputes the whole chain from the newest anchor (or genesis): every record must follow the
 * previous one by seq, name its hash as prev_hash, and hash to its stored hash.
 */
export function verifyChain(db: Database.Database): VerifyOutcome {
  const anchor = latestAnchor(db) ?? null;
  let previous: ChainLink = anchor ?? { seq: 0, hash: GENESIS_HASH };
  let records = 0;
  const rows = db.prepare(`SELECT ${RESULT_COLUMNS} FROM results ORDER BY seq`).iterate();
  for (const row of rows as Iterable<ResultRow>) {
    const problem =
      row.seq <= previous.seq
        ? pruned(row, previous)
        : (gap(row, previous) ?? link(db, row, previous.hash) ?? content(row));
    if (problem) return { ok: false, records, problem };
    previous = { seq: row.seq, hash: row.hash };
    records++;
  }
  return { ok: true, records, sha256: previous.hash.toString("hex"), anchor };
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
    const digest = new PeriodDigest();
    const hashAt = db.prepare("SELECT hash FROM results WHERE seq = ?").pluck();
    let previous: ChainLink | null = null;
    let records = 0;
    const { statement, args } = periodInChainOrder(db, RESULT_COLUMNS, from, to);
    for (const row of statement.iterate(...args) as Iterable<ResultRow>) {
      const before = row.seq - 1;
      const expected =
        previous?.seq === before
          ? previous.hash
          : before === (anchor?.seq ?? 0)
            ? (anchor?.hash ?? GENESIS_HASH)
            : (hashAt.get(before) as Buffer | undefined);
      const problem = expected ? (link(db, row, expected) ?? content(row)) : missingBefore(row);
      if (problem) return { ok: false, records, problem };
      digest.add(row.hash);
      previous = { seq: row.seq, hash: row.hash };
      records++;
    }
    const { sha256 } = digest.finish();
    return { ok: true, records, sha256, anchor };
  })();
}

function content(row: ResultRow): ChainProblem | null {
  const recomputed = chainHash(row.prev_hash, canonicalForm(resultOfRow(row)));
  if (recomputed.equals(row.hash)) return null;
  return problemAt("altered", row, "its content does not match its hash");
}

/** A broken link means the predecessor was altered (its hash changed) or this record was moved. */
function link(db: Database.Database, row: ResultRow, expected: Buffer): ChainProblem | null {
  if (row.prev_hash.equals(expected)) return null;
  const realPredecessor = db.prepare("SELECT seq FROM results WHERE hash = ?").pluck().get(row.prev_hash) as
    | number
    | undefined;
  if (realPredecessor !== undefined) {
    return problemAt(
      "reordered",
      row,
      `it was chained after record seq ${realPredecessor}, not seq ${row.seq - 1}`,
    );
  }
  return problemAt(
    "altered",
    row,
    `the record before it (seq ${row.seq - 1}) is not the one it was chained to (hash changed or replaced)`,
  );
}

function gap(row: ResultRow, previous: ChainLink): ChainProblem | null {
  if (row.seq === previous.seq + 1) return null;
  const first = previous.seq + 1;
  const last = row.seq - 1;
  const range = first === last ? `seq ${first} is` : `seq ${first}..${last} are`;
  return {
    kind: "missing",
    seq: first,
    probe: null,
    ts: null,
    detail: `record ${range} missing before record seq ${row.seq} (probe ${row.probe})`,
  };
}

function missingBefore(row: ResultRow): ChainProblem {
  return gap(row, { seq: row.seq - 2, hash: GENESIS_HASH })!;
}

function pruned(row: ResultRow, previous: ChainLink): ChainProblem {
  return problemAt(
    "reordered",
    row,
    `it sits at or before seq ${previous.seq}, where the chain already passed`,
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
      `SELECT ${RESULT_COLUMNS} FROM results r WHERE r.seq > ? + 1
       AND NOT EXISTS (SELECT 1 FROM results p WHERE p.seq = r.seq - 1) ORDER BY r.seq LIMIT 1`,
    )
    .get(start) as ResultRow | undefined;
  if (stats.lo !== start + 1) {
    const first = db.prepare(`SELECT ${RESULT_COLUMNS} FROM results ORDER BY seq LIMIT 1`).get() as ResultRow;
    if (first.seq > start + 1) return gap(first, { seq: start, hash: GENESIS_HASH });
  }
  if (!after) return null;
  const previousSeq = db
    .prepare("SELECT max(seq) FROM results WHERE seq < ?")
    .pluck()
    .get(after.seq) as number;
  return gap(after, { seq: previousSeq ?? start, hash: GENESIS_HASH });
}

function problemAt(kind: ChainProblemKind, row: ResultRow, detail: string): ChainProblem {
  return { kind, seq: row.seq, probe: row.probe, ts: row.ts, detail };
}
