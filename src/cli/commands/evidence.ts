import canonicalize from "canonicalize";
import type { Command } from "commander";
import type { Clock } from "../../clock/clock.js";
import { systemClock } from "../../clock/system.js";
import { effectiveConfiguration } from "../../config/fingerprint.js";
import { monthInterval } from "../../model/time.js";
import { openEvidenceStore } from "../../record/index.js";
import { sealReport } from "../../reports/evidence.js";
import { buildMonthlyReport, type MonthlyReport, renderReport, signReport } from "../../reports/index.js";
import { maintenanceDocument, verdictLine } from "../../reports/verdicts.js";
import { withFeedWindows } from "../../slo/index.js";
import { loadCommandContext } from "../context.js";
import { CheckFailed, UsageError } from "../errors.js";
import { existingReport } from "../evidence-report.js";
import { monthEvidence, sealOf } from "../evidence-seal.js";
import { timestampStatement } from "../evidence-timestamp.js";
import { type CommonOptions, withCommonOptions } from "../options.js";
import { registerAdopt } from "./evidence-adopt.js";

interface ExportOptions extends CommonOptions {
  month?: string;
  out?: string;
  allowUnverified?: boolean;
  report?: string;
}

const EXAMPLES = `
Examples:
  $ slo-agent evidence export --month 2026-10 --out evidence-2026-10
  wrote evidence-2026-10: 1123202 records, statement signed by key 59ca6f1d1d1465d1
  $ slo-agent verify --bundle evidence-2026-10
  $ slo-agent evidence export --month 2026-10 --out evidence-2026-10 --report report-2026-10.json

The bundle holds the month's records as NDJSON (with seq, prev_hash and hash), the record before
them and every record after them up to the head of the newest signed checkpoint (checkpoint.json),
the input chain that checkpoint commits (inputs.ndjson), the signed statement, the public key, SHA256SUMS and a README that shows how to
check it with sha256sum, openssl and a few lines of Python. It also holds what the figures were
computed from: the configuration (secrets removed; its SHA-256 is config_sha256), the
maintenance feed's windows, each record's verdict (counted, or excluded and by which window,
exclusion, control failure or agent error), the signed JSON report, and recompute.py, which
recomputes every figure from the bundle alone with Python 3 (python3 recompute.py). With agent.tsa_url set, the statement
is also timestamped by that RFC 3161 TSA (statement.tsr); a TSA that fails is one warning line.

Exit codes: 0 written, 1 the month's evidence does not verify (unless --allow-unverified),
2 bad usage, bad configuration, no evidence store, or --out exists and is not empty.`;

export function registerEvidence(program: Command, clock: Clock = systemClock): void {
  const evidence = program
    .command("evidence")
    .description("evidence bundles a provider can check without slo-agent");
  withCommonOptions(evidence.command("export"))
    .description("write a month's self-contained evidence bundle (records, signed statement, README)")
    .option("-m, --month <YYYY-MM>", "the UTC calendar month (required)")
    .option("-o, --out <dir>", "the bundle directory to create (must be empty or absent; required)")
    .option("--allow-unverified", "export even if the month does not verify (the statement says UNVERIFIED)")
    .option(
      "--report <file.json>",
      "put this signed JSON report of the month in the bundle (checked first) instead of a new one: the digest a claim letter shows is then the bundle's",
    )
    .addHelpText("after", EXAMPLES)
    .action((opts: ExportOptions) => runExport(opts, clock));
  registerAdopt(evidence, clock);
  evidence.exitOverride();
}

async function runExport(opts: ExportOptions, clock: Clock): Promise<void> {
  const command = "slo-agent evidence export";
  if (opts.month === undefined) throw new UsageError(`${command}: --month YYYY-MM is required`);
  if (opts.out === undefined) throw new UsageError(`${command}: --out DIR is required`);
  try {
    monthInterval(opts.month);
  } catch (error) {
    throw new UsageError(`${command}: --month: ${(error as Error).message}`);
  }
  const { config, dataDir } = await loadCommandContext(opts, process.stderr, "offline");
  let store: ReturnType<typeof openEvidenceStore>;
  try {
    store = openEvidenceStore({
      dataDir,
      clock,
      readOnly: true,
      signingKeyFile: config.agent.signingKeyFile,
    });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
  try {
    const month = opts.month;
    const feedWindows = store.feedWindows.all();
    // One instant: a declared window's change no configuration record holds is first seen now.
    const now = clock.now();
    const declared = { ...store.declaredWindowVersions(), now, month };
    // The report's own pass over the verified records decides each record's verdict.
    const classification: string[] = [];
    let built = undefined as MonthlyReport | undefined;
    const evidence = monthEvidence({
      command,
      store,
      config,
      dataDir,
      month,
      now,
      signatureRequired: true,
      readAlong: (verified) => {
        built = buildMonthlyReport({
          config: withFeedWindows(config, feedWindows, declared),
          store,
          month,
          now,
          agent: config.agent.id,
          verified,
          classify: (result, verdict) => classification.push(verdictLine(result, verdict)),
        });
      },
    });
    if (evidence.problemText !== null && !opts.allowUnverified) {
      throw new CheckFailed(`${command}: the evidence for ${month} did not verify: ${evidence.problemText}`);
    }
    if (built === undefined) throw new Error(`${command}: the verification did not read the month`);
    const key = evidence.key!;
    const given =
      opts.report === undefined ? null : existingReport(command, opts.report, evidence.statement, key.keyId);
    // With --report, the bundle carries the report's own statement, signature and timestamp (the
    // same generated_at): the merchant sent that statement, and the records tie to it unchanged.
    const statement = given?.report.evidence.statement ?? evidence.statement;
    const signature = given?.report.evidence.signature ?? key.sign(statement);
    const timestamp = given
      ? (given.report.evidence.timestamp ?? null)
      : await timestampStatement(command, config.agent, statement);
    const report = given?.report ?? signReport(sealReport(built, { ...sealOf(evidence), timestamp }), key);
    const recomputation = {
      // The configuration record of the log that config_sha256 names (the same bytes); the loaded
      // file's only when the log holds none (a store filled by `import`), warned above otherwise.
      configuration: evidence.recordedConfiguration ?? canonicalize(effectiveConfiguration(config)) ?? "",
      maintenance: maintenanceDocument(report, feedWindows),
      classification,
      report: given?.text ?? renderReport(report, "json"),
    };
    let lines: number;
    try {
      lines = store.writeBundle(
        opts.out,
        { month, statement, signature, timestamp, recomputation, signSums: (bytes) => key.signBytes(bytes) },
        evidence.verification,
      );
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new UsageError(`${command}: cannot write the bundle (${reason})`);
    }
    process.stdout.write(
      `wrote ${opts.out}: ${lines} records, statement signed by key ${signature.key_id}${timestamp ? `, timestamped by ${timestamp.tsa_url} at ${timestamp.gen_time}` : ""}\n`,
    );
  } finally {
    store.close();
  }
}
