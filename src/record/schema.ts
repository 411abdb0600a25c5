import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Clock } from "../clock/clock.js";

// better-sqlite3 builds SQLite with URI filenames off and turns them on from this variable when
// its addon loads (the first connection): openImmutable needs `file:...?immutable=1`. Paths that
// do not start with "file:" (all the others: absolute paths) are read as plain names either way.
process.env.SQLITE_USE_URI ??= "1";

/**
 * Schema migrations, applied in order inside one transaction each. Never edit a released entry:
 * append a new one, so that every existing evidence file upgrades the same way.
 */
/** The message of the trigger that refuses a merchant request's span id already stored. */
export const DUPLICATE_SPAN = "duplicate traffic span id";

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE results (
    seq            INTEGER PRIMARY KEY,  -- chain position: insertion order
    ts             INTEGER NOT NULL,     -- epoch ms, when the request was sent
    probe          TEXT    NOT NULL,
    category       TEXT    NOT NULL,
    status         INTEGER,
    duration_ms    REAL    NOT NULL,
    error          TEXT,
    error_code     TEXT,
    correlation_id TEXT,
    phases         TEXT,                 -- JSON (canonical key order) or NULL
    server_ms      REAL,
    prev_hash      BLOB    NOT NULL,     -- hash of the record at seq - 1 (or the anchor, or genesis)
    hash           BLOB    NOT NULL      -- SHA-256 of prev_hash and the canonical form
  );
  CREATE UNIQUE INDEX results_ts_probe ON results (ts, probe);

  CREATE TABLE rollups (
    probe      TEXT    NOT NULL,
    minute     INTEGER NOT NULL,         -- epoch ms of the minute's start
    category   TEXT    NOT NULL,
    count_2xx  INTEGER NOT NULL DEFAULT 0,
    count_3xx  INTEGER NOT NULL DEFAULT 0,
    count_4xx  INTEGER NOT NULL DEFAULT 0,
    count_5xx  INTEGER NOT NULL DEFAULT 0,
    count_none INTEGER NOT NULL DEFAULT 0,
    err_timeout  INTEGER NOT NULL DEFAULT 0,
    err_connect  INTEGER NOT NULL DEFAULT 0,
    err_dns      INTEGER NOT NULL DEFAULT 0,
    err_tls      INTEGER NOT NULL DEFAULT 0,
    err_reset    INTEGER NOT NULL DEFAULT 0,
    err_protocol INTEGER NOT NULL DEFAULT 0,
    err_aborted  INTEGER NOT NULL DEFAULT 0,
    excluded   INTEGER NOT NULL DEFAULT 0,
    latency    BLOB,                     -- encoded HDR histogram of the latency-counting durations
    -- Minute first: range queries and ts-ordered imports both walk the key in order.
    PRIMARY KEY (minute, probe)
  ) WITHOUT ROWID;

  CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    started_at     INTEGER NOT NULL,
    last_heartbeat INTEGER NOT NULL,
    ended_at       INTEGER,
    clean          INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX runs_started_at ON runs (started_at);

  CREATE TABLE chain_anchors (
    seq       INTEGER PRIMARY KEY,       -- the last pruned record
    hash      BLOB    NOT NULL,          -- its chain hash: the next kept record's prev_hash
    pruned_at INTEGER NOT NULL,
    records   INTEGER NOT NULL           -- how many records this prune removed
  );
  `,
  // Minutes older than minuteRollupDays are compacted into one row per probe-hour, keyed by its start.
  `
  ALTER TABLE rollups ADD COLUMN span_ms INTEGER NOT NULL DEFAULT 60000;  -- 60000 a minute, 3600000 an hour
  `,
  // The probe's classification detail, so a probable edge block or a body that failed can be shown.
  `
  ALTER TABLE results ADD COLUMN flags TEXT;       -- comma-separated result flags, or NULL for none
  ALTER TABLE results ADD COLUMN body_error TEXT;  -- failure reason of a body that broke after the headers
  ALTER TABLE results ADD COLUMN detail TEXT;      -- one line for people
  `,
  // The agent's own alerts (docs/alerts.md): notifications queued per receiver until delivered, so
  // none is lost while a receiver is down or the agent restarts, and the alerts' states, so a
  // restart neither repeats nor forgets a transition. Not evidence: outside the hash chain.
  `
  CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,  -- delivery order within a receiver
    receiver        TEXT    NOT NULL,
    alert_key       TEXT    NOT NULL,
    kind            TEXT    NOT NULL,     -- firing, reminder or resolved
    payload         TEXT    NOT NULL,     -- the notification as JSON
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,                 -- why the last attempt failed (no secrets)
    delivered_at    INTEGER               -- NULL until delivered
  );
  CREATE INDEX notifications_queued ON notifications (receiver, id) WHERE delivered_at IS NULL;
  CREATE TABLE alert_states (
    alert_key TEXT PRIMARY KEY,
    alert     TEXT NOT NULL               -- the alert as JSON
  );
  `,
  // Signed checkpoints of the chain head and the newest anchor (docs/evidence-store.md, threat
  // model): deleting or rewriting the newest records, or forging an anchor, no longer verifies.
  `
  CREATE TABLE checkpoints (
    id          INTEGER PRIMARY KEY,
    head_seq    INTEGER NOT NULL,        -- the newest record's seq when it was written (anchor_seq if none)
    head_hash   BLOB    NOT NULL,        -- its chain hash
    anchor_seq  INTEGER NOT NULL,        -- the newest anchor's seq, 0 for genesis
    anchor_hash BLOB    NOT NULL,        -- its hash, 32 zero bytes for genesis
    created_at  INTEGER NOT NULL,        -- epoch ms, from the store's clock
    key_id      TEXT    NOT NULL,        -- the agent key that signed it
    signature   BLOB    NOT NULL         -- Ed25519 over the JCS form of checkpointStatement()
  );
  `,
  // Windows of the maintenance feed (docs/operations.md, "Maintenance feed"): when each was first
  // seen is the notice the agent can prove. Outside the hash chain, like the notification ledger.
  `
  CREATE TABLE feed_windows (
    provider_id         TEXT PRIMARY KEY,     -- the Statuspage scheduled maintenance id
    name                TEXT    NOT NULL,
    start               INTEGER NOT NULL,     -- epoch ms, scheduled_for
    end                 INTEGER NOT NULL,     -- epoch ms, scheduled_until
    provider_created_at INTEGER NOT NULL,     -- epoch ms, the provider's created_at
    first_seen_at       INTEGER NOT NULL,     -- epoch ms, when this agent first read it (never updated)
    last_seen_at        INTEGER NOT NULL,
    categories          TEXT    NOT NULL,     -- JSON: "all" or a list of category ids
    last_digest         TEXT    NOT NULL      -- SHA-256 (hex) of the JCS form of the last entry seen
  );
  `,
  // Who measured (docs/regions-merge.md): the agent (agent.id) and its region, in the hashed form when
  // present. A result is identified by agent + probe + ts, so several agents' results can share a
  // store; records from before have no agent and keep the old identity ('' here).
  `
  ALTER TABLE results ADD COLUMN agent TEXT;   -- agent.id of the agent that made the request, or NULL (older)
  ALTER TABLE results ADD COLUMN region TEXT;  -- agent.region of that agent, or NULL
  DROP INDEX results_ts_probe;
  CREATE UNIQUE INDEX results_ts_probe_agent ON results (ts, probe, ifnull(agent, ''));
  `,
  // A feed window the provider called off stops counting but stays listed: when the agent first
  // read it as cancelled (epoch ms), NULL while it stands (docs/operations.md, "Maintenance feed").
  `
  ALTER TABLE feed_windows ADD COLUMN cancelled_at INTEGER;
  `,
  // Inputs that decide a figure, hash-chained on their own (src/record/evidence/input-log.ts): configuration
  // loads and maintenance-feed observations. Checkpoints commit this chain's head too.
  `
  CREATE TABLE input_records (
    seq       INTEGER PRIMARY KEY,  -- input chain position
    kind      TEXT    NOT NULL,     -- config | maintenance_observation
    ts        INTEGER NOT NULL,     -- epoch ms, when it was loaded or read
    payload   TEXT    NOT NULL,     -- RFC 8785 (JCS) JSON, secrets removed
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL      -- SHA-256 of hex(prev_hash), a newline and the canonical input record
  );
  ALTER TABLE checkpoints ADD COLUMN inputs_seq INTEGER;  -- the input chain's head when signed, NULL before
  ALTER TABLE checkpoints ADD COLUMN inputs_hash BLOB;
  `,
  // Where a result comes from (contract section 19): NULL for a probe's, 'traffic' for a merchant
  // request reported as an OpenTelemetry span. Many merchant requests share a millisecond and a
  // route, so theirs are identified by the span id (correlation_id) too; a probe's as before.
  `
  ALTER TABLE results ADD COLUMN source TEXT;  -- NULL: the agent's probe; 'traffic': a merchant request
  DROP INDEX results_ts_probe_agent;
  CREATE UNIQUE INDEX results_ts_probe_agent
    ON results (ts, probe, ifnull(agent, ''), CASE WHEN source IS NULL THEN '' ELSE ifnull(correlation_id, '') END);
  `,
  // What a probe kind observed beyond the HTTP fields (a flow's run id and step, a certificate's
  // expiry, a DNS rcode), as JCS JSON and in the hashed form when present. Added once for every
  // kind: a new kind puts its detail here and needs no migration (src/probes/kinds/).
  `
  ALTER TABLE results ADD COLUMN observed TEXT;  -- JSON object, or NULL for a plain HTTP result
  `,
  // A merchant request is stored once per span id, whatever ts or route a re-sent span claims
  // (issue #29): a span re-sent 1 ms later or on another route is the same request. A trigger,
  // not a unique index, so that a store already holding such repeats (which the chain forbids
  // deleting) still opens; the writer counts a refused row as a duplicate (src/record/evidence/chain.ts).
  `
  CREATE INDEX results_traffic_span ON results (correlation_id, source, ifnull(agent, ''))
    WHERE source IS NOT NULL AND correlation_id IS NOT NULL;
  CREATE TRIGGER results_traffic_span_once BEFORE INSERT ON results
    WHEN NEW.source IS NOT NULL AND NEW.correlation_id IS NOT NULL AND EXISTS (
      SELECT 1 FROM results
      WHERE correlation_id = NEW.correlation_id AND source = NEW.source
        AND ifnull(agent, '') = ifnull(NEW.agent, ''))
  BEGIN
    SELECT RAISE(ABORT, '${DUPLICATE_SPAN}');
  END;
  `,
  // Checkpoints chained (docs/evidence-store.md, "Signed checkpoints"): each signs the digest of the
  // one before it, so a checkpoint deleted or replaced between two others breaks the chain.
  `
  ALTER TABLE checkpoints ADD COLUMN previous_sha256 BLOB;  -- SHA-256 of the previous checkpoint's signed bytes; NULL for the first
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
export const EVIDENCE_FILE = "evidence.sqlite";

