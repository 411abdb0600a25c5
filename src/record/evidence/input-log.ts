import type Database from "better-sqlite3";
import canonicalize from "canonicalize";
import { statementOf } from "../statements.js";
import { chainHashHex, GENESIS_HASH, isoTimestamp } from "./canonical.js";
import type { ChainProblem } from "./verify.js";

/**
 * Inputs that decide a figure, as records of their own hash chain (docs/evidence-store.md, "Input
 * records"): each configuration the agent loads or reloads, each maintenance-feed observation that
 * adds or changes a window, each agent run's start and clean end (the unmonitored time). The signed checkpoints commit this chain's head beside the results'
 * head. A generic kind with a canonical payload, so that other inputs can be added without a
 * schema change. Kept apart from `results` so no reader of results has to tell records apart.
 */
export type InputKind =
  | "config"
  | "maintenance_observation"
  | "rollup_commitment"
  | "adoption"
  | "prune"
  | "import"
  | "run_start"
  | "run_end"
  | "rollback_detected"
  | "feed_reachability";

export interface InputRecord {
  readonly seq: number;
  readonly kind: InputKind;
  readonly ts: number;
  /** The payload as its RFC 8785 (JCS) text. */
  readonly payload: string;
}

/**
 * The text an input record's hash covers: `{"kind":…,"ts":"<ISO ms>","payload":<JCS>}`, hashed
 * like a result: SHA-256(hex(prev_hash) + "\n" + canonical).
 */
export function inputCanonical(kind: string, ts: number, payload: string): string {
  return `{"kind":${JSON.stringify(kind)},"ts":"${isoTimestamp(ts)}","payload":${payload}}`;
}

