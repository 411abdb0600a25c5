import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { monthInterval } from "../../model/time.js";
import { packagePath } from "../../package-root.js";
import { resultOfValues } from "../rows.js";
import { CHECKPOINT_FILE, checkpointFile, INPUTS_FILE, inputLines } from "./bundle-head.js";
import { bundleReadme } from "./bundle-readme.js";
import { canonicalForm } from "./canonical.js";
import { prunedRollupLines } from "./rollup-commitments.js";
import { type Signature, type Statement, statementBytes } from "./signing.js";
import type { StatementTimestamp } from "./timestamp.js";
import { HASH, PREV_HASH, RECORD_COLUMNS, SEQ, type StoredRecord } from "./verify.js";

/** The files of an evidence bundle (contract section 7), each listed in SHA256SUMS. */
export const BUNDLE_FILES = {
  records: "records.ndjson",
  statement: "statement.json",
  signature: "signature.json",
  rawSignature: "statement.sig",
  /** Only when a TSA timestamped the statement (agent.tsa_url). */
  timestamp: "statement.tsr",
  publicKey: "public_key.pem",
  readme: "README.md",
  /**
   * The effective configuration the month was computed with, secrets removed, as RFC 8785 JSON:
   * the bytes config_sha256 is the SHA-256 of. Written from the loaded configuration; once
   * configuration loads are log records, from the record the report names.
   */
  configuration: "configuration.json",
  /** The maintenance feed's windows as the store read them, and the report's window verdicts. */
  maintenance: "maintenance.json",
  /** One line per record of the month: counted, or excluded and by what (src/reports/verdicts.ts). */
  classification: "classification.ndjson",
  /** The JSON report of the month, signed whole (report_signature). */
  report: "report.json",
  /** The rollups of the month's pruned days, as their rollup commitments digest them (only for a month retention pruned). */
  rollups: "rollups.ndjson",
  /** Recomputes every figure of report.json from the files above, with Python 3's standard library. */
  recompute: "recompute.py",
  /** The newest signed checkpoint: records.ndjson runs up to the head it commits. */
  checkpoint: CHECKPOINT_FILE,
  /** The input chain (configuration loads, maintenance observations, rollup commitments) up to the checkpoint's input head. */
  inputs: INPUTS_FILE,
  sums: "SHA256SUMS",
  /**
   * The agent's Ed25519 signature of SHA256SUMS's bytes: SHA256SUMS names every file of the bundle
   * (README.md too), so no file can be rewritten, dropped or added without the agent's key.
   */
  sumsSignature: "SHA256SUMS.sig",
} as const;

/** Shipped beside dist/ (package.json "files"); found from the package root. */
const RECOMPUTE_SCRIPT = packagePath("bundle", "recompute.py");

/** SHA-256 (hex) of the recompute.py this agent ships in its bundles: the signed report names it. */
export function recomputeScriptSha256(): string {
  return createHash("sha256").update(readFileSync(RECOMPUTE_SCRIPT)).digest("hex");
}

/** What lets the provider recompute the month's figures from the bundle alone (contract section 13). */
export interface Recomputation {
  /** JCS bytes of the effective configuration (sha256 = config_sha256). */
  readonly configuration: string;
  readonly maintenance: string;
  /** classification.ndjson's lines, without newlines. */
  readonly classification: readonly string[];
  /** The signed JSON report as `report --format json` writes it. */
  readonly report: string;
}

/**
 * One bundle line: the record's seq, prev_hash and hash first, then its canonical form's members
 * byte for byte. Dropping the first three members gives back exactly the text the hash covers:
 * `"{" + line[line.index(',"ts":') + 1:]`.
 */
export function bundleLine(seq: number, prevHashHex: string, hashHex: string, canonical: string): string {
  return `{"seq":${seq},"prev_hash":"${prevHashHex}","hash":"${hashHex}",${canonical.slice(1)}`;
}

/** The canonical form inside a bundle line (see bundleLine); null when the line has no ts member. */
export function canonicalOfLine(line: string): string | null {
  const at = line.indexOf(',"ts":');
  return at < 0 ? null : `{${line.slice(at + 1)}`;
}

