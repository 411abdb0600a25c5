import { existsSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { type EpochMs, monthInterval } from "../../model/time.js";
import { RESULT_VALUE_COLUMNS, resultOfValues } from "../rows.js";
import { EVIDENCE_FILE, openReader } from "../schema.js";
import { canonicalForm, chainHashHex, GENESIS_HASH } from "./canonical.js";
import { type ChainLink, latestAnchor } from "./chain.js";
import { checkCheckpoint, checkpointKeyIds, newestCheckpoint, type PeriodCommitment } from "./checkpoints.js";
import { adoptedRollbacks, inputRecordsOf } from "./input-log.js";
import { rollupsDisagree } from "./rollup-commitments.js";
import { keyFileOf, loadAgentKey } from "./signing.js";
import { type PeriodVerification, verifyPeriod } from "./verify-period.js";

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
      /** The key ids the store's checkpoints name, oldest first (verifyEvidence): the key to pin. */
      readonly keyIds?: readonly string[];
      /** Each `rollback_detected` record an adoption signed over, one sentence each (verifyEvidence). */
      readonly adoptedRollbacks?: readonly string[];
    }
  | { readonly ok: false; readonly records: number; readonly problem: ChainProblem };

export interface VerifyOptions {
  readonly month?: string;
  /** The agent's key file (`agent.signing_key_file`); default the data directory's. */
  readonly signingKeyFile?: string | null;
}

/**
 * `slo-agent verify`: checks the evidence file in a data directory without writing to it (a
 * running agent may keep writing meanwhile), and its newest signed checkpoint against the agent's
 * key when that key is there. Throws when there is no evidence file.
 */
export function verifyEvidence(dataDir: string, options: VerifyOptions = {}): VerifyOutcome {
  const path = join(dataDir, EVIDENCE_FILE);
  if (!existsSync(path)) throw new Error(`no evidence store at ${dataDir} (${EVIDENCE_FILE} not found)`);
  const key = loadAgentKey(keyFileOf(dataDir, options.signingKeyFile), { create: false });
  const db = openReader(path, 5_000);
  try {
    return db.transaction((): VerifyOutcome => {
      const publicKeyPem = key?.publicKeyPem ?? null;
      const outcome =
        options.month !== undefined
          ? verifyMonth(db, options.month, publicKeyPem)
          : withPrunedRollups(db, withCheckpoint(db, verifyChain(db), publicKeyPem));
      return outcome.ok
        ? {
            ...outcome,
            keyIds: checkpointKeyIds(db),
            adoptedRollbacks: adoptedRollbacks([
              ...inputRecordsOf(db, "rollback_detected"),
              ...inputRecordsOf(db, "adoption"),
            ]),
          }
        : outcome;
    })();
  } finally {
    db.close();
  }
}

/**
 * The whole store: every pruned day's rollups against its signed commitment too, as a month's
 * verification checks its own (the input chain is verified and committed by now).
 */
function withPrunedRollups(db: Database.Database, outcome: VerifyOutcome): VerifyOutcome {
  if (!outcome.ok) return outcome;
  const rollups = rollupsDisagree(db, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (rollups === null) return outcome;
  const head = newestCheckpoint(db)?.headSeq ?? 0;
  return {
    ok: false,
    records: outcome.records,
    problem: { kind: "altered", seq: head, probe: null, ts: null, detail: rollups },
  };
}

function verifyMonth(db: Database.Database, month: string, publicKeyPem: string | null): VerifyOutcome {
  const { start, end } = monthInterval(month);
  const period = periodWithCheckpoint(db, verifyPeriod(db, start, end), publicKeyPem, {
    start,
    end,
    now: Date.now(),
  });
  if (period.problem) return { ok: false, records: period.records, problem: period.problem };
  return { ok: true, records: period.records, sha256: period.sha256, anchor: period.anchor };
}

/**
 * A chain must also still hold the head and anchor its newest checkpoint signed, and a period's
 * records must be committed by it. Of a problem the walk found and one the checkpoint shows, the
 * lower seq is named: the first bad place in the chain.
 */
export function withCheckpoint(
  db: Database.Database,
  outcome: VerifyOutcome,
  publicKeyPem: string | null,
  period?: PeriodCommitment,
  ownAfter?: number,
): VerifyOutcome {
  const finding = checkCheckpoint(db, publicKeyPem, period, ownAfter);
  if (!finding) return outcome;
  if (!outcome.ok && outcome.problem.seq <= finding.seq) return outcome;
  const record = db.prepare("SELECT probe, ts FROM results WHERE seq = ?").get(finding.seq) as
    | { probe: string; ts: EpochMs }
    | undefined;
  const problem: ChainProblem = {
    kind: finding.kind,
    seq: finding.seq,
    probe: record?.probe ?? null,
    ts: record?.ts ?? null,
    detail: finding.detail,
  };
  return { ok: false, records: outcome.records, problem };
}

/** A period's verification with the checkpoint's findings: the first problem of either, by seq. */
export function periodWithCheckpoint(
  db: Database.Database,
  p: PeriodVerification,
  publicKeyPem: string | null,
  span: { readonly start?: EpochMs; readonly end: EpochMs; readonly now: EpochMs },
): PeriodVerification {
  const outcome: VerifyOutcome = p.problem
    ? { ok: false, records: p.records, problem: p.problem }
    : { ok: true, records: p.records, sha256: p.sha256, anchor: p.anchor };
  const checked = withCheckpoint(db, outcome, publicKeyPem, {
    firstSeq: p.firstSeq,
    lastSeq: p.lastSeq,
    end: span.end,
    now: span.now,
  });
  if (!checked.ok) return { ...p, problem: checked.problem };
  // The input chain is verified and committed now, so its rollup commitments can be relied on.
  const rollups = span.start === undefined ? null : rollupsDisagree(db, span.start, span.end);
  if (rollups === null) return p;
  const head = newestCheckpoint(db)?.headSeq ?? 0;
  return { ...p, problem: { kind: "altered", seq: head, probe: null, ts: null, detail: rollups } };
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
export type StoredRecord = readonly unknown[];
export const RECORD_COLUMNS = `${RESULT_VALUE_COLUMNS}, seq, lower(hex(prev_hash)), lower(hex(hash))`;
export const TS = 0;
const PROBE = 1;
export const SEQ = 17;
export const PREV_HASH = 18;
export const HASH = 19;

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

export function content(row: StoredRecord): ChainProblem | null {
  const recomputed = chainHashHex(row[PREV_HASH] as string, canonicalForm(resultOfValues(row)));
  if (recomputed === row[HASH]) return null;
  return problemAt("altered", located(row), "its content does not match its hash");
}

/** A broken link means the predecessor was altered (its hash changed) or this record was moved. */
export function link(db: Database.Database, row: StoredRecord, expected: string): ChainProblem | null {
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

export function gap(next: Located, previousSeq: number): ChainProblem | null {
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

function pruned(row: StoredRecord, previousSeq: number): ChainProblem {
  return problemAt(
    "reordered",
    located(row),
    `it sits at or before seq ${previousSeq}, where the chain already passed`,
  );
}

/** The first hole in seq numbering after the anchor, found without hashing anything. */
export function firstGap(db: Database.Database, anchor: ChainLink | null): ChainProblem | null {
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

export function located(row: StoredRecord): Located {
  return { seq: row[SEQ] as number, probe: row[PROBE] as string, ts: row[TS] as EpochMs };
}

export function problemAt(kind: ChainProblemKind, at: Located, detail: string): ChainProblem {
  return { kind, seq: at.seq, probe: at.probe, ts: at.ts, detail };
}