export function hasInputLog(db: Database.Database): boolean {
  return (
    statementOf(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'input_records'").get() !==
    undefined
  );
}

/** The head of the input chain: its newest record's seq and hash, or 0 and genesis. */
export function inputHead(db: Database.Database): { seq: number; hash: string } {
  if (!hasInputLog(db)) return { seq: 0, hash: GENESIS_HASH.toString("hex") };
  const row = statementOf(
    db,
    "SELECT seq, lower(hex(hash)) AS hash FROM input_records ORDER BY seq DESC LIMIT 1",
  ).get() as { seq: number; hash: string } | undefined;
  return row ?? { seq: 0, hash: GENESIS_HASH.toString("hex") };
}

/**
 * The newest time a result or input record of the log holds; null when it holds none. What an
 * input that decides figures is dated no earlier than (appendInput).
 */
export function newestRecordedTs(db: Database.Database): number | null {
  const results = statementOf(db, "SELECT max(ts) FROM results").pluck().get() as number | null;
  const inputs = hasInputLog(db)
    ? (statementOf(db, "SELECT max(ts) FROM input_records").pluck().get() as number | null)
    : null;
  if (results === null) return inputs;
  return inputs === null ? results : Math.max(results, inputs);
}

/**
 * The kinds whose time decides figures, as when what they hold was seen (a configuration's
 * windows, policy and controls; a feed's windows and their sightings): never dated before a
 * record already in the log. The rest (runs, rollups, prunes) keep their own times.
 */
const SEEN_KINDS: ReadonlySet<InputKind> = new Set([
  "config",
  "maintenance_observation",
  "feed_reachability",
]);

/**
 * `now` for an input record of a kind that decides figures: the clock's time, or the newest time
 * the log already holds when that is later. An agent whose clock was set back (by hand, after a
 * crash, or stepping back under a running agent) would otherwise date a window's sighting before
 * results it had already recorded, giving the window notice it never had; its records come after
 * those in the chain, so they were seen after them. The readers hold inputs to earlier inputs as
 * well (SEEN_INPUTS), which a log written before this rule needs.
 */
export function seenNow(db: Database.Database, now: number): number {
  const newest = newestRecordedTs(db);
  return newest === null ? now : Math.max(now, newest);
}

/**
 * Appends an input record (inside the caller's write transaction), dated `at` or, for a kind that
 * decides figures, seenNow. Returns its seq.
 */
export function appendInput(db: Database.Database, kind: InputKind, at: number, payload: unknown): number {
  const ts = SEEN_KINDS.has(kind) ? seenNow(db, at) : at;
  const text = canonicalize(payload) ?? "null";
  const head = inputHead(db);
  const hash = chainHashHex(head.hash, inputCanonical(kind, ts, text));
  statementOf(
    db,
    "INSERT INTO input_records (seq, kind, ts, payload, prev_hash, hash) VALUES (?, ?, ?, ?, unhex(?), unhex(?))",
  ).run(head.seq + 1, kind, ts, text, head.hash, hash);
  return head.seq + 1;
}

/** The newest config record's seq whose payload is this text, or null. */
export function latestInputOf(db: Database.Database, kind: InputKind): InputRecord | undefined {
  if (!hasInputLog(db)) return undefined;
  return statementOf(
    db,
    "SELECT seq, kind, ts, payload FROM input_records WHERE kind = ? ORDER BY seq DESC LIMIT 1",
  ).get(kind) as InputRecord | undefined;
}

/**
 * Input records as they count (contract 14, a change never reaches back): each one's ts is when it
 * counts as seen, its own or the newest of an input chained before it when that is later. An agent
 * restarted with its clock set back chains records dated before ones already in the log; what they
 * hold counts from when the log shows it could have been seen. The stored ts (hashed) is unchanged.
 */
const SEEN_INPUTS =
  "WITH seen AS (SELECT seq, kind, max(ts) OVER (ORDER BY seq) AS ts, payload FROM input_records)";

/** A kind's records, oldest first, each at when it counts as seen (SEEN_INPUTS). */
export function seenInputsOf(db: Database.Database, kind: InputKind): InputRecord[] {
  if (!hasInputLog(db)) return [];
  return db
    .prepare(`${SEEN_INPUTS} SELECT seq, kind, ts, payload FROM seen WHERE kind = ? ORDER BY seq`)
    .all(kind) as InputRecord[];
}

/** Every input record of a kind, oldest first. */
export function inputRecordsOf(db: Database.Database, kind: InputKind): InputRecord[] {
  if (!hasInputLog(db)) return [];
  return db
    .prepare("SELECT seq, kind, ts, payload FROM input_records WHERE kind = ? ORDER BY seq")
    .all(kind) as InputRecord[];
}

/**
 * Walks the input chain (it holds a record per configuration load and per feed change: small)
 * after `from` (by default from its start) and returns the first record that does not follow its
 * predecessor, name its hash or hash to its own, or that `refuse` gives a reason against.
 */
export function verifyInputChain(
  db: Database.Database,
  from: { readonly seq: number; readonly hash: string } = { seq: 0, hash: GENESIS_HASH.toString("hex") },
  refuse: (record: InputRecord) => string | null = () => null,
): ChainProblem | null {
  if (!hasInputLog(db)) return null;
  let previousSeq = from.seq;
  let previousHash = from.hash;
  const rows = statementOf(
    db,
    "SELECT seq, kind, ts, payload, lower(hex(prev_hash)) AS prev, lower(hex(hash)) AS hash FROM input_records WHERE seq > ? ORDER BY seq",
  ).iterate(from.seq) as Iterable<InputRecord & { prev: string; hash: string }>;
  for (const row of rows) {
    const at = { seq: row.seq, probe: `input ${row.kind}`, ts: row.ts };
    if (row.seq !== previousSeq + 1)
      return { kind: "missing", ...at, detail: `input record seq ${previousSeq + 1} is missing` };
    if (row.prev !== previousHash)
      return { kind: "altered", ...at, detail: "input record: not chained to the input record before it" };
    if (chainHashHex(row.prev, inputCanonical(row.kind, row.ts, row.payload)) !== row.hash)
      return { kind: "altered", ...at, detail: "input record: its content does not match its hash" };
    const refused = refuse(row);
    if (refused !== null) return { kind: "altered", ...at, detail: `input record: ${refused}` };
    previousSeq = row.seq;
    previousHash = row.hash;
  }
  return null;
}

/** Input records out of time: the first one, how many, and which way its clock was wrong. */
export interface InputsOutOfTime {
  readonly records: number;
  readonly firstSeq: number;
  readonly firstTs: number;
  /**
   * "after_report": dated after the report is made (a clock set ahead); "after_later": dated after
   * an input chained after it; "before_earlier": dated before an input chained ahead of it. In the
   * last two the clock of one of the two records was wrong, which one the chain cannot say.
   */
  readonly way: "after_report" | "after_later" | "before_earlier";
}

/** How far apart in time two inputs may be out of chain order before their clock is called wrong. */
const OUT_OF_TIME_MS = 60_000;

/**
 * Input records whose time the chain contradicts: a record that decides figures (SEEN_KINDS) dated
 * after `now` or after an input of any kind chained after it (a clock set ahead: every such input
 * after it counts from that date), and a record of any kind dated before an input chained ahead of
 * it (a clock set back: a run's start after a crash, say). Each agent writes its inputs as they
 * happen, so in an honest log they are in time order. Null: none.
 */
export function inputsOutOfTimeOf(db: Database.Database, now: number): InputsOutOfTime | null {
  if (!hasInputLog(db)) return null;
  const seen = [...SEEN_KINDS].map((k) => `'${k}'`).join(", ");
  const rows = db
    .prepare(
      `SELECT seq, ts, CASE WHEN kind IN (${seen}) AND ts > ? THEN 'after_report'
           WHEN kind IN (${seen}) AND ts > later + ${OUT_OF_TIME_MS} THEN 'after_later'
           WHEN ts < earlier - ${OUT_OF_TIME_MS} THEN 'before_earlier' END AS way
         FROM (SELECT seq, kind, ts,
           max(ts) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier,
           min(ts) OVER (ORDER BY seq ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS later
           FROM input_records)
         WHERE way IS NOT NULL ORDER BY seq`,
    )
    .all(now) as { seq: number; ts: number; way: InputsOutOfTime["way"] }[];
  const first = rows[0];
  if (first === undefined) return null;
  return { records: rows.length, firstSeq: first.seq, firstTs: first.ts, way: first.way };
}

/**
 * The configuration records in force during [from, to): the newest one loaded before `from` and
 * every one loaded inside, each at when it counts as seen (SEEN_INPUTS). What a report's evidence
 * names as the configuration it used.
 */
export function configRecordsOf(db: Database.Database, from: number, to: number): InputRecord[] {
  if (!hasInputLog(db)) return [];
  const before = db
    .prepare(
      `${SEEN_INPUTS} SELECT seq, kind, ts, payload FROM seen WHERE kind = 'config' AND ts < ? ORDER BY seq DESC LIMIT 1`,
    )
    .all(from) as InputRecord[];
  const inside = db
    .prepare(
      `${SEEN_INPUTS} SELECT seq, kind, ts, payload FROM seen WHERE kind = 'config' AND ts >= ? AND ts < ? ORDER BY seq`,
    )
    .all(from, to) as InputRecord[];
  return [...before, ...inside];
}

/** The first `rollback_detected` record after input seq `after` (a running agent's trace of a rollback), if any. */
export function rollbackRecordAfter(db: Database.Database, after: number): InputRecord | undefined {
  if (!hasInputLog(db)) return undefined;
  return db
    .prepare(
      "SELECT seq, kind, ts, payload FROM input_records WHERE seq > ? AND kind = 'rollback_detected' ORDER BY seq LIMIT 1",
    )
    .get(after) as InputRecord | undefined;
}

/**
 * What verify, a report and a restarting agent say of a `rollback_detected` record: when the
 * agent found the store gone back, what it had signed and what it found instead.
 */
export function describeRollbackRecord(record: InputRecord): string {
  return `the agent detected a rollback at ${isoTimestamp(record.ts)} (input record seq ${record.seq}, rollback_detected)${rollbackFinding(record)}; the record is left unsigned on purpose: records were deleted and an older checkpoint restored under a running agent (docs/evidence-store.md, "What an unanchored rollback can still do")`;
}

/**
 * Each `rollback_detected` record an `evidence adopt` signed over (the first adoption after it in
 * the input chain), one sentence each: adopting makes the chain verify again, so without this the
 * rollback the agent found would be named nowhere (AUDIT-23f finding 2). `records`: the input
 * records of both kinds, any order.
 */
export function adoptedRollbacks(records: readonly InputRecord[]): string[] {
  const sorted = [...records].sort((a, b) => a.seq - b.seq);
  return sorted.flatMap((rollback) => {
    if (rollback.kind !== "rollback_detected") return [];
    const adoption = sorted.find((r) => r.kind === "adoption" && r.seq > rollback.seq);
    if (!adoption) return [];
    return [
      `the agent detected a rollback at ${isoTimestamp(rollback.ts)} (input record seq ${rollback.seq}) and an adoption at ${isoTimestamp(adoption.ts)} (input record seq ${adoption.seq}) signed over it${rollbackFinding(rollback)}; records were deleted and an older checkpoint restored under a running agent, and what the adoption signed rests on the operator's word (docs/evidence-store.md, "What an unanchored rollback can still do")`,
    ];
  });
}

/** What a `rollback_detected` record's payload says the agent had signed and found instead. */
function rollbackFinding(record: InputRecord): string {
  let what = "";
  try {
    const payload = JSON.parse(record.payload) as {
      signed_head?: { results_seq?: number; inputs_seq?: number; signed_at?: string };
      found?: { what?: string; results_seq?: number; inputs_seq?: number };
    };
    const signed = payload.signed_head;
    const found = payload.found;
    what = `: it had signed and committed the head at results seq ${signed?.results_seq}, input seq ${signed?.inputs_seq} (${signed?.signed_at}) and found ${found?.what} (results end at seq ${found?.results_seq}, input records at seq ${found?.inputs_seq})`;
  } catch {
    // A payload that is not JSON is the record's own finding: the chain walk names it.
  }
  return what;
}
