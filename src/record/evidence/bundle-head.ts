import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import canonicalize from "canonicalize";
import type { WindowVersion } from "../../model/config.js";
import { type ObservationPayload, versionsOfObservations } from "../feed-windows.js";
import { type BundledConfigRecord, checkBundledConfiguration } from "./bundle-config.js";
import { chainHashHex, GENESIS_HASH } from "./canonical.js";
import { checkpointStatement, newestCheckpoint } from "./checkpoints.js";
import { adoptedRollbacks, hasInputLog, type InputRecord, inputCanonical } from "./input-log.js";
import { type Statement, signatureValid, statementBytes } from "./signing.js";

/**
 * What ties a bundle's month to the agent's newest signed checkpoint (contract section 13,
 * "reaching the head"): the checkpoint itself (checkpoint.json: the statement its signature covers,
 * the signature, base64) and the whole input chain up to the head it commits (inputs.ndjson:
 * configuration loads, maintenance observations, rollup commitments). records.ndjson runs from the
 * link before the month to the checkpoint's head, so every hash from the month to the signed head
 * is recomputed from the bundle's own bytes.
 */

export const CHECKPOINT_FILE = "checkpoint.json";
export const INPUTS_FILE = "inputs.ndjson";

const GENESIS = GENESIS_HASH.toString("hex");

/** The newest checkpoint, as its file; null when the store has none. */
export function checkpointFile(
  db: Database.Database,
): { text: string; headSeq: number; inputsSeq: number } | null {
  const c = newestCheckpoint(db);
  if (!c) return null;
  const file = {
    statement: checkpointStatement(c),
    key_id: c.keyId,
    signature: c.signature.toString("base64"),
  };
  return { text: `${canonicalize(file)}\n`, headSeq: c.headSeq, inputsSeq: c.inputsSeq ?? 0 };
}

/** One inputs.ndjson line: seq, prev_hash, hash, then the hashed text's members byte for byte. */
export function inputLines(db: Database.Database, toSeq: number): string[] {
  if (!hasInputLog(db) || toSeq === 0) return [];
  const rows = db
    .prepare(
      "SELECT seq, kind, ts, payload, lower(hex(prev_hash)) AS prev, lower(hex(hash)) AS hash FROM input_records WHERE seq <= ? ORDER BY seq",
    )
    .all(toSeq) as { seq: number; kind: string; ts: number; payload: string; prev: string; hash: string }[];
  return rows.map(
    (r) =>
      `{"seq":${r.seq},"prev_hash":"${r.prev}","hash":"${r.hash}",${inputCanonical(r.kind, r.ts, r.payload).slice(1)}`,
  );
}

export type HeadOutcome =
  | {
      readonly ok: true;
      readonly headSeq: number;
      /** The input record (seq) whose configuration is configuration.json's bytes; null: none is. */
      readonly configSeq: number | null;
      /** One sentence per `adoption` record in inputs.ndjson (`evidence adopt`): verify prints each as a warning. */
      readonly adoptions: readonly string[];
      /** configuration.json is none of the month's configuration records, in nothing that decides a figure. */
      readonly configWarning: string | null;
    }
  | { readonly ok: false; readonly where: string; readonly detail: string };

interface ParsedCheckpoint {
  readonly statement: Statement;
  readonly signature: Buffer;
}

function parseCheckpoint(bytes: Buffer): ParsedCheckpoint | null {
  try {
    const file = JSON.parse(bytes.toString("utf8")) as { statement?: unknown; signature?: unknown };
    const { statement, signature } = file;
    if (statement === null || typeof statement !== "object" || Array.isArray(statement)) return null;
    if (typeof signature !== "string") return null;
    for (const value of Object.values(statement))
      if (typeof value !== "string" && typeof value !== "number") return null;
    return { statement: statement as Statement, signature: Buffer.from(signature, "base64") };
  } catch {
    return null;
  }
}

/**
 * Checks that the records' chain ends at the head the checkpoint commits, the checkpoint's
 * signature under the bundle's key, the input chain from genesis to the input head it commits, and
 * which configuration record configuration.json is. `recordsEnd`: the last line of records.ndjson.
 */
