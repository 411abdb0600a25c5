import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
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
  const verdicts = maintenanceVerdictsProblem(dir, parsed as Record<string, unknown>);
  if (verdicts) return verdicts;
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

/** maintenance.json's members that are the signed report's verdicts, by the report's path to them. */
const MAINTENANCE_VERDICTS: readonly [member: string, report: (r: ReportJson) => unknown, path: string][] = [
  ["month", (r) => r.month, "month"],
  ["windows", (r) => r.maintenance?.windows, "maintenance.windows"],
  ["exclusions", (r) => r.exclusions, "exclusions"],
  ["automatic_exclusions", (r) => r.automatic_exclusions, "automatic_exclusions"],
];

type ReportJson = Record<string, unknown> & { maintenance?: { windows?: unknown } };

/**
 * maintenance.json's window verdicts (qualified, excluded_requests, ...), exclusions and
 * automatic exclusions are copies of the signed report's: each must be the report's exactly, so an
 * edited verdict is named (the feed windows are checked against the input chain, bundle-head.ts).
 */
function maintenanceVerdictsProblem(
  dir: string,
  report: ReportJson,
): { readonly where: string; readonly detail: string } | null {
  const bytes = readBundleFile(dir, BUNDLE_FILES.maintenance, true);
  if (bytes === null) return null;
  const where = BUNDLE_FILES.maintenance;
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
  } catch {
    return { where, detail: "not JSON (edited)" };
  }
  const strict = strictJsonProblem(bytes.toString("utf8"));
  if (strict !== null) return { where, detail: `not JSON read one way only: ${strict}` };
  for (const [member, of, path] of MAINTENANCE_VERDICTS) {
    const stated = document[member];
    const signed = of(report);
    if (Array.isArray(stated) && Array.isArray(signed)) {
      const at = firstDifference(stated, signed);
      if (at !== null)
        return {
          where,
          detail: `${member}[${at}] is not the signed report's ${path}[${at}] (${describeEntry(signed[at])}): edited`,
        };
    } else if (canonicalize(stated) !== canonicalize(signed)) {
      return { where, detail: `${member} is not the signed report's ${path}: edited` };
    }
  }
  return null;
}

function firstDifference(stated: readonly unknown[], signed: readonly unknown[]): number | null {
  for (let i = 0; i < Math.max(stated.length, signed.length); i++)
    if (canonicalize(stated[i]) !== canonicalize(signed[i])) return i;
  return null;
}

function describeEntry(entry: unknown): string {
  const id = (entry as { id?: unknown } | undefined)?.id;
  return typeof id === "string" ? `id ${id}` : "absent";
}
