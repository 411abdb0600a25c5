import { createHash, createPublicKey } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import canonicalize from "canonicalize";
import { AnchorImprintMismatch } from "./anchor.js";
import { BUNDLE_FILES, canonicalOfLine } from "./bundle.js";
import { checkHead } from "./bundle-head.js";
import { chainHashHex, PeriodDigest } from "./canonical.js";
import { RFC3161_ANCHOR } from "./rfc3161-anchor.js";
import { keyIdOf, signatureValid } from "./signing.js";
import type { TokenSigner } from "./timestamp-signature.js";

/**
 * The largest bundle file verify reads: records.ndjson of a month (a probe every 10 s for 30
 * probes is about 300 MB) and classification.ndjson (one verdict line per record of the month,
 * so it grows with the month the same way); every other file is far smaller. Anything larger is
 * refused, not read.
 */
export const MAX_RECORDS_BYTES = 1024 * 1024 * 1024;
/**
 * The report and the maintenance verdicts grow with the month's incidents and windows: a flaky
 * provider's month (thousands of isolated failures) makes a report.json of several MB. The bound
 * `verify --report` reads a report with.
 */
export const MAX_REPORT_BYTES = 64 * 1024 * 1024;
export const MAX_FILE_BYTES = 1024 * 1024;
/** The files with a line per record of the month: bounded by MAX_RECORDS_BYTES. */
const PER_RECORD_FILES: ReadonlySet<string> = new Set([
  BUNDLE_FILES.records,
  BUNDLE_FILES.classification,
  BUNDLE_FILES.inputs,
  BUNDLE_FILES.rollups,
]);

/** A bundle that cannot be read at all: `verify --bundle` exits 2. */
export class BundleUnreadable extends Error {}

export type BundleOutcome =
  | {
      readonly ok: true;
      readonly records: number;
      readonly sha256: string;
      readonly keyId: string;
      /** The head seq of the signed checkpoint the month reaches; null: an empty month without one. */
      readonly headSeq: number | null;
      /** The input record whose configuration is configuration.json; null: not recorded in the log. */
      readonly configSeq: number | null;
      /** The TSA that signed statement.tsr; null: the bundle has none. */
      readonly timestamp: TokenSigner | null;
      /** The store's adoptions (`evidence adopt`) inputs.ndjson holds, one sentence each. */
      readonly adoptions: readonly string[];
      /** configuration.json is none of the month's configuration records, in nothing that decides a figure. */
      readonly configWarning: string | null;
    }
  | { readonly ok: false; readonly where: string; readonly detail: string };

/** What the reader pins from outside the bundle: the merchant's key id, the TSA's CA certificates (DER). */
export interface BundlePins {
  readonly keyId?: string | undefined;
  readonly tsaCas?: readonly Buffer[] | undefined;
}

const HEX64 = /^[0-9a-f]{64}$/;
const LISTED_FILES: ReadonlySet<string> = new Set(
  Object.values(BUNDLE_FILES).filter(
    (name) => name !== BUNDLE_FILES.sums && name !== BUNDLE_FILES.sumsSignature,
  ),
);
/** Every bundle has these; the others come with a checkpoint, a timestamp or the recomputation. */
const REQUIRED_FILES: readonly string[] = [
  BUNDLE_FILES.records,
  BUNDLE_FILES.statement,
  BUNDLE_FILES.signature,
  BUNDLE_FILES.rawSignature,
  BUNDLE_FILES.publicKey,
  BUNDLE_FILES.readme,
];

/**
 * Checks a bundle with no store: every line's hash and link, the link lines on both sides of the
 * month, the month digest and counts against the statement (which must say the chain verified),
 * the statement's signature under public_key.pem, the key id derived from that key (and pinned by
 * `pins.keyId`), statement.tsr when present (its imprint and the TSA's signature, chaining to
 * `pins.tsaCas` when given), and SHA256SUMS. The first problem is
 * returned, named by file and line. Only regular files within the size bounds are read.
 */
