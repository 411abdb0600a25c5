import { access } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { systemClock } from "../../clock/system.js";
import type { SloConfig } from "../../model/config.js";
import { type ImportProgress, importResultFile } from "../../record/import/import.js";
import { exclusionJudgeOf, knownIdsOf, latencyOfConfig } from "../../record/import/import-config.js";
import { newStoreFiles } from "../../record/import/new-store.js";
import {
  describeWriteError,
  MissingKeyError,
  NoKeyForRecordsError,
  openEvidenceStore,
} from "../../record/index.js";
import { DEFAULT_CONFIG_FILE, loadCommandContext } from "../context.js";
import { CheckFailed, UsageError } from "../errors.js";
import { type CommonOptions, withCommonOptions } from "../options.js";

interface ImportOptions extends CommonOptions {
  skipInvalid?: boolean;
  allowUnknown?: boolean;
}

const EXAMPLES = `
Each line is one result (contract section 3):
  {"ts":"2026-10-01T00:00:30.000Z","probe":"payment-request-read","category":"payment_request","status":200,"duration_ms":123.456,"error":null,"error_code":null,"correlation_id":null}

Examples:
  $ slo-agent import october.ndjson
  $ slo-agent import --skip-invalid --data-dir /var/lib/slo-agent export.ndjson
  $ slo-agent import --allow-unknown --data-dir ./data other-tool.ndjson    no slo.yaml needed

Lines are stored in ts order whatever their order in the file; a result already stored (same
probe and ts) is left as it is, so importing a file twice stores nothing the second time. A line
with the probe and ts of another line, or of a stored record, but other content is refused,
naming both, and so is a line on a day retention pruned (that day's figures are its committed
rollups, which may already count it). Strings must be valid Unicode without control characters, duration_ms at most
86400000 (one day), ts at most 5 minutes after this import's clock (no result is made before its
request); a UTF-8 byte order mark is accepted. Each import is recorded in the evidence log (the
file's sha256, its lines, the records it stored), and reports count the records it stored as
imported, warning loudly about any between two consecutive runs the agent measured itself. A refused import stores nothing, and
leaves no evidence store behind where there was none. See docs/evidence-store.md.
Exit codes: 0 imported, 1 stored but not signed (the store does not extend its newest signed
checkpoint: rewritten, truncated or forged without the key; the reason is printed), 2 bad usage, bad configuration or invalid lines (nothing stored).`;

/** How long the import waits for the daemon's batch write before giving up on the lock. */
const IMPORT_BUSY_TIMEOUT_MS = 30_000;

export function registerImport(program: Command): void {
  withCommonOptions(program.command("import"))
    .description("store probe results from an NDJSON file in the evidence store (backfill from another tool)")
    .argument("<file>", "NDJSON file, one probe result a line")
    .option(
      "--skip-invalid",
      "store the valid lines even when some are rejected, and say how many were skipped",
    )
    .option(
      "--allow-unknown",
      "accept probe and category ids the configuration does not declare (required without a readable config)",
    )
    .addHelpText("after", EXAMPLES)
    .action(async (file: string, opts: ImportOptions) => runImport(file, opts));
}

