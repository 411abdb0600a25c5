import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FloorRun, runFloorScript } from "./floor.js";

const MODULES = join(import.meta.dirname, "../../node_modules");

/**
 * The floor under the agent's design, not only under its HTTP client (issue 30): the bare-undici
 * floor (floor.ts) plus the two things the contract and issue 24 make every conforming agent do,
 * written as plainly as they can be and nothing else.
 *
 * - Probing in a thread of its own (issue 24: commits, scrapes and the main thread's GC must not
 *   stretch a measured duration). The worker times each request to its response headers
 *   (contract section 3's `duration_ms`) and posts its results to the main thread every 50 ms.
 * - Durable, tamper-evident evidence (contract sections 7 and 13): the main thread appends each
 *   result as a record (section 3's fields, serialised in a fixed key order, SHA-256 over the
 *   previous record's hash and those bytes) to a SQLite table with the (ts, probe) identity as a
 *   unique index, and commits every 200 ms in one transaction that also inserts an Ed25519-signed
 *   checkpoint over the head — in WAL mode with `synchronous = FULL`, as the agent's store does.
 *
 * What it leaves out is the agent's own: scheduling, error classification, controls and
 * validity, the rolling windows and rollups, the input log, the signing guard, metrics, alerts.
 * The bench reads the whole process's CPU (both threads, GC and SQLite included).
 */
const CLIENT = `
const { Worker } = await import("node:worker_threads");
const { createHash, generateKeyPairSync, sign } = await import("node:crypto");
const [modules, origin, probes, everyMs, keepAlive, dbPath] = process.argv.slice(1);
const Database = (await import(modules + "/better-sqlite3/lib/index.js")).default;

const PROBING = \`
const { parentPort, workerData } = await import("node:worker_threads");
const { Agent, request } = await import(workerData.modules + "/undici/index.js");
const { origin, probes, everyMs, keepAlive } = workerData;
const agent = new Agent({ pipelining: keepAlive ? 1 : 0, keepAliveTimeout: 30000 });
let outbox = [];
let timer = null;
function post(result) {
  outbox.push(result);
  timer ??= setTimeout(() => { parentPort.postMessage(outbox); outbox = []; timer = null; }, 50);
}
for (let i = 0; i < probes; i++) {
  const probe = "bench-" + i;
  const fire = async () => {
    const ts = Date.now();
    const started = performance.now();
    try {
      const response = await request(origin + "/bench/" + i, { dispatcher: agent, reset: !keepAlive });
      const duration = performance.now() - started;
      await response.body.text();
      post({ ts, probe, status: response.statusCode, duration_ms: duration, error: null });
    } catch (error) {
      post({ ts, probe, status: null, duration_ms: performance.now() - started, error: "connect" });
    }
  };
  setTimeout(() => { fire(); setInterval(fire, everyMs); }, (i * everyMs) / probes);
}
\`;

const db = new Database(dbPath);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.exec(\`
  CREATE TABLE results (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, probe TEXT NOT NULL,
    category TEXT NOT NULL, status INTEGER, duration_ms REAL NOT NULL, error TEXT,
    prev_hash BLOB NOT NULL, hash BLOB NOT NULL);
  CREATE UNIQUE INDEX results_identity ON results (ts, probe);
  CREATE TABLE checkpoints (id INTEGER PRIMARY KEY, head_seq INTEGER NOT NULL, head_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL, signature BLOB NOT NULL);
\`);
const insert = db.prepare("INSERT INTO results (seq, ts, probe, category, status, duration_ms, error, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
const checkpoint = db.prepare("INSERT INTO checkpoints (head_seq, head_hash, created_at, signature) VALUES (?, ?, ?, ?)");
const { privateKey } = generateKeyPairSync("ed25519");
let seq = 0;
let head = Buffer.alloc(32);
let pending = [];
let sent = 0;
let durations = [];
const commit = db.transaction((batch) => {
  for (const r of batch) {
    const record = JSON.stringify({ ts: new Date(r.ts).toISOString(), probe: r.probe, category: "bench",
      status: r.status, duration_ms: Math.round(r.duration_ms * 1000) / 1000, error: r.error,
      error_code: null, correlation_id: null });
    const hash = createHash("sha256").update(head).update(record).digest();
    seq++;
    insert.run(seq, r.ts, r.probe, "bench", r.status, r.duration_ms, r.error, head, hash);
    head = hash;
  }
  const now = Date.now();
  const statement = Buffer.from(seq + "\\n" + head.toString("hex") + "\\n" + now);
  checkpoint.run(seq, head, now, sign(null, statement, privateKey));
});
let flushing = null;
function flush() {
  flushing = null;
  const batch = pending;
  pending = [];
  commit.immediate(batch);
}
const worker = new Worker(PROBING, { eval: true,
  workerData: { modules, origin, probes: Number(probes), everyMs: Number(everyMs), keepAlive: keepAlive === "1" } });
worker.on("message", (results) => {
  for (const r of results) {
    pending.push(r);
    if (r.status !== null) { sent++; durations.push(r.duration_ms); }
  }
  flushing ??= setTimeout(flush, 200);
});
process.on("message", () => {
  process.send({ sent, durations });
  durations = [];
});
`;

/** A running design floor, and the directory of its store (removed by stop()). */
export function startDesignFloor(
  origin: string,
  probes: number,
  everySeconds: number,
  keepAlive: boolean,
): FloorRun {
  const dir = mkdtempSync(join(tmpdir(), "slo-design-floor-"));
  const args = [MODULES, origin, String(probes), String(everySeconds * 1000), keepAlive ? "1" : "0"];
  return runFloorScript(CLIENT, [...args, join(dir, "evidence.sqlite")], () =>
    rmSync(dir, { recursive: true, force: true }),
  );
}
