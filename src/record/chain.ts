import type Database from "better-sqlite3";
import type { ProbeResult } from "../model/result.js";
import { canonicalForm, chainHash, GENESIS_HASH } from "./canonical.js";
import { INSERT_RESULT_SQL, rowValues } from "./rows.js";

/** A result once it is part of the chain. */
export interface ChainedResult {
  readonly seq: number;
  readonly result: ProbeResult;
}

export interface ChainLink {
  readonly seq: number;
  readonly hash: Buffer;
}

/** The last link of the chain: the newest record, else the newest anchor, else genesis (seq 0). */
export function chainTail(db: Database.Database): ChainLink {
  const last = db.prepare("SELECT seq, hash FROM results ORDER BY seq DESC LIMIT 1").get() as
    | ChainLink
    | undefined;
  if (last) return last;
  const anchor = latestAnchor(db);
  return anchor ?? { seq: 0, hash: GENESIS_HASH };
}

export function latestAnchor(db: Database.Database): ChainLink | undefined {
  return db.prepare("SELECT seq, hash FROM chain_anchors ORDER BY seq DESC LIMIT 1").get() as
    | ChainLink
    | undefined;
}

/**
 * Appends results to the chain in the given order, skipping any whose probe + ts is already
 * stored. Must run inside a write transaction: the tail is read there, so two writers (the daemon
 * and an import) never fork the chain.
 */
export function appendToChain(
  db: Database.Database,
  results: Iterable<ProbeResult>,
  onEach?: (done: number) => void,
): { appended: ChainedResult[]; duplicates: number } {
  const insert = db.prepare(INSERT_RESULT_SQL);
  let tail = chainTail(db);
  const appended: ChainedResult[] = [];
  let duplicates = 0;
  let done = 0;
  for (const result of results) {
    const seq = tail.seq + 1;
    const hash = chainHash(tail.hash, canonicalForm(result));
    if (insert.run(rowValues(result, seq, tail.hash, hash)).changes === 1) {
      appended.push({ seq, result });
      tail = { seq, hash };
    } else {
      duplicates++;
    }
    if (onEach && ++done % 10_000 === 0) onEach(done);
  }
  return { appended, duplicates };
}
