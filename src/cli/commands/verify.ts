import { access } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { monthInterval } from "../../model/time.js";
import {
  type BundleOutcome,
  BundleUnreadable,
  describeProblem,
  verifyBundle,
  verifyEvidence,
} from "../../record/index.js";
import {
  bundledReportProblem,
  type ReportFileCheck,
  ReportUnreadable,
  verifyReportFile,
} from "../../reports/index.js";
import { DEFAULT_CONFIG_FILE, loadCommandContext } from "../context.js";
import { CheckFailed, UsageError } from "../errors.js";
import { pinnedCas } from "../evidence-timestamp.js";
import { type CommonOptions, withCommonOptions } from "../options.js";

interface VerifyOptions extends CommonOptions {
  month?: string;
  bundle?: string;
  report?: string;
  keyId?: string;
  tsaCa?: string;
  /** --config was given on the command line (it always has a value: the default ./slo.yaml). */
  configGiven?: boolean;
}

const EXAMPLES = `
Examples:
  $ slo-agent verify --data-dir /var/lib/slo-agent
  ok: 1123200 records verified, head 3f1c...
  $ slo-agent verify --month 2026-10        the head printed is the report's evidence.sha256
  altered: record seq 48213 (probe settlements-list, ts 2026-10-14T08:00:30.000Z): its content does not match its hash
  $ slo-agent verify --bundle evidence-2026-10
  altered: records.ndjson:1234: seq 48213: its content does not match its hash
  $ slo-agent verify --bundle evidence-2026-10 --key-id 59ca6f1d1d1465d1 --tsa-ca tsa.pem
  ok: 744 records verified, digest 5be1..., signed by key 59ca6f1d1d1465d1, committed by the signed checkpoint at seq 793, ...
  $ slo-agent verify --report report-2026-10.json
  ok: report signed whole by key 59ca6f1d1d1465d1, digest 5be1...

verify also checks every signed checkpoint against the agent's key (in the data directory, or
agent.signing_key_file) and the chain of checkpoints: deleted newest records, forged chain
anchors, and older checkpoints a rewrite was signed over fail. It prints the key ids the
checkpoints are signed by: compare them with the one you published.

--report checks a JSON report's report_signature: its key id must be the one derived from the
public key in evidence.signature, and the signature must hold over the report's RFC 8785 form
without report_signature, so a changed figure, credit or word fails. Compare the key id printed
with the one the merchant published, or pin it with --key-id HEX (exit 1 for any other key):
whoever holds a key can sign anything.

--bundle also needs SHA256SUMS signed by the bundle's key (SHA256SUMS.sig) and naming every file
in the directory, and maintenance.json's window verdicts equal to the signed report's. A flag that
does not apply (--month with --bundle, --tsa-ca with --report, --config or --data-dir with either)
is bad usage, exit 2.

Exit codes: 0 the chain (bundle, report) verifies, 1 a record was altered, is missing or was
moved, or the report was changed after it was signed, 2 bad usage, no evidence store in the data
directory, or a bundle or report that cannot be read.`;

export function registerVerify(program: Command): void {
  withCommonOptions(program.command("verify"))
    .description(
      "re-check the evidence store's hash chain; exit 1 naming the first altered, missing or moved record",
    )
    .option("-m, --month <YYYY-MM>", "check only the records of this UTC month; prints the month's digest")
    .option("--bundle <dir>", "check an evidence bundle (slo-agent evidence export) instead of a store")
    .option("--report <file>", "check a JSON report's signature (report_signature) instead of a store")
    .option(
      "--key-id <hex>",
      "with --bundle or --report: fail unless it is signed by this key (16 hex digits)",
    )
    .option(
      "--tsa-ca <file>",
      "with --bundle: the TSA's CA certificate(s) (PEM); statement.tsr must chain to one (from the TSA, never the bundle)",
    )
    .addHelpText("after", EXAMPLES)
    .action(async (opts: VerifyOptions, cmd: Command) =>
      runVerify({ ...opts, configGiven: cmd.getOptionValueSource("config") === "cli" }),
    );
}

/**
 * A flag given where it does not apply is bad usage (exit 2), never silently ignored: a reader who
 * pins a key id or a TSA must get a check, or an error saying there is none.
 */
function misplacedFlag(opts: VerifyOptions): string | null {
  const storeFlags = opts.dataDir !== undefined || opts.configGiven === true;
  if (opts.report !== undefined) {
    if (opts.bundle !== undefined || opts.month !== undefined)
      return "--report checks one report file; it does not go with --bundle or --month";
    if (opts.tsaCa !== undefined)
      return "--tsa-ca goes with --bundle (a report file carries no statement.tsr)";
    if (storeFlags) return "--report reads no store: --config and --data-dir do not apply";
    return null;
  }
  if (opts.bundle !== undefined) {
    if (opts.month !== undefined) return "--bundle holds one month already: --month does not apply";
    if (storeFlags) return "--bundle reads no store: --config and --data-dir do not apply";
    return null;
  }
  if (opts.keyId !== undefined) return "--key-id goes with --bundle or --report";
  if (opts.tsaCa !== undefined) return "--tsa-ca goes with --bundle";
  return null;
}

function checkedKeyId(keyId: string | undefined): string | undefined {
  if (keyId !== undefined && !/^[0-9a-fA-F]{16}$/.test(keyId))
    throw new UsageError("slo-agent verify --key-id: 16 hex digits (the key id a report or bundle names)");
  return keyId?.toLowerCase();
}