export interface OpenOptions {
  readonly busyTimeoutMs: number;
  readonly readonly?: boolean;
}

/**
 * The writer's page cache (KiB) while it imports: room for an import to build its pages in memory;
 * beyond, they spill to the WAL. Kept small enough for an import of any size to stay within 200
 * MB (docs/evidence-store.md). A running agent keeps less between imports (EvidenceStore's
 * liveCacheKiB): it appends at the tail and needs only the pages it writes next.
 */
export const IMPORT_CACHE_KIB = 16_384;
/**
 * A running agent's writer cache between imports (KiB), SQLite's default. Its writes land at the
 * tails of the results table, of the (ts, probe, ...) index and of the (minute, probe) rollups,
 * whatever the number of probes: a few pages. With the import's 16 MiB, every page a day of
 * results wrote stayed in memory until the cache was full: RSS grew ~11% over a day's work.
 */
export const LIVE_CACHE_KIB = 2_048;

/** Opens the writer connection: WAL, fsync at every commit (evidence must survive power loss), migrated. */
export function openWriter(path: string, clock: Clock, options: OpenOptions): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs });
  } catch (error) {
    throw openFailure(path, error);
  }
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma(`cache_size = -${IMPORT_CACHE_KIB}`);
    // An import of a file out of order is sorted in a temporary table: on disk, not in memory.
    db.pragma("temp_store = FILE");
    migrate(db, clock);
    return db;
  } catch (error) {
    db.close();
    throw (error as { code?: string }).code === "SQLITE_CANTOPEN" ? openFailure(path, error) : error;
  }
}

