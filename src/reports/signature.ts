/**
 * The JSON report signed whole (contract section 13): a top-level `report_signature` over the
 * RFC 8785 (JCS) bytes of the entire report without `report_signature`, by the agent's key. The
 * statement's signature covers the records; this one covers every figure, credit and word.
 */
import { createHash, createPublicKey } from "node:crypto";
import canonicalize from "canonicalize";
import { keyIdOf } from "../record/evidence/signing.js";
import { type AgentKey, signatureValid } from "../record/index.js";
import type { MonthlyReport, ReportSignature } from "./model.js";

/**
 * The bytes the report signature covers: the report as its JSON file holds it (a JSON round trip
 * drops what JSON has no form for, as the file does), without `report_signature`, in JCS form.
 */
export function reportBytes(report: object): Buffer {
  const { report_signature: _, ...unsigned } = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
  return Buffer.from(canonicalize(unsigned) ?? "", "utf8");
}

/** The report's digest: SHA-256 (hex) of reportBytes, as every other format shows it. */
export function reportDigest(report: object): string {
  return createHash("sha256").update(reportBytes(report)).digest("hex");
}

/** The report with its `report_signature` by the agent's key. */
export function signReport(report: MonthlyReport, key: AgentKey): MonthlyReport {
  const report_signature: ReportSignature = {
    alg: "ed25519",
    key_id: key.keyId,
    value: key.signBytes(reportBytes(report)).toString("base64"),
  };
  return { ...report, report_signature };
}

/** What checking a JSON report's signature found. */
export type ReportCheck =
  | { readonly ok: true; readonly keyId: string; readonly digest: string }
  | { readonly ok: false; readonly problem: string };

/** Thrown when the text is not a JSON report that carries a signature to check (exit 2). */
export class ReportUnreadable extends Error {
  override name = "ReportUnreadable";
}

interface Parsed {
  readonly signature: ReportSignature;
  readonly publicKeyPem: string;
}

/** The signature and the public key the report names, or ReportUnreadable saying what is missing. */
function parsedSignature(report: unknown): Parsed {
  if (typeof report !== "object" || report === null || Array.isArray(report))
    throw new ReportUnreadable("not a JSON report (the top level is not an object)");
  const r = report as Record<string, unknown>;
  const s = r.report_signature as Record<string, unknown> | undefined;
  if (typeof s !== "object" || s === null)
    throw new ReportUnreadable("the report has no report_signature (an unsigned report proves nothing)");
  if (s.alg !== "ed25519" || typeof s.key_id !== "string" || typeof s.value !== "string")
    throw new ReportUnreadable(
      'report_signature must be {"alg": "ed25519", "key_id": "...", "value": "<base64>"}',
    );
  const evidence = r.evidence as { signature?: { public_key_pem?: unknown } } | undefined;
  const pem = evidence?.signature?.public_key_pem;
  if (typeof pem !== "string")
    throw new ReportUnreadable("the report has no evidence.signature.public_key_pem to check it with");
  return { signature: s as unknown as ReportSignature, publicKeyPem: pem };
}

/**
 * Checks a parsed JSON report: the key id must be the one derived from the public key the report
 * carries (never taken on its word), and the signature must hold over the report's JCS bytes.
 * The public key travels in the signed bytes, so swapping it breaks the signature too; compare
 * the key id with the one the merchant published to know whose key it is.
 */
export function checkReportSignature(report: unknown): ReportCheck {
  const { signature, publicKeyPem } = parsedSignature(report);
  // Nothing unsigned may ride along: report_signature is outside the signed bytes, so any
  // member beyond these three (a "note") would be read by people yet covered by nothing.
  const members = Object.keys(signature).sort().join(",");
  if (members !== "alg,key_id,value")
    return {
      ok: false,
      problem: `not the signed bytes: report_signature holds members other than alg, key_id and value (${members})`,
    };
  // Buffer.from(_, "base64") skips characters that are not base64: the value must be exactly the
  // canonical base64 of a 64-byte Ed25519 signature, so junk in it cannot pass for the signature.
  const raw = Buffer.from(signature.value, "base64");
  if (raw.length !== 64 || raw.toString("base64") !== signature.value)
    return {
      ok: false,
      problem:
        "not the signed bytes: report_signature.value is not the base64 of a 64-byte Ed25519 signature",
    };
  let keyId: string;
  try {
    keyId = keyIdOf(createPublicKey(publicKeyPem));
  } catch (error) {
    throw new ReportUnreadable(
      `evidence.signature.public_key_pem is not a public key (${(error as Error).message})`,
    );
  }
  if (signature.key_id !== keyId)
    return {
      ok: false,
      problem: `report_signature.key_id ${signature.key_id} is not the id of the report's public key (${keyId})`,
    };
  const bytes = reportBytes(report as object);
  if (!signatureValid(bytes, raw, publicKeyPem))
    return {
      ok: false,
      problem: `report_signature is not a valid signature of this report by key ${keyId}: the report was changed after it was signed`,
    };
  return { ok: true, keyId, digest: createHash("sha256").update(bytes).digest("hex") };
}