export async function verifyBundle(dir: string, pins: BundlePins = {}): Promise<BundleOutcome> {
  const expectedKeyId = pins.keyId;
  const read = (name: string) => readBundleFile(dir, name);
  const statementBytes = read(BUNDLE_FILES.statement);
  const statement = parseStatement(statementBytes);
  const records = checkRecords(read(BUNDLE_FILES.records).toString("utf8"), String(statement.month ?? ""));
  if (!records.ok) return records;
  const stated = compareToStatement(statement, records.records, records.sha256);
  if (stated) return { ok: false, where: BUNDLE_FILES.statement, detail: stated };
  const links = missingLinkLine(records.seqs, records.span, records.firstPrevHash, signedAnchor(dir));
  if (links) return { ok: false, where: BUNDLE_FILES.records, detail: links };
  if (canonicalize(statement) !== statementBytes.toString("utf8")) {
    return { ok: false, where: BUNDLE_FILES.statement, detail: "not in RFC 8785 canonical form (edited)" };
  }
  if (statement.chain !== "verified") {
    return {
      ok: false,
      where: BUNDLE_FILES.statement,
      detail: `says the chain is ${JSON.stringify(statement.chain)}: the store did not verify when it was exported`,
    };
  }
  const publicKeyPem = read(BUNDLE_FILES.publicKey).toString("utf8");
  if (!signatureValid(statementBytes, read(BUNDLE_FILES.rawSignature), publicKeyPem)) {
    return {
      ok: false,
      where: BUNDLE_FILES.rawSignature,
      detail: "the signature of statement.json does not verify with public_key.pem",
    };
  }
  const keyId = keyIdOf(createPublicKey(publicKeyPem));
  if (expectedKeyId !== undefined && expectedKeyId.toLowerCase() !== keyId) {
    return {
      ok: false,
      where: BUNDLE_FILES.publicKey,
      detail: `the bundle is signed by key ${keyId}, not the expected key ${expectedKeyId.toLowerCase()}`,
    };
  }
  const head = checkHeadFiles(dir, statement, records, publicKeyPem);
  if (!head.ok) return head;
  const timestamp = await checkTimestamp(dir, statementBytes, pins.tsaCas ?? []);
  if (timestamp && "ok" in timestamp) return timestamp;
  const sums = checkSums(dir, read(BUNDLE_FILES.sums), publicKeyPem);
  if (sums) return sums;
  return {
    ok: true,
    records: records.records,
    sha256: records.sha256,
    keyId,
    headSeq: head.headSeq,
    configSeq: head.configSeq,
    timestamp,
    adoptions: head.adoptions,
    configWarning: head.configWarning,
  };
}

/**
 * checkpoint.json ties the month to the signed head (records.ndjson must end at the head it
 * commits) and inputs.ndjson to its input head; a month with records needs one.
 */
function checkHeadFiles(
  dir: string,
  statement: Record<string, unknown>,
  records: Extract<RecordsOutcome, { ok: true }>,
  publicKeyPem: string,
):
  | {
      ok: true;
      headSeq: number | null;
      configSeq: number | null;
      adoptions: readonly string[];
      configWarning: string | null;
    }
  | { ok: false; where: string; detail: string } {
  const checkpoint = readBundleFile(dir, BUNDLE_FILES.checkpoint, true);
  if (checkpoint === null) {
    if (records.records === 0)
      return { ok: true, headSeq: null, configSeq: null, adoptions: [], configWarning: null };
    return {
      ok: false,
      where: BUNDLE_FILES.checkpoint,
      detail: "missing: nothing ties the month's records to the agent's newest signed checkpoint",
    };
  }
  const month = String(statement.month ?? "");
  const monthEnd = Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1);
  return checkHead({
    checkpoint,
    inputs: (readBundleFile(dir, BUNDLE_FILES.inputs, true) ?? Buffer.alloc(0)).toString("utf8"),
    publicKeyPem,
    recordsEnd: records.end,
    monthRecords: records.records,
    monthStart: Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1, 1),
    monthEnd,
    generatedAt: statement.generated_at,
    configuration: readBundleFile(dir, BUNDLE_FILES.configuration, true),
    configSha256: statement.config_sha256,
    maintenance: readBundleFile(dir, BUNDLE_FILES.maintenance, true),
  });
}

