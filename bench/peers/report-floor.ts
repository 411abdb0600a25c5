/**
 * The report floor (issue 30 item 4): the least a program must do for contract section 7 —
 * "`report` recomputes the hash of every record it reports and checks the links into and out of
 * the period" — written as plainly as it can be with better-sqlite3 and node:crypto, and nothing
 * else (no SLA figures, no period digest, no checkpoint, no rollups).
 *
 * The hash is the agent's (src/record/evidence/canonical.ts): SHA-256 over the UTF-8 bytes of
 * `<prev_hash as 64 lowercase hex digits>\n<canonical form>`, the canonical form being one JSON
 * object with the fields in a fixed order, optional ones appended only when present. Here it is
 * built straight from the stored columns. The phases and observed columns hold their canonical
 * JSON already (src/record/rows.ts fills them with phasesJson and canonicalize), so they are
 * hashed as stored: the same bytes on an intact store; stricter than the agent, which parses and
 * re-serialises them, on one edited into equivalent JSON.
 *
 * The walk: the seq run from the record before the period's first to the one after its last, in
 * seq order (a rowid range scan), inside one read transaction. Every record of it is re-hashed
 * (its stored prev_hash and content against its stored hash) and must follow its predecessor
 * (seq + 1, prev_hash naming the predecessor's stored hash); the run's first record's own link is
 * checked against the pruning anchor or genesis when there is no record before it.
 */
import { hash } from "node:crypto";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

/** What the walk found. */
export interface FloorOutcome {
  /** Records whose ts falls in the period; records walked (the period's seq run and its links). */
  readonly records: number;
  readonly walked: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Records whose recomputed hash is not their stored hash. */
  readonly mismatches: number;
  /** Records that do not follow their predecessor: a seq missing, or prev_hash not its hash. */
  readonly brokenLinks: number;
  /** The lowest seq with a problem, or null. */
  readonly firstBad: number | null;
}

/** How far each row is taken: stepped only, + its canonical form built, + hashed and checked. */
export type FloorStage = "step" | "canonical" | "verify";

/** The columns the hash needs, and nothing else; hashes as hex text made by SQLite (no Buffer a row). */
const COLUMNS =
  "seq, lower(hex(prev_hash)), lower(hex(hash)), ts, probe, category, status, duration_ms, error, " +
  "error_code, correlation_id, phases, server_ms, flags, body_error, detail, agent, region, source, observed";
const SEQ = 0;
const PREV = 1;
const HASH = 2;
const TS = 3;
const GENESIS = "0".repeat(64);

/** Opens a store's evidence file read-only. */
export function openStore(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma("mmap_size = 4294967296");
  return db;
}

let cachedSecond = Number.NaN;
let cachedPrefix = "";

/** ISO-8601 UTC with milliseconds, the text of the second reused (rows come many to a second). */
function iso(ts: number): string {
  const ms = ((ts % 1000) + 1000) % 1000;
  if (ts - ms !== cachedSecond) {
    cachedSecond = ts - ms;
    cachedPrefix = new Date(cachedSecond).toISOString().slice(0, -4);
  }
  return `${cachedPrefix}${String(ms).padStart(3, "0")}Z`;
}

function json(value: unknown): string {
  return value === null ? "null" : JSON.stringify(value);
}

/** The canonical form of a stored row (COLUMNS order), byte for byte what canonicalForm gives. */
export function canonicalOfRow(r: readonly unknown[]): string {
  let text =
    `{"ts":"${iso(r[TS] as number)}","probe":${JSON.stringify(r[4])},"category":${JSON.stringify(r[5])}` +
    `,"status":${r[6] === null ? "null" : String(r[6])},"duration_ms":${JSON.stringify(r[7])}` +
    `,"error":${json(r[8])},"error_code":${json(r[9])},"correlation_id":${json(r[10])}` +
    `,"phases":${r[11] ?? "null"},"server_ms":${json(r[12])}`;
  if (r[13] !== null) text += `,"flags":${JSON.stringify((r[13] as string).split(","))}`;
  if (r[14] !== null) text += `,"body_error":${JSON.stringify(r[14])}`;
  if (r[15] !== null) text += `,"detail":${JSON.stringify(r[15])}`;
  if (r[16] !== null) text += `,"agent":${JSON.stringify(r[16])}`;
  if (r[17] !== null) text += `,"region":${JSON.stringify(r[17])}`;
  if (r[18] === "traffic") text += `,"source":"traffic"`;
  if (r[19] !== null) text += `,"observed":${r[19]}`;
  return `${text}}`;
}

/** The period's seq run: its lowest and highest seq and how many records it has. */
function periodRun(db: Database.Database, from: number, to: number) {
  const [records, first, last] = db
    .prepare("SELECT count(*), min(seq), max(seq) FROM results WHERE ts >= ? AND ts < ?")
    .raw(true)
    .get(from, to) as [number, number | null, number | null];
  return { records, first: first ?? 0, last: last ?? 0 };
}

