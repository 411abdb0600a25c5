import type { Command } from "commander";
import type { Clock } from "../../clock/clock.js";
import { systemClock } from "../../clock/system.js";
import { monthInterval } from "../../model/time.js";
import { openEvidenceStore } from "../../record/index.js";
import { loadCommandContext } from "../context.js";
import { CheckFailed, UsageError } from "../errors.js";
import { monthEvidence } from "../evidence-seal.js";
import { timestampStatement } from "../evidence-timestamp.js";
import { type CommonOptions, withCommonOptions } from "../options.js";

interface ExportOptions extends CommonOptions {
  month?: string;
  out?: string;
  allowUnverified?: boolean;
}

const EXAMPLES = `
Examples:
  $ slo-agent evidence export --month 2026-10 --out evidence-2026-10
  wrote evidence-2026-10: 1123202 records, statement signed by key 59ca6f1d1d1465d1
  $ slo-agent verify --bundle evidence-2026-10

The bundle holds the month's records as NDJSON (with seq, prev_hash and hash), the records on
both sides, the signed statement, the public key, SHA256SUMS and a README that shows how to
check it with sha256sum, openssl and a few lines of Python. With agent.tsa_url set, the statement
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
    .addHelpText("after", EXAMPLES)
    .action((opts: ExportOptions) => runExport(opts, clock));
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
  const { config, dataDir } = await loadCommandContext(opts);
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
    const evidence = monthEvidence({
      command,
      store,
      config,
      dataDir,
      month,
      now: clock.now(),
      signatureRequired: true,
    });
    if (evidence.problemText !== null && !opts.allowUnverified) {
      throw new CheckFailed(`${command}: the evidence for ${month} did not verify: ${evidence.problemText}`);
    }
    const signature = evidence.key!.sign(evidence.statement);
    const timestamp = config.agent.tsaUrl
      ? await timestampStatement(command, config.agent.tsaUrl, evidence.statement)
      : null;
    let lines: number;
    try {
      lines = store.writeBundle(
        opts.out,
        { month, statement: evidence.statement, signature, timestamp },
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