/**
 * The record chained before the month's first must be there: it ties the month to what came
 * before. The one after is there when the store had one at export (a month at the chain's tail
 * has none), so only its link is checked, by the walk.
 */
function missingLinkLine(
  seqs: { first: number; last: number },
  span: { first: number; last: number },
  firstPrevHash: string | null,
  anchor: { seq: number; hash: string } | null,
): string | null {
  if (seqs.first === 0) return null;
  // Retention pruned it: the month's first record follows the chain anchor the signed checkpoint names.
  const anchored =
    anchor !== null &&
    span.first === seqs.first &&
    anchor.seq === seqs.first - 1 &&
    anchor.hash === firstPrevHash;
  if (seqs.first > 1 && span.first !== seqs.first - 1 && !anchored)
    return `the record chained before the month's first (seq ${seqs.first - 1}) is missing, and the month does not begin at the chain anchor checkpoint.json signs`;
  if (span.last < seqs.last) return `the records after seq ${span.last} are missing`;
  return null;
}

/**
 * The chain anchor checkpoint.json names (anchor_seq, anchor_hash); its signature is checked with
 * the rest of the checkpoint (checkHeadFiles), so a forged anchor fails there. Null: none named.
 */
function signedAnchor(dir: string): { seq: number; hash: string } | null {
  const bytes = readBundleFile(dir, BUNDLE_FILES.checkpoint, true);
  if (bytes === null) return null;
  try {
    const statement = (JSON.parse(bytes.toString("utf8")) as { statement?: Record<string, unknown> })
      .statement;
    const seq = statement?.anchor_seq;
    const hash = statement?.anchor_hash;
    return typeof seq === "number" && seq > 0 && typeof hash === "string" ? { seq, hash } : null;
  } catch {
    return null;
  }
}

/**
 * statement.tsr, when present, must be a granted RFC 3161 token over statement.json's bytes, signed
 * by the TSA certificate it carries (and chaining to a pinned TSA CA when given): a token whose
 * signature was changed or made by another key is refused, not only one for other bytes.
 */
async function checkTimestamp(
  dir: string,
  statementBytes: Buffer,
  trusted: readonly Buffer[],
): Promise<BundleOutcome | TokenSigner | null> {
  const tsr = readBundleFile(dir, BUNDLE_FILES.timestamp, true);
  if (tsr === null) return null;
  const where = BUNDLE_FILES.timestamp;
  try {
    return await RFC3161_ANCHOR.verify(tsr, statementBytes, trusted);
  } catch (error) {
    if (error instanceof AnchorImprintMismatch)
      return {
        ok: false,
        where,
        detail: `timestamps SHA-256 ${error.attested}, not statement.json's ${error.expected}`,
      };
    return { ok: false, where, detail: (error as Error).message };
  }
}

/**
 * A bundle file's bytes, read through a descriptor opened without following a symlink and without
 * blocking on a FIFO, and only once fstat shows a regular file within its bound: a bundle is
 * hostile input, and a link out of it, /dev/zero or a pipe must not make verify read elsewhere,
 * forever or without end. `optional`: null when the file is not there.
 */
