import type Database from "better-sqlite3";
import type { EpochMs } from "../model/time.js";
import { canonicalForm, chainHashHex, GENESIS_HASH, PeriodDigest } from "./canonical.js";
import { type ChainLink, latestAnchor } from "./chain.js";
import { resultOfValues } from "./rows.js";
import {
  type ChainProblem,
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

/** A period's records checked, with the digest made from the hashes they recompute to. */
export interface PeriodVerification {
  readonly records: number;
  /** The period digest over recomputed hashes: equal to the stored one only if nothing was altered. */
  readonly sha256: string;
  /** The lowest and highest seq of the period's records; 0 when it has none. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly anchor: ChainLink | null;
  /** The first problem met; the walk goes on past it so that the digest is still computed. */
  readonly problem: ChainProblem | null;
}

/**
 * Checks the records whose ts falls in [from, to) and everything chained between them, plus the
 * record on each side: every one must follow its predecessor by seq, name its hash and hash to
 * its own. Walking the whole seq run, not just the period's ts, catches a record whose ts was
 * moved out of the period (it still sits in the run and no longer hashes). The whole chain is
 * also checked for gaps. Run it inside one read transaction.
 */
export function verifyPeriod(db: Database.Database, from: EpochMs, to: EpochMs): PeriodVerification {
  const anchor = latestAnchor(db) ?? null;
  let problem: ChainProblem | null = firstGap(db, anchor);
  const [count, first, last] = db
    .prepare("SELECT count(*), min(seq), max(seq) FROM results WHERE ts >= ? AND ts < ?")
    .raw(true)
    .get(from, to) as [number, number | null, number | null];
  const digest = new PeriodDigest();
  if (count === 0 || first === null || last === null) {
    return { ...digest.finish(), firstSeq: 0, lastSeq: 0, anchor, problem };
  }
  const anchorSeq = anchor?.seq ?? 0;
  const lo = Math.max(first - 1, anchorSeq + 1);
  let previousSeq = lo - 1;
  let previousHash =
    previousSeq === anchorSeq
      ? (anchor?.hash ?? GENESIS_HASH).toString("hex")
      : (db.prepare("SELECT lower(hex(hash)) FROM results WHERE seq = ?").pluck().get(previousSeq) as
          | string
          | undefined);
  const rows = db
    .prepare(`SELECT ${RECORD_COLUMNS} FROM results WHERE seq >= ? AND seq <= ? ORDER BY seq`)
    .raw(true)
    .iterate(lo, last + 1) as Iterable<StoredRecord>;
  for (const row of rows) {
    const seq = row[SEQ] as number;
    const recomputed = chainHashHex(row[PREV_HASH] as string, canonicalForm(resultOfValues(row)));
    problem ??=
      (seq !== previousSeq + 1 ? gap(located(row), previousSeq) : null) ??
      (previousHash === undefined ? null : link(db, row, previousHash)) ??
      (recomputed === row[HASH]
        ? null
        : problemAt("altered", located(row), "its content does not match its hash"));
    const ts = row[TS] as number;
    if (ts >= from && ts < to) digest.addHex(recomputed);
    previousSeq = seq;
    previousHash = row[HASH] as string;
  }
  return { ...digest.finish(), firstSeq: first, lastSeq: last, anchor, problem };
}