export function checkHead(input: {
  readonly checkpoint: Buffer;
  readonly inputs: string;
  readonly publicKeyPem: string;
  readonly recordsEnd: { readonly seq: number; readonly hash: string } | null;
  readonly monthRecords: number;
  /** The month's end (epoch ms) and the statement's generated_at: an ended month needs a checkpoint signed after it. */
  readonly monthStart: number;
  readonly monthEnd: number;
  readonly generatedAt: unknown;
  readonly configuration: Buffer | null;
  readonly configSha256: unknown;
  readonly maintenance: Buffer | null;
}): HeadOutcome {
  const where = CHECKPOINT_FILE;
  const parsed = parseCheckpoint(input.checkpoint);
  if (parsed?.statement.kind !== "slo-agent/checkpoint/v1")
    return { ok: false, where, detail: "not a checkpoint (statement, signature)" };
  if (!signatureValid(statementBytes(parsed.statement), parsed.signature, input.publicKeyPem))
    return { ok: false, where, detail: "its signature does not verify with public_key.pem" };
  const { head_seq: headSeq, head_hash: headHash, created_at: signedAt } = parsed.statement;
  const ended = input.monthEnd <= Date.parse(String(input.generatedAt));
  if (ended && !(Date.parse(String(signedAt)) >= input.monthEnd))
    return {
      ok: false,
      where,
      detail: `signed at ${String(signedAt)}, before the month ended: not the newest checkpoint (rolled back?)`,
    };
  if (input.monthRecords > 0) {
    const end = input.recordsEnd;
    if (!end || end.seq !== headSeq)
      return {
        ok: false,
        where: "records.ndjson",
        detail: `ends at seq ${end?.seq ?? 0}, the signed checkpoint commits the chain up to seq ${String(headSeq)}`,
      };
    if (end.hash !== headHash)
      return {
        ok: false,
        where: "records.ndjson",
        detail: `seq ${end.seq}: its hash is not the head the signed checkpoint commits`,
      };
  }
  const inputs = checkInputs(input.inputs, parsed.statement);
  if (!inputs.ok) return inputs;
  // Stores signed before the input chain existed have no observations to compare with.
  if (input.maintenance !== null && parsed.statement.inputs_seq !== undefined) {
    const maintenance = checkMaintenance(input.maintenance, inputs.observations, inputs.versions);
    if (maintenance) return maintenance;
  }
  const adoptions = inputs.adoptions;
  if (input.configuration === null)
    return { ok: true, headSeq: Number(headSeq), configSeq: null, adoptions, configWarning: null };
  const sha = createHash("sha256").update(input.configuration).digest("hex");
  if (sha !== input.configSha256)
    return {
      ok: false,
      where: "configuration.json",
      detail: "its SHA-256 is not the statement's config_sha256",
    };
  const month = { start: input.monthStart, end: input.monthEnd };
  const configured = checkBundledConfiguration(input.configuration, inputs.configRecords, month);
  if (!configured.ok) return configured;
  return {
    ok: true,
    headSeq: Number(headSeq),
    configSeq: inputs.configs.get(sha) ?? null,
    adoptions,
    configWarning: configured.warning,
  };
}

/** The input chain from genesis up to the checkpoint's inputs head; the config records by payload SHA-256. */
function checkInputs(
  text: string,
  checkpoint: Statement,
):
  | {
      ok: true;
      configs: Map<string, number>;
      configRecords: BundledConfigRecord[];
      observations: Map<string, Observation>;
      versions: Map<string, WindowVersion[]>;
      adoptions: string[];
    }
  | { ok: false; where: string; detail: string } {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const configs = new Map<string, number>();
  const configRecords: BundledConfigRecord[] = [];
  const observations = new Map<string, Observation>();
  const observed: { ts: number; payload: ObservationPayload }[] = [];
  const adoptions: string[] = [];
  // The rollbacks the agent recorded and the adoptions after them: each one adopted is named.
  const traced: InputRecord[] = [];
  let previous = { seq: 0, hash: GENESIS };
  // When each record counts as seen: its ts, or the newest before it when later (input-log.ts SEEN_INPUTS).
  let newest = Number.NEGATIVE_INFINITY;
  for (const [index, line] of lines.entries()) {
    const bad = (detail: string) => ({ ok: false as const, where: `${INPUTS_FILE}:${index + 1}`, detail });
    let record: {
      seq?: unknown;
      prev_hash?: unknown;
      hash?: unknown;
      kind?: unknown;
      ts?: unknown;
      payload?: unknown;
    };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      return bad("not a JSON object (edited)");
    }
    const at = line.indexOf(',"kind":');
    if (at < 0 || typeof record.hash !== "string") return bad("not an input record line");
    if (record.seq !== previous.seq + 1)
      return bad(`seq ${String(record.seq)} does not follow seq ${previous.seq}`);
    if (record.prev_hash !== previous.hash)
      return bad(`seq ${previous.seq + 1} is not chained to the line before it`);
    if (chainHashHex(previous.hash, `{${line.slice(at + 1)}`) !== record.hash)
      return bad(`seq ${previous.seq + 1}: its content does not match its hash`);
    newest = Math.max(newest, Date.parse(String(record.ts)));
    if (record.kind === "config") {
      const payload = canonicalize(record.payload) ?? "";
      const sha256 = createHash("sha256").update(payload, "utf8").digest("hex");
      configs.set(sha256, previous.seq + 1);
      configRecords.push({
        seq: previous.seq + 1,
        ts: newest,
        payload: record.payload,
        sha256,
      });
    }
    if (record.kind === "maintenance_observation") {
      const payload = record.payload as Record<string, unknown>;
      observations.set(String(payload.provider_id), { seq: previous.seq + 1, payload });
      observed.push({ ts: newest, payload: payload as unknown as ObservationPayload });
    }
    if (record.kind === "adoption") adoptions.push(adoptionSentence(previous.seq + 1, record));
    if (record.kind === "adoption" || record.kind === "rollback_detected")
      traced.push({
        seq: previous.seq + 1,
        kind: record.kind,
        ts: Date.parse(String(record.ts)),
        payload: JSON.stringify(record.payload ?? null),
      });
    previous = { seq: previous.seq + 1, hash: record.hash };
  }
  const seq = checkpoint.inputs_seq ?? 0;
  const hash = checkpoint.inputs_hash ?? GENESIS;
  if (previous.seq !== seq || previous.hash !== hash)
    return {
      ok: false,
      where: INPUTS_FILE,
      detail:
        previous.seq === seq
          ? `its input seq ${previous.seq} is not the record the signed checkpoint commits as the input head (another hash)`
          : `ends at input seq ${previous.seq}, not at the input head the signed checkpoint commits (seq ${String(seq)})`,
    };
  return {
    ok: true,
    configs,
    configRecords,
    observations,
    versions: versionsOfObservations(observed),
    adoptions: [...adoptions, ...adoptedRollbacks(traced).map((text) => `${INPUTS_FILE}: ${text}`)],
  };
}