export interface BundleInput {
  readonly month: string;
  /** Seq run to export: the month's records, everything chained between them and one link on each side. */
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly statement: Statement;
  readonly signature: Signature;
  /** The TSA's timestamp of the statement, written as statement.tsr; null: none. */
  readonly timestamp?: StatementTimestamp | null;
  /** The files recompute.py needs, and recompute.py itself; absent: a bundle that only proves the records. */
  readonly recomputation?: Recomputation | null;
  /** Signs SHA256SUMS's bytes with the key that signed the statement (SHA256SUMS.sig). */
  readonly signSums: (bytes: Buffer) => Buffer;
}

function recomputationFiles(
  recomputation: Recomputation | null | undefined,
): Record<string, Buffer | string> {
  if (!recomputation) return {};
  const { classification } = recomputation;
  return {
    [BUNDLE_FILES.configuration]: recomputation.configuration,
    [BUNDLE_FILES.maintenance]: recomputation.maintenance,
    [BUNDLE_FILES.classification]: classification.length === 0 ? "" : `${classification.join("\n")}\n`,
    [BUNDLE_FILES.report]: recomputation.report,
    [BUNDLE_FILES.recompute]: readFileSync(RECOMPUTE_SCRIPT),
  };
}

function prunedRollupsFile(db: Database.Database, month: string): Record<string, string> {
  const { start, end } = monthInterval(month);
  const lines = prunedRollupLines(db, start, end);
  return lines.length === 0 ? {} : { [BUNDLE_FILES.rollups]: lines0(lines) };
}

function lines0(lines: readonly string[]): string {
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** Writes a bundle into dir (created; must be empty). Returns the number of lines written. */
export function writeBundle(db: Database.Database, dir: string, input: BundleInput): number {
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw new Error(`--out ${dir} is not empty`);
  const checkpoint = checkpointFile(db);
  // From the month up to the signed head: every hash between them is recomputed from the bundle.
  const toSeq = input.toSeq === 0 ? 0 : Math.max(input.toSeq, checkpoint?.headSeq ?? 0);
  const lines: string[] = [];
  const rows = db
    .prepare(`SELECT ${RECORD_COLUMNS} FROM results WHERE seq >= ? AND seq <= ? ORDER BY seq`)
    .raw(true)
    .iterate(input.fromSeq, toSeq) as Iterable<StoredRecord>;
  for (const row of rows) {
    const canonical = canonicalForm(resultOfValues(row));
    lines.push(bundleLine(row[SEQ] as number, row[PREV_HASH] as string, row[HASH] as string, canonical));
  }
  const files: Record<string, Buffer | string> = {
    [BUNDLE_FILES.records]: lines.length === 0 ? "" : `${lines.join("\n")}\n`,
    [BUNDLE_FILES.statement]: statementBytes(input.statement),
    [BUNDLE_FILES.signature]: `${JSON.stringify(input.signature, null, 2)}\n`,
    [BUNDLE_FILES.rawSignature]: Buffer.from(input.signature.value, "base64"),
    [BUNDLE_FILES.publicKey]: input.signature.public_key_pem,
    [BUNDLE_FILES.readme]: bundleReadme(
      input.month,
      input.signature.key_id,
      input.timestamp ?? null,
      Boolean(input.recomputation),
    ),
    ...recomputationFiles(input.recomputation),
    ...(input.recomputation ? prunedRollupsFile(db, input.month) : {}),
    ...(checkpoint
      ? {
          [BUNDLE_FILES.checkpoint]: checkpoint.text,
          [BUNDLE_FILES.inputs]: lines0(inputLines(db, checkpoint.inputsSeq)),
        }
      : {}),
    ...(input.timestamp
      ? { [BUNDLE_FILES.timestamp]: Buffer.from(input.timestamp.tsr_base64, "base64") }
      : {}),
  };
  const sums: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), content);
    sums.push(`${createHash("sha256").update(content).digest("hex")}  ${name}`);
  }
  const sumsBytes = Buffer.from(`${sums.join("\n")}\n`, "utf8");
  writeFileSync(join(dir, BUNDLE_FILES.sums), sumsBytes);
  writeFileSync(join(dir, BUNDLE_FILES.sumsSignature), input.signSums(sumsBytes));
  return lines.length;
}
