import { existsSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import canonicalize from "canonicalize";
import { effectiveConfiguration } from "../config/fingerprint.js";
import type { ReportSchedule, SloConfig } from "../model/config.js";
import { type EpochMs, isoUtc } from "../model/time.js";
import type { EvidenceStore } from "../record/index.js";
import { withFeedWindows } from "../slo/index.js";
import { buildMonthlyReport } from "./build.js";
import { sealReport } from "./evidence.js";
import type { MonthlyReport } from "./model.js";
import { monthEvidence, sealOf } from "./month-evidence.js";
import { renderPdf } from "./pdf.js";
import { renderReport } from "./render.js";
import { signReport } from "./signature.js";
import { maintenanceDocument, verdictLine } from "./verdicts.js";

/** What a scheduled delivery wrote, as `delivery.json` in its directory records it. */
export interface MonthlyDelivery {
  readonly month: string;
  /** Epoch ms. */
  readonly writtenAt: EpochMs;
  /** The directory: DATA_DIR/reports/YYYY-MM. */
  readonly dir: string;
  /** File names in it, the bundle directory last. */
  readonly files: readonly string[];
  /** Whether every record of the month verified. */
  readonly verified: boolean;
  /** Objectives missed ("category availability", ...), as the report's summary lists them. */
  readonly missed: readonly string[];
}

export interface MonthlyDeliveryInput {
  readonly config: SloConfig;
  readonly store: EvidenceStore;
  readonly dataDir: string;
  readonly month: string;
  readonly formats: ReportSchedule["formats"];
  readonly now: EpochMs;
  readonly warn: (line: string) => void;
}

export const DELIVERY_MANIFEST = "delivery.json";
const COMMAND = "scheduled report";

export function deliveryDir(dataDir: string, month: string): string {
  return join(dataDir, "reports", month);
}

/**
 * Writes a month's final report (each format) and its evidence bundle, as `slo-agent report` and
 * `slo-agent evidence export --report` would, under DATA_DIR/reports/YYYY-MM/. Everything is
 * written into a hidden directory first and renamed into place last, so the directory exists only
 * complete: its existence is what says the month was delivered. Evidence that does not verify is
 * still written, stamped UNVERIFIED, and said so.
 */
export async function writeMonthlyDelivery(input: MonthlyDeliveryInput): Promise<MonthlyDelivery> {
  const { config, store, dataDir, month, now } = input;
  const feedWindows = store.feedWindows.all();
  const classification: string[] = [];
  let built = undefined as MonthlyReport | undefined;
  const evidence = monthEvidence({
    command: COMMAND,
    store,
    config,
    dataDir,
    month,
    now,
    signatureRequired: true,
    warn: input.warn,
    readAlong: (verified) => {
      built = buildMonthlyReport({
        config: withFeedWindows(config, feedWindows, { ...store.declaredWindowVersions(), now, month }),
        store,
        month,
        now,
        agent: config.agent.id,
        verified,
        classify: (result, verdict) => classification.push(verdictLine(result, verdict)),
      });
    },
  });
  if (built === undefined) throw new Error(`${COMMAND}: the verification did not read ${month}`);
  if (evidence.problemText !== null)
    input.warn(
      `${COMMAND}: the evidence for ${month} did not verify (${evidence.problemText}); written stamped UNVERIFIED`,
    );
  const key = evidence.key;
  if (key === null) throw new Error(`${COMMAND}: no agent key to sign ${month}'s statement`);
  const report = signReport(sealReport(built, { ...sealOf(evidence), timestamp: null }), key);
  const json = renderReport(report, "json");

  const final = deliveryDir(dataDir, month);
  if (existsSync(final)) throw new Error(`${COMMAND}: ${final} exists already`);
  const partial = join(dataDir, "reports", `.${month}.partial`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const files: string[] = [];
  for (const format of input.formats) {
    const name = `report-${month}.${format}`;
    const content =
      format === "pdf" ? await renderPdf(report) : format === "json" ? json : renderReport(report, format);
    await writeFile(join(partial, name), content);
    files.push(name);
  }
  store.writeBundle(
    join(partial, "bundle"),
    {
      month,
      statement: evidence.statement,
      signature: key.sign(evidence.statement),
      timestamp: null,
      signSums: (bytes) => key.signBytes(bytes),
      recomputation: {
        configuration: canonicalize(effectiveConfiguration(config)) ?? "",
        maintenance: maintenanceDocument(report, feedWindows),
        classification,
        report: json,
      },
    },
    evidence.verification,
  );
  files.push("bundle");
  const delivery: MonthlyDelivery = {
    month,
    writtenAt: now,
    dir: final,
    files,
    verified: evidence.problemText === null,
    missed: report.summary.missed,
  };
  await writeFile(
    join(partial, DELIVERY_MANIFEST),
    `${JSON.stringify({ month, written_at: isoUtc(now), files, verified: delivery.verified, missed: delivery.missed }, null, 2)}\n`,
  );
  await rename(partial, final);
  return delivery;
}