export function readBundleFile(dir: string, name: string, optional: true): Buffer | null;
export function readBundleFile(dir: string, name: string): Buffer;
export function readBundleFile(dir: string, name: string, optional = false): Buffer | null {
  const path = join(dir, name);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (optional && code === "ENOENT") return null;
    if (code === "ELOOP") throw new BundleUnreadable(`${path}: is a symbolic link (refused)`);
    throw new BundleUnreadable(`${path}: cannot read it (${code})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new BundleUnreadable(`${path}: not a regular file (refused)`);
    const bound = PER_RECORD_FILES.has(name)
      ? MAX_RECORDS_BYTES
      : name === BUNDLE_FILES.report || name === BUNDLE_FILES.maintenance
        ? MAX_REPORT_BYTES
        : MAX_FILE_BYTES;
    if (stat.size > bound)
      throw new BundleUnreadable(`${path}: ${stat.size} bytes, over the bound of ${bound} (refused)`);
    const bytes = Buffer.alloc(stat.size);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return bytes.subarray(0, done);
  } finally {
    closeSync(fd);
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
  | {
      ok: true;
      records: number;
      sha256: string;
      /** The month's lowest and highest seq, and the file's. */
      seqs: { first: number; last: number };
      span: { first: number; last: number };
      /** The last line's seq and hash: where the chain in the bundle ends. */
      end: { seq: number; hash: string } | null;
      /** The first line's prev_hash: the chain anchor's hash when the month begins at one. */
      firstPrevHash: string | null;
    }
  | { ok: false; where: string; detail: string };

function checkRecords(text: string, month: string): RecordsOutcome {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  /** The month's records, for the digest: it wants them in ts order (PeriodDigest). */
  const monthRecords: { ts: number; canonical: string }[] = [];
  let previous: { seq: number; hash: string } | null = null;
  let first = 0;
  let last = 0;
  let spanFirst = 0;
  let firstPrevHash: string | null = null;
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
    if (previous === null) {
      spanFirst = seq;
      firstPrevHash = prevHash;
    }
    previous = { seq, hash };
  }
  const span = { first: spanFirst, last: previous?.seq ?? 0 };
  return { ok: true, ...digestOf(monthRecords), seqs: { first, last }, span, end: previous, firstPrevHash };
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
): string | null {
  if (statement.records !== records)
    return `states ${String(statement.records)} records, the bundle has ${records}`;
  if (statement.sha256 !== sha256)
    return `states digest ${String(statement.sha256)}, the records give ${sha256}`;
  return null;
}

/**
 * SHA256SUMS must be signed by the statement's key (SHA256SUMS.sig) and name every file in the
 * bundle directory, each once and with its SHA-256: a file rewritten, dropped from the list or
 * added beside it (README.md too) fails.
 */
function checkSums(dir: string, bytes: Buffer, publicKeyPem: string): BundleOutcome | null {
  const sumsSignature = readBundleFile(dir, BUNDLE_FILES.sumsSignature, true);
  if (sumsSignature === null)
    return { ok: false, where: BUNDLE_FILES.sumsSignature, detail: "missing: nothing signs SHA256SUMS" };
  if (!signatureValid(bytes, sumsSignature, publicKeyPem))
    return {
      ok: false,
      where: BUNDLE_FILES.sumsSignature,
      detail: "the signature of SHA256SUMS does not verify with public_key.pem",
    };
  const listed = new Set<string>();
  for (const [index, line] of bytes.toString("utf8").split("\n").entries()) {
    if (line === "") continue;
    const where = `${BUNDLE_FILES.sums}:${index + 1}`;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match) return { ok: false, where, detail: "not a sha256sum line" };
    const name = match[2]!;
    // Only the bundle's own files: a SHA256SUMS line never makes verify read elsewhere.
    if (!LISTED_FILES.has(name)) return { ok: false, where, detail: `names ${name}, not a bundle file` };
    if (listed.has(name)) return { ok: false, where, detail: `names ${name} twice` };
    listed.add(name);
    const actual = createHash("sha256").update(readBundleFile(dir, name)).digest("hex");
    if (actual !== match[1])
      return { ok: false, where: name, detail: "its SHA-256 is not the one in SHA256SUMS" };
  }
  for (const name of REQUIRED_FILES)
    if (!listed.has(name)) return { ok: false, where: BUNDLE_FILES.sums, detail: `does not list ${name}` };
  for (const name of readdirSync(dir).sort()) {
    if (name === BUNDLE_FILES.sums || name === BUNDLE_FILES.sumsSignature || listed.has(name)) continue;
    return {
      ok: false,
      where: name,
      detail: LISTED_FILES.has(name)
        ? "not listed in SHA256SUMS (unsigned)"
        : "not a bundle file, and not listed in SHA256SUMS (unsigned)",
    };
  }
  return null;
}
