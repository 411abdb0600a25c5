import { createHash } from "node:crypto";
import { BUNDLE_FILES, readBundleFile } from "../record/index.js";
import { checkReportSignature, type ReportCheck } from "./signature.js";
import { strictJsonProblem } from "./strict-json.js";

/**
 * The bundle's report.json, when there is one, must be signed whole by the bundle's key, and
 * recompute.py must be the script it names (evidence.recompute_sha256): both are what the
 * provider reads the figures from. Null when they hold (or the bundle has no report); a file
 * that cannot be read safely throws BundleUnreadable.
 */
export function bundledReportProblem(
  dir: string,
  keyId: string,
): { readonly where: string; readonly detail: string } | null {
  const bytes = readBundleFile(dir, BUNDLE_FILES.report, true);
  const script = readBundleFile(dir, BUNDLE_FILES.recompute, true);
  if (bytes === null) return null;
  const where = BUNDLE_FILES.report;
  const text = bytes.toString("utf8");
  let parsed: { evidence?: { recompute_sha256?: unknown } };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return { where, detail: "not JSON (edited)" };
  }
  const strict = strictJsonProblem(text);
  if (strict !== null) return { where, detail: `not the signed bytes: ${strict}` };
  let check: ReportCheck;
  try {
    check = checkReportSignature(parsed);
  } catch (error) {
    return { where, detail: (error as Error).message };
  }
  if (!check.ok) return { where, detail: check.problem };
  if (check.keyId !== keyId)
    return { where, detail: `signed by key ${check.keyId}, not the bundle's key ${keyId}` };
  const named = parsed.evidence?.recompute_sha256;
  if (typeof named === "string" && script !== null) {
    const actual = createHash("sha256").update(script).digest("hex");
    if (actual !== named)
      return {
        where: BUNDLE_FILES.recompute,
        detail: `its SHA-256 ${actual} is not the ${named} the signed report names`,
      };
  }
  return null;
}