/**
 * A second connection for queries, so a long iteration never blocks or breaks a batch write.
 * A store on read-only media (a copy on a CD, a read-only mount or snapshot) cannot be opened the
 * usual way, since reading a WAL database creates its -shm file: there it is opened `immutable`,
 * which SQLite reads as it is, with no locks and no side files.
 */
export function openReader(path: string, busyTimeoutMs: number): Database.Database {
  if (!existsSync(path)) throw openFailure(path, Object.assign(new Error("not found"), { code: "ENOENT" }));
  let db: Database.Database | null = null;
  try {
    if (writable(dirname(path))) {
      db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
      checkVersion(db);
      return db;
    }
  } catch (error) {
    db?.close();
    if ((error as { code?: string }).code !== "SQLITE_CANTOPEN") throw openFailure(path, error);
  }
  return openImmutable(path);
}

function openImmutable(path: string): Database.Database {
  const wal = `${path}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) {
    throw openFailure(
      path,
      new Error(
        `it cannot be opened read-write and ${wal} holds changes not yet in the database file (copy the store from a stopped agent, or onto writable media)`,
      ),
    );
  }
  const uri = `file:${path.split("/").map(encodeURIComponent).join("/")}?immutable=1`;
  let db: Database.Database | null = null;
  try {
    db = new Database(uri, { readonly: true });
    checkVersion(db);
    return db;
  } catch (error) {
    db?.close();
    throw openFailure(path, error);
  }
}

function checkVersion(db: Database.Database): void {
  const version = currentVersion(db);
  if (version > SCHEMA_VERSION) throw new Error(newerSchemaMessage(version));
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every failure to open names the file and the cause (SQLite's own message says neither). */
function openFailure(path: string, error: unknown): Error {
  const { message, code } = error as { message?: string; code?: string };
  if (message?.startsWith("evidence store schema version")) return error as Error;
  let cause = code && !message?.includes(code) ? `${message} (${code})` : (message ?? String(error));
  if (code === "SQLITE_CANTOPEN" || code === "SQLITE_READONLY") {
    const access = fileAccessProblem(path);
    if (access) cause = `${cause}: ${access}`;
  }
  return Object.assign(new Error(`cannot open the evidence store ${path}: ${cause}`), { code, cause: error });
}

/** Why the file or its directory may not be usable, in the file system's words, or null. */
function fileAccessProblem(path: string): string | null {
  for (const [target, mode, what] of [
    [path, constants.R_OK, "the file is not readable"],
    [dirname(path), constants.W_OK, "its directory is not writable"],
    [path, constants.W_OK, "the file is not writable"],
  ] as const) {
    try {
      accessSync(target, mode);
    } catch (error) {
      return `${what} (${(error as NodeJS.ErrnoException).code})`;
    }
  }
  return null;
}

/** Caps the file's size (null: no cap); a write beyond fails like a full disk. */
export function applySizeCap(db: Database.Database, bytes: number | null): void {
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  // SQLite's own default cap (2^32 - 2 pages) stands for "no cap".
  const pages = bytes === null ? 4294967294 : Math.max(1, Math.floor(bytes / pageSize));
  db.pragma(`max_page_count = ${pages}`);
}

/** Device and inode of the file at path, or "missing": tells a replaced or deleted file. */
export function fileIdentity(path: string): string {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return "missing";
  }
}

function migrate(db: Database.Database, clock: Clock): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
  );
  const version = currentVersion(db);
  if (version > SCHEMA_VERSION) throw new Error(newerSchemaMessage(version));
  for (let next = version + 1; next <= SCHEMA_VERSION; next++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next - 1]!);
      db.prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)").run(next, clock.now());
    }).immediate();
  }
}

function currentVersion(db: Database.Database): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (exists.get() === undefined) return 0;
  const row = db.prepare("SELECT max(version) AS v FROM schema_version").get() as { v: number | null };
  return row.v ?? 0;
}

function newerSchemaMessage(version: number): string {
  return `evidence store schema version ${version} is newer than this slo-agent supports (${SCHEMA_VERSION}); upgrade slo-agent`;
}
