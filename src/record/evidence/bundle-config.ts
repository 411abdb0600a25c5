import { createHash } from "node:crypto";
import { differenceText, figureDifferences } from "../../model/config-differences.js";

/** A configuration record of inputs.ndjson: its seq, when it was loaded (epoch ms) and its payload. */
export interface BundledConfigRecord {
  readonly seq: number;
  readonly ts: number;
  readonly payload: unknown;
  /** SHA-256 of the payload's canonical (JCS) form. */
  readonly sha256: string;
}

export type ConfigurationCheck =
  | { readonly ok: true; readonly warning: string | null }
  | { readonly ok: false; readonly where: string; readonly detail: string };

/**
 * configuration.json against the month's configuration records in inputs.ndjson (the newest loaded
 * before the month and each loaded inside it): a configuration none of them is, that differs from
 * the newest in an objective, a target, a category, credits, exclusions, controls or a probe's
 * category, timeout or schedule, made figures or verdicts the log does not bear out
 * (exit 1). Declared windows only: a warning (a window the log never held counts from when the
 * report was made, src/reports/warnings.ts). A log without configuration records (a store filled by
 * import) has nothing to compare with.
 */
export function checkBundledConfiguration(
  configuration: Buffer,
  records: readonly BundledConfigRecord[],
  month: { readonly start: number; readonly end: number },
): ConfigurationCheck {
  const before = records.filter((r) => r.ts <= month.start).at(-1);
  const monthRecords = [
    ...(before ? [before] : []),
    ...records.filter((r) => r.ts > month.start && r.ts < month.end),
  ];
  const newest = monthRecords.at(-1);
  const sha = createHash("sha256").update(configuration).digest("hex");
  if (!newest || monthRecords.some((r) => r.sha256 === sha)) return { ok: true, warning: null };
  const differences = figureDifferences(JSON.parse(configuration.toString("utf8")), newest.payload);
  const seqs = monthRecords.map((r) => r.seq).join(", ");
  const none = `configuration.json is none of the month's configuration records in inputs.ndjson (input records ${seqs})`;
  const deciding = differences.filter((d) => !d.path.startsWith("maintenance.windows"));
  const listed = (list: typeof differences) =>
    list.map((d) => differenceText(d, "configuration.json")).join("; ");
  if (deciding.length > 0)
    return {
      ok: false,
      where: "configuration.json",
      detail: `${none}: it differs from input record ${newest.seq} in what decides figures and verdicts: ${listed(deciding)}`,
    };
  const what =
    differences.length === 0
      ? "in nothing these figures and verdicts are computed with"
      : `in declared maintenance windows (judged from when the report was made): ${listed(differences)}`;
  return { ok: true, warning: `${none}: it differs from input record ${newest.seq} ${what}` };
}