/** The hash the record at `seq` must name when that record is gone: genesis, or the pruning anchor's. */
function hashBefore(db: Database.Database, seq: number): string | undefined {
  if (seq === 0) return GENESIS;
  return db.prepare("SELECT lower(hex(hash)) FROM chain_anchors WHERE seq = ?").pluck().get(seq) as
    | string
    | undefined;
}

/** Hands a record's hash input and stored hash to another thread instead of hashing it here. */
type Offload = (input: string, stored: string, seq: number) => void;

/**
 * Walks rows [lo, hi] in seq order, taking each to `stage`; `verify` is the floor. Not inside a
 * transaction itself: see reportFloor. With `offload`, hashes are checked elsewhere.
 */
function walk(db: Database.Database, lo: number, hi: number, stage: FloorStage, offload?: Offload) {
  const rows = db
    .prepare(`SELECT ${COLUMNS} FROM results WHERE seq >= ? AND seq <= ? ORDER BY seq`)
    .raw(true)
    .iterate(lo, hi) as IterableIterator<unknown[]>;
  let walked = 0;
  let mismatches = 0;
  let brokenLinks = 0;
  let firstBad: number | null = null;
  let previousSeq = lo - 1;
  let previousHash: string | undefined;
  let firstPrev: string | undefined;
  let bytes = 0;
  for (const r of rows) {
    walked++;
    if (stage === "step") continue;
    const canonical = canonicalOfRow(r);
    if (stage === "canonical") {
      bytes += canonical.length;
      continue;
    }
    const seq = r[SEQ] as number;
    const prev = r[PREV] as string;
    // The run's first record links to what came before it: itself checked by its own hash when it
    // is the record before the period; the anchor's or genesis hash when that record is pruned.
    if (walked === 1) {
      firstPrev = prev;
      if (seq === lo) previousHash = prev;
      else [previousSeq, previousHash] = [lo, hashBefore(db, lo)];
    }
    if (seq !== previousSeq + 1 || prev !== previousHash) {
      brokenLinks++;
      firstBad ??= seq;
    }
    if (offload) offload(`${prev}\n${canonical}`, r[HASH] as string, seq);
    else if (hash("sha256", `${prev}\n${canonical}`, "hex") !== r[HASH]) {
      mismatches++;
      firstBad ??= seq;
    }
    previousSeq = seq;
    previousHash = r[HASH] as string;
  }
  if (bytes < 0) throw new Error("unreachable"); // keeps the canonical stage's strings used
  return {
    walked,
    mismatches,
    brokenLinks,
    firstBad,
    firstPrev,
    lastSeq: previousSeq,
    lastHash: previousHash,
  };
}

type Walked = ReturnType<typeof walk>;

const NOTHING: FloorOutcome = {
  records: 0,
  walked: 0,
  firstSeq: 0,
  lastSeq: 0,
  mismatches: 0,
  brokenLinks: 0,
  firstBad: null,
};

/**
 * The report floor: the period [from, to)'s records re-hashed and linked, with the records on
 * both sides of its seq run, in one read transaction. `stage` stops early, to measure the parts.
 */
export function reportFloor(
  db: Database.Database,
  from: number,
  to: number,
  stage: FloorStage = "verify",
  offload?: Offload,
): FloorOutcome {
  return db.transaction((): FloorOutcome => {
    const run = periodRun(db, from, to);
    if (run.records === 0) return NOTHING;
    const { walked, mismatches, brokenLinks, firstBad } = walk(
      db,
      run.first - 1,
      run.last + 1,
      stage,
      offload,
    );
    return {
      records: run.records,
      walked,
      firstSeq: run.first,
      lastSeq: run.last,
      mismatches,
      brokenLinks,
      firstBad,
    };
  })();
}

/** Only the period's seq range (count, min, max over the ts index): the walk's first step, timed apart. */
export function floorRange(db: Database.Database, from: number, to: number): number {
  return db.transaction(() => periodRun(db, from, to).records)();
}

// ---------------------------------------------------------------------------------------------
// Two-core variants (measured beside the floor, not part of it).

interface SplitJob {
  readonly reportFloorWorker: "hash" | "reader";
  readonly path?: string;
  readonly lo?: number;
  readonly hi?: number;
  readonly flow?: SharedArrayBuffer;
}

