import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import canonicalize from "canonicalize";
import { BUNDLE_FILES, canonicalOfLine } from "./bundle.js";
import { chainHashHex, PeriodDigest } from "./canonical.js";
import { signatureValid } from "./signing.js";

/** A bundle that cannot be read at all: `verify --bundle` exits 2. */
export class BundleUnreadable extends Error {}

export type BundleOutcome =
  | { readonly ok: true; readonly records: number; readonly sha256: string; readonly keyId: string }
  | { readonly ok: false; readonly where: string; readonly detail: string };

const HEX64 = /^[0-9a-f]{64}$/;
const LISTED_FILES: ReadonlySet<string> = new Set(
  Object.values(BUNDLE_FILES).filter((name) => name !== BUNDLE_FILES.sums),
);

/**
 * Checks a bundle with no store: every line's hash and link, the month digest and counts against
 * the statement, the statement's signature, and SHA256SUMS. The first problem is returned, named
 * by file and line.
 */
export function verifyBundle(dir: string): BundleOutcome {
  const read = (name: string) => readBundleFile(dir, name);
  const statementBytes = read(BUNDLE_FILES.statement);
  const statement = parseStatement(statementBytes);
  const records = checkRecords(read(BUNDLE_FILES.records).toString("utf8"), String(statement.month ?? ""));
  if (!records.ok) return records;
  const stated = compareToStatement(statement, records.records, records.sha256, records.seqs);
  if (stated) return { ok: false, where: BUNDLE_FILES.statement, detail: stated };
  if (canonicalize(statement) !== statementBytes.toString("utf8")) {
    return { ok: false, where: BUNDLE_FILES.statement, detail: "not in RFC 8785 canonical form (edited)" };
  }
  const publicKeyPem = read(BUNDLE_FILES.publicKey).toString("utf8");
  if (!signatureValid(statementBytes, read(BUNDLE_FILES.rawSignature), publicKeyPem)) {
    return {
      ok: false,
      where: BUNDLE_FILES.rawSignature,
      detail: "the signature of statement.json does not verify with public_key.pem",
    };
  }
  const sums = checkSums(dir, read(BUNDLE_FILES.sums).toString("utf8"));
  if (sums) return sums;
  const signature = JSON.parse(read(BUNDLE_FILES.signature).toString("utf8")) as { key_id?: string };
  return { ok: true, records: records.records, sha256: records.sha256, keyId: String(signature.key_id) };
}

function readBundleFile(dir: string, name: string): Buffer {
  try {
    return readFileSync(join(dir, name));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new BundleUnreadable(`${join(dir, name)}: cannot read it (${code})`);
  }
}

function parseStatement(bytes: Buffer): Record<string, unknown> {
  try {
    const value = JSON.parse(bytes.toString("utf8")) as unknown;
    if (value !== null && typeof value === "object" && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new BundleUnreadable(`${BUNDLE_FILES.statement}: not a JSON object`);
}

type RecordsOutcome =
  | { ok: true; records: number; sha256: string; seqs: { first: number; last: number } }
  | { ok: false; where: string; detail: string };

function checkRecords(text: string, month: string): RecordsOutcome {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  /** The month's records, for the digest: it wants them in ts order (PeriodDigest). */
  const monthRecords: { ts: number; canonical: string }[] = [];
  let previous: { seq: number; hash: string } | null = null;
  let first = 0;
  let last = 0;
  for (const [index, line] of lines.entries()) {
    const where = `${BUNDLE_FILES.records}:${index + 1}`;
    const bad = (detail: string): RecordsOutcome => ({ ok: false, where, detail });
    let record: { seq?: unknown; prev_hash?: unknown; hash?: unknown; ts?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      return bad("not a JSON object (edited)");
    }
    const canonical = canonicalOfLine(line);
    const { seq, prev_hash: prevHash, hash, ts } = record;
    if (canonical === null || typeof seq !== "number" || typeof ts !== "string")
      return bad("not a record line");
    if (typeof prevHash !== "string" || !HEX64.test(prevHash) || typeof hash !== "string")
      return bad("no prev_hash or hash");
    if (previous && seq !== previous.seq + 1) return bad(`seq ${seq} does not follow seq ${previous.seq}`);
    if (previous && prevHash !== previous.hash) return bad(`seq ${seq} is not chained to the line before it`);
    const recomputed = chainHashHex(prevHash, canonical);
    if (recomputed !== hash) return bad(`seq ${seq}: its content does not match its hash`);
    if (ts.startsWith(`${month}-`)) {
      monthRecords.push({ ts: Date.parse(ts), canonical });
      first ||= seq;
      last = seq;
    }
    previous = { seq, hash };
  }
  return { ok: true, ...digestOf(monthRecords), seqs: { first, last } };
}

function digestOf(records: { ts: number; canonical: string }[]): { records: number; sha256: string } {
  const digest = new PeriodDigest();
  // Stable, and mostly in order already: the chain follows ts except where imports interleave.
  for (const r of records.sort((a, b) => a.ts - b.ts)) digest.add(r.ts, r.canonical);
  return digest.finish();
}

function compareToStatement(
  statement: Record<string, unknown>,
  records: number,
  sha256: string,
  seqs: { first: number; last: number },
): string | null {
  if (statement.records !== records)
    return `states ${String(statement.records)} records, the bundle has ${records}`;
  if (statement.sha256 !== sha256)
    return `states digest ${String(statement.sha256)}, the records give ${sha256}`;
  if (statement.first_seq !== seqs.first || statement.last_seq !== seqs.last) {
    return `states seq ${String(statement.first_seq)}..${String(statement.last_seq)}, the records are seq ${seqs.first}..${seqs.last}`;
  }
  return null;
}

function checkSums(dir: string, text: string): BundleOutcome | null {
  for (const [index, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match)
      return { ok: false, where: `${BUNDLE_FILES.sums}:${index + 1}`, detail: "not a sha256sum line" };
    // Only the bundle's own files: a SHA256SUMS line never makes verify read elsewhere.
    if (!LISTED_FILES.has(match[2]!)) {
      return {
        ok: false,
        where: `${BUNDLE_FILES.sums}:${index + 1}`,
        detail: `names ${match[2]}, not a bundle file`,
      };
    }
    const actual = createHash("sha256").update(readBundleFile(dir, match[2]!)).digest("hex");
    if (actual !== match[1])
      return { ok: false, where: match[2]!, detail: "its SHA-256 is not the one in SHA256SUMS" };
  }
  return null;
}
