import { resolve } from "node:path";
import { formatWarning, loadConfig } from "../config/index.js";
import type { ConfigProblem } from "../config/problems.js";
import type { SloConfig } from "../model/config.js";
import type { CommonOptions } from "./options.js";

export interface CommandContext {
  readonly config: SloConfig;
  readonly warnings: readonly ConfigProblem[];
  /** Absolute path of the evidence store. */
  readonly dataDir: string;
}

/**
 * "offline": the command never probes nor delivers (report, verify, evidence, import, rules,
 * dashboards), so values only `run` uses -- credentials, tokens, receivers' secrets -- may be unset.
 */
export type CommandUse = "probing" | "offline";

export const DEFAULT_CONFIG_FILE = "./slo.yaml";

/**
 * What every command starts from (contract section 2): the configuration from --config
 * (./slo.yaml by default) and the data directory from --data-dir, else the config's
 * agent.data_dir, else ./data. Warnings go to stderr; problems are thrown as a ConfigError.
 */
export async function loadCommandContext(
  opts: CommonOptions,
  stderr: NodeJS.WritableStream = process.stderr,
  use: CommandUse = "probing",
): Promise<CommandContext> {
  const { config, warnings } = await loadConfig(opts.config ?? DEFAULT_CONFIG_FILE, {
    probing: use === "probing",
  });
  for (const warning of warnings) stderr.write(`${formatWarning(warning)}\n`);
  // The loader already resolved agent.data_dir against the config file (or ./data when absent).
  const dataDir = opts.dataDir === undefined ? config.agent.dataDir : resolve(opts.dataDir);
  return { config, warnings, dataDir };
}
