import { access } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { monthInterval } from "../../model/time.js";
import { describeProblem, verifyEvidence } from "../../record/index.js";
import { DEFAULT_CONFIG_FILE, loadCommandContext } from "../context.js";
import { CheckFailed, UsageError } from "../errors.js";
import { type CommonOptions, withCommonOptions } from "../options.js";

interface VerifyOptions extends CommonOptions {
  month?: string;
}

const EXAMPLES = `
Examples:
  $ slo-agent verify --data-dir /var/lib/slo-agent
  ok: 1123200 records verified, head 3f1c...
  $ slo-agent verify --month 2026-10        the head printed is the report's evidence.sha256
  altered: record seq 48213 (probe settlements-list, ts 2026-10-14T08:00:30.000Z): its content does not match its hash

Exit codes: 0 the chain verifies, 1 a record was altered, is missing or was moved, 2 bad usage
or no evidence store in the data directory.`;

export function registerVerify(program: Command): void {
  withCommonOptions(program.command("verify"))
    .description(
      "re-check the evidence store's hash chain; exit 1 naming the first altered, missing or moved record",
    )
    .option("-m, --month <YYYY-MM>", "check only the records of this UTC month; prints the month's digest")
    .addHelpText("after", EXAMPLES)
    .action(async (opts: VerifyOptions) => runVerify(opts));
}

async function runVerify(opts: VerifyOptions): Promise<void> {
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
}

/** --data-dir needs no configuration; otherwise the config's agent.data_dir, else ./data (contract section 2). */
async function storeOf(opts: VerifyOptions): Promise<{ dataDir: string; signingKeyFile: string | null }> {
  const configFile = opts.config ?? DEFAULT_CONFIG_FILE;
  const exists = await access(configFile).then(
    () => true,
    () => false,
  );
  if (opts.dataDir !== undefined && opts.config === undefined) {
    return { dataDir: resolve(opts.dataDir), signingKeyFile: null };
  }
  if (!exists) return { dataDir: resolve(opts.dataDir ?? "./data"), signingKeyFile: null };
  const { config, dataDir } = await loadCommandContext(opts);
  return { dataDir, signingKeyFile: config.agent.signingKeyFile ?? null };
}