/** An `adoption` record (src/record/store.ts, adopt()) as the warning `verify --bundle` prints. */
function adoptionSentence(seq: number, record: { ts?: unknown; payload?: unknown }): string {
  const p = (record.payload ?? {}) as {
    overridden?: unknown;
    head_seq?: unknown;
    key_id?: unknown;
    previous_key_id?: unknown;
    previous_checkpoint?: { head_seq?: unknown; created_at?: unknown } | null;
  };
  const before = p.previous_checkpoint
    ? `the newest checkpoint left before it signed records up to seq ${String(p.previous_checkpoint.head_seq)} (${String(p.previous_checkpoint.created_at)}, key ${String(p.previous_key_id)})`
    : "no checkpoint was left before it";
  return `${INPUTS_FILE} seq ${seq}: the store was adopted at ${String(record.ts)} by key ${String(p.key_id)} (head seq ${String(p.head_seq)}) over the writers' refusal: ${String(p.overridden)}. ${before}; what it signed beyond rests on the operator's word, not on the checkpoints`;
}

interface Observation {
  readonly seq: number;
  readonly payload: Record<string, unknown>;
}

/** maintenance.json's feed_windows in the form a maintenance observation records them. */
function observedFormOf(w: Record<string, unknown>): Record<string, unknown> {
  return {
    provider_id: w.providerId,
    name: w.name,
    start: w.start,
    end: w.end,
    provider_created_at: w.providerCreatedAt,
    first_seen_at: w.firstSeenAt,
    categories: w.categories,
    cancelled_at: w.cancelledAt ?? null,
  };
}

/**
 * Each feed window maintenance.json gives (which recompute.py reads to qualify maintenance) must
 * be the window the newest maintenance observation in inputs.ndjson records for its id, and its
 * history the versions those observations give: a window edited, invented or moved in
 * maintenance.json, or a late change left out of its history, is named.
 */
function checkMaintenance(
  bytes: Buffer,
  observations: ReadonlyMap<string, Observation>,
  versions: ReadonlyMap<string, readonly WindowVersion[]>,
): { ok: false; where: string; detail: string } | null {
  const where = "maintenance.json";
  let windows: unknown;
  try {
    windows = (JSON.parse(bytes.toString("utf8")) as { feed_windows?: unknown }).feed_windows;
  } catch {
    return { ok: false, where, detail: "not JSON (edited)" };
  }
  if (!Array.isArray(windows)) return { ok: false, where, detail: "no feed_windows array" };
  for (const window of windows as Record<string, unknown>[]) {
    const id = String(window?.providerId);
    const observed = observations.get(id);
    if (!observed)
      return {
        ok: false,
        where,
        detail: `feed window ${id}: no maintenance observation in inputs.ndjson records it`,
      };
    // maintenance.json holds no component names nor their categories: the rest must match.
    const {
      digest: _digest,
      components: _components,
      component_categories: _scopes,
      ...recorded
    } = observed.payload;
    if (canonicalize(observedFormOf(window)) !== canonicalize(recorded))
      return {
        ok: false,
        where,
        detail: `feed window ${id} is not the window its newest maintenance observation records (inputs.ndjson seq ${observed.seq})`,
      };
    if (canonicalize(window.history ?? null) !== canonicalize(versions.get(id) ?? null))
      return {
        ok: false,
        where,
        detail: `feed window ${id}: its history is not the versions its maintenance observations in inputs.ndjson give`,
      };
  }
  return null;
}