async function runImport(file: string, opts: ImportOptions): Promise<void> {
  await readable(file, `slo-agent import: cannot read ${file}`);
  const { config, dataDir } = await importContext(opts);
  const known = opts.allowUnknown || config === null ? null : knownIdsOf(config);
  const leftover = newStoreFiles(dataDir);
  const store = openEvidenceStore({
    dataDir,
    clock: systemClock,
    busyTimeoutMs: IMPORT_BUSY_TIMEOUT_MS,
    isExcluded: config === null ? undefined : exclusionJudgeOf(config),
    latencyOf: config === null ? undefined : latencyOfConfig(config),
    // A line naming no agent is this agent's own (docs/regions-merge.md).
    identity: config === null ? null : { agent: config.agent.id, region: config.agent.region },
    signingKeyFile: config?.agent.signingKeyFile,
  });
  const bar = process.stderr.isTTY ? new ProgressBar(process.stderr) : null;
  let stored = false;
  try {
    requireSigningKey(store);
    const outcome = await importResultFile(store, file, {
      known,
      skipInvalid: opts.skipInvalid === true,
      onProgress: bar ? (p) => bar.show(p) : undefined,
    }).catch((error: unknown) => {
      // The import is one transaction: a failed write leaves the store as it was.
      throw new UsageError(`slo-agent import: nothing stored: ${describeWriteError(error)}`);
    });
    bar?.clear();
    for (const r of outcome.rejected) process.stderr.write(`${file}:${r.line}: ${r.message}\n`);
    if (!outcome.stored) {
      throw new UsageError(
        `slo-agent import: nothing stored: ${outcome.rejected.length} invalid lines (fix them, or pass --skip-invalid to store the rest)`,
      );
    }
    stored = true;
    if (outcome.rejected.length > 0)
      process.stderr.write(`skipped ${outcome.rejected.length} invalid lines\n`);
    process.stdout.write(
      `imported ${outcome.imported} results (${outcome.alreadyPresent} already present)\n`,
    );
  } finally {
    bar?.clear();
    store.close();
    if (!stored) leftover.remove();
  }
  // Stored, but the key did not sign the store (the import's transaction or, with nothing new,
  // its close): it does not extend what was signed before.
  const refusal = store.signingRefusal();
  if (refusal !== null) throw new CheckFailed(`slo-agent import: stored, but not signed: ${refusal}`);
}

/**
 * The imported records are signed by the next checkpoint: with the key the store's checkpoints
 * name gone, nothing is imported (exit 1 naming that key id) rather than records left unsigned.
 */
function requireSigningKey(store: ReturnType<typeof openEvidenceStore>): void {
  try {
    store.signingKey();
  } catch (error) {
    if (error instanceof MissingKeyError || error instanceof NoKeyForRecordsError)
      throw new CheckFailed(`slo-agent import: nothing stored: ${error.message}`);
    throw new UsageError(`slo-agent import: nothing stored: ${(error as Error).message}`);
  }
}

/** The configuration when there is one; without it, ids cannot be checked, so --allow-unknown must say so. */
async function importContext(opts: ImportOptions): Promise<{ config: SloConfig | null; dataDir: string }> {
  const configFile = opts.config ?? DEFAULT_CONFIG_FILE;
  const exists = await access(configFile).then(
    () => true,
    () => false,
  );
  if (exists) return loadCommandContext(opts, process.stderr, "offline");
  if (!opts.allowUnknown) {
    throw new UsageError(
      `slo-agent import: cannot read the configuration ${configFile}, so probe and category ids cannot be checked; pass --config FILE, or --allow-unknown to import without checking`,
    );
  }
  return { config: null, dataDir: resolve(opts.dataDir ?? "./data") };
}

async function readable(file: string, message: string): Promise<void> {
  try {
    await access(file);
  } catch (error) {
    throw new UsageError(`${message}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** A one-line bar redrawn in place on a terminal's stderr; never written into a pipe or a file. */
class ProgressBar {
  #lastDrawn = "";

  constructor(private readonly out: NodeJS.WriteStream) {}

  show({ phase, done, total }: ImportProgress): void {
    const ratio = total === 0 ? 1 : Math.min(1, done / total);
    const width = 30;
    const filled = Math.round(ratio * width);
    const line = `${phase.padEnd(7)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${Math.floor(ratio * 100)}%`;
    if (line === this.#lastDrawn) return;
    this.#lastDrawn = line;
    this.out.write(`\r${line}`);
  }

  clear(): void {
    if (this.#lastDrawn === "") return;
    this.out.write("\r\x1b[K");
    this.#lastDrawn = "";
  }
}