async function runVerify(opts: VerifyOptions): Promise<void> {
  const misplaced = misplacedFlag(opts);
  if (misplaced !== null) throw new UsageError(`slo-agent verify: ${misplaced}`);
  if (opts.report !== undefined) return runVerifyReport(opts.report, checkedKeyId(opts.keyId));
  if (opts.bundle !== undefined) return runVerifyBundle(opts.bundle, checkedKeyId(opts.keyId), opts.tsaCa);
  if (opts.month !== undefined) {
    try {
      monthInterval(opts.month);
    } catch (error) {
      throw new UsageError(`slo-agent verify: --month: ${(error as Error).message}`);
    }
  }
  const { dataDir, signingKeyFile } = await storeOf(opts);
  let outcome: ReturnType<typeof verifyEvidence>;
  try {
    outcome = verifyEvidence(dataDir, { month: opts.month, signingKeyFile });
  } catch (error) {
    throw new UsageError(`slo-agent verify: ${(error as Error).message}`);
  }
  if (!outcome.ok) throw new CheckFailed(describeProblem(outcome.problem));
  process.stdout.write(`ok: ${outcome.records} records verified, head ${outcome.sha256}\n`);
  // Only a key id pinned against the published one catches a store re-signed by a new key.
  if (outcome.keyIds && outcome.keyIds.length > 0)
    process.stdout.write(`checkpoints signed by key ${outcome.keyIds.join(", then key ")}\n`);
  for (const rollback of outcome.adoptedRollbacks ?? [])
    process.stderr.write(`slo-agent verify: warning: ${rollback}\n`);
}

/** Exit 0 intact, 1 altered (naming the first bad file and line), 2 unreadable (contract section 7). */
async function runVerifyBundle(
  dir: string,
  keyId: string | undefined,
  tsaCa: string | undefined,
): Promise<void> {
  const tsaCas = tsaCa === undefined ? undefined : pinnedCas("slo-agent verify --tsa-ca", tsaCa);
  let outcome: BundleOutcome;
  let reportProblem: { where: string; detail: string } | null = null;
  try {
    outcome = await verifyBundle(dir, { keyId, tsaCas });
    if (outcome.ok) reportProblem = bundledReportProblem(dir, outcome.keyId);
  } catch (error) {
    if (error instanceof BundleUnreadable)
      throw new UsageError(`slo-agent verify --bundle: ${error.message}`);
    throw error;
  }
  if (!outcome.ok) throw new CheckFailed(`altered: ${outcome.where}: ${outcome.detail}`);
  if (reportProblem) throw new CheckFailed(`altered: ${reportProblem.where}: ${reportProblem.detail}`);
  const tsa = outcome.timestamp;
  const stamped =
    tsa === null
      ? ""
      : `, timestamped by ${tsa.subject} (${tsa.chained ? "chains to the pinned TSA CA" : "TSA CA not pinned: --tsa-ca FILE checks who the TSA is"})`;
  const head =
    outcome.headSeq === null ? "" : `, committed by the signed checkpoint at seq ${outcome.headSeq}`;
  const configured =
    outcome.configSeq === null ? "" : `, configuration is input record seq ${outcome.configSeq}`;
  process.stdout.write(
    `ok: ${outcome.records} records verified, digest ${outcome.sha256}, signed by key ${outcome.keyId}${head}${configured}${stamped}\n`,
  );
  for (const adoption of outcome.adoptions)
    process.stderr.write(`slo-agent verify --bundle: warning: ${adoption}\n`);
  if (outcome.configWarning !== null)
    process.stderr.write(`slo-agent verify --bundle: warning: ${outcome.configWarning}\n`);
}

/** Exit 0 intact, 1 altered (what: the signature or the key id), 2 unreadable (contract section 13). */
async function runVerifyReport(file: string, keyId: string | undefined): Promise<void> {
  let check: ReportFileCheck;
  try {
    check = await verifyReportFile(file);
  } catch (error) {
    if (error instanceof ReportUnreadable)
      throw new UsageError(`slo-agent verify --report: ${error.message}`);
    throw error;
  }
  if (!check.ok) throw new CheckFailed(`altered: ${check.problem}`);
  if (keyId !== undefined && check.keyId !== keyId)
    throw new CheckFailed(`altered: ${file}: signed by key ${check.keyId}, not the expected key ${keyId}`);
  process.stdout.write(`ok: report signed whole by key ${check.keyId}, digest ${check.digest}\n`);
  if (check.unverified !== null)
    process.stdout.write(
      `UNVERIFIED: the signature is intact, but the report says its evidence did NOT verify (${check.unverified}): its figures prove nothing\n`,
    );
}

/** --data-dir needs no configuration; otherwise the config's agent.data_dir, else ./data (contract section 2). */
async function storeOf(opts: VerifyOptions): Promise<{ dataDir: string; signingKeyFile: string | null }> {
  const configFile = opts.config ?? DEFAULT_CONFIG_FILE;
  const exists = await access(configFile).then(
    () => true,
    () => false,
  );
  // --data-dir alone needs no configuration: a slo.yaml that happens to be in the working
  // directory is not read (its warnings are not about the evidence).
  if (opts.dataDir !== undefined && !opts.configGiven) {
    return { dataDir: resolve(opts.dataDir), signingKeyFile: null };
  }
  if (!exists) return { dataDir: resolve(opts.dataDir ?? "./data"), signingKeyFile: null };
  const { config, dataDir } = await loadCommandContext(opts, process.stderr, "offline");
  return { dataDir, signingKeyFile: config.agent.signingKeyFile ?? null };
}
