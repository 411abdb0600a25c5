import type { Command } from "commander";

/** The options every command accepts (contract section 2). */
export interface CommonOptions {
  config?: string;
  dataDir?: string;
  debug?: boolean;
}

export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option("-c, --config <file>", "configuration file", "./slo.yaml")
    .option(
      "-d, --data-dir <dir>",
      "evidence store directory (default: the config's agent.data_dir, relative to the config file, else ./data)",
    )
    .option("--debug", "print stack traces on errors");
}