/** A worker thread running this module; when it is TypeScript (run by tsx), through tsx's loader. */
function spawn(job: SplitJob): Worker {
  const self = import.meta.url;
  const load = self.endsWith(".ts")
    ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(self)}); })`
    : `import(${JSON.stringify(self)})`;
  return new Worker(load, { eval: true, workerData: job });
}

function firstOf(...seqs: (number | null)[]): number | null {
  const bad = seqs.filter((s): s is number => s !== null);
  return bad.length === 0 ? null : Math.min(...bad);
}

/**
 * Variant "pipeline": this thread steps the rows, checks the links and builds each record's hash
 * input; a worker thread hashes them. Batches of 4096, at most 8 in flight, counted through a
 * SharedArrayBuffer so that this synchronous loop can wait for the worker without an event loop.
 */
export async function reportFloorPipelined(path: string, from: number, to: number): Promise<FloorOutcome> {
  const flow = new SharedArrayBuffer(4);
  const done = new Int32Array(flow);
  const worker = spawn({ reportFloorWorker: "hash", flow });
  const hashed = new Promise<{ mismatches: number; firstBad: number | null }>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  let inputs: string[] = [];
  let stored: string[] = [];
  let seqs: number[] = [];
  let sent = 0;
  const send = () => {
    for (let waited = 0; sent - Atomics.load(done, 0) >= 8; waited++) {
      // A worker that failed cannot say so while this loop holds the thread: give up after 60 s.
      if (waited > 600) throw new Error("report floor: the hashing worker stopped answering");
      Atomics.wait(done, 0, Atomics.load(done, 0), 100);
    }
    worker.postMessage({ inputs, stored, seqs });
    sent++;
    inputs = [];
    stored = [];
    seqs = [];
  };
  const db = openStore(path);
  let outcome: FloorOutcome;
  try {
    outcome = reportFloor(db, from, to, "verify", (input, hashHex, seq) => {
      inputs.push(input);
      stored.push(hashHex);
      seqs.push(seq);
      if (inputs.length === 4096) send();
    });
    if (inputs.length > 0) send();
  } catch (error) {
    await worker.terminate();
    throw error;
  } finally {
    db.close();
  }
  worker.postMessage(null);
  const h = await hashed;
  await worker.terminate();
  return { ...outcome, mismatches: h.mismatches, firstBad: firstOf(outcome.firstBad, h.firstBad) };
}

/**
 * Variant "two readers": two worker threads, each with its own connection, walk one half of the
 * period's seq run each; the link between the halves is checked here. The two connections do NOT
 * share one snapshot (better-sqlite3 has no sqlite3_snapshot_open): a store written meanwhile may
 * be seen at two moments. A figure of what a second core could give, not a sound verification.
 */
export async function reportFloorTwoReaders(path: string, from: number, to: number): Promise<FloorOutcome> {
  const db = openStore(path);
  let run: { records: number; first: number; last: number };
  try {
    run = db.transaction(() => periodRun(db, from, to))();
  } finally {
    db.close();
  }
  if (run.records === 0) return NOTHING;
  const lo = run.first - 1;
  const hi = run.last + 1;
  const mid = Math.floor((lo + hi) / 2);
  const halves: [number, number][] = [
    [lo, mid - 1],
    [mid, hi],
  ];
  const [first, second] = (await Promise.all(
    halves.map(
      ([a, b]) =>
        new Promise<Walked>((resolve, reject) => {
          const worker = spawn({ reportFloorWorker: "reader", path, lo: a, hi: b });
          worker.once("message", (walked: Walked) => {
            resolve(walked);
            void worker.terminate();
          });
          worker.once("error", reject);
        }),
    ),
  )) as [Walked, Walked];
  // The second half's first record (seq mid) must follow the first half's last.
  const joined = first.lastSeq === mid - 1 && second.firstPrev === first.lastHash;
  return {
    records: run.records,
    walked: first.walked + second.walked,
    firstSeq: run.first,
    lastSeq: run.last,
    mismatches: first.mismatches + second.mismatches,
    brokenLinks: first.brokenLinks + second.brokenLinks + (joined ? 0 : 1),
    firstBad: firstOf(first.firstBad, second.firstBad, joined ? null : mid),
  };
}

if (!isMainThread && (workerData as SplitJob | null)?.reportFloorWorker) {
  const job = workerData as SplitJob;
  const port = parentPort!;
  if (job.reportFloorWorker === "hash") {
    const done = new Int32Array(job.flow!);
    let mismatches = 0;
    let firstBad: number | null = null;
    port.on("message", (batch: { inputs: string[]; stored: string[]; seqs: number[] } | null) => {
      if (batch === null) {
        port.postMessage({ mismatches, firstBad });
        return;
      }
      const { inputs, stored, seqs } = batch;
      for (let i = 0; i < inputs.length; i++) {
        if (hash("sha256", inputs[i]!, "hex") !== stored[i]) {
          mismatches++;
          firstBad ??= seqs[i]!;
        }
      }
      Atomics.add(done, 0, 1);
      Atomics.notify(done, 0);
    });
  } else {
    const db = openStore(job.path!);
    try {
      port.postMessage(db.transaction(() => walk(db, job.lo!, job.hi!, "verify"))());
    } finally {
      db.close();
    }
  }
}
