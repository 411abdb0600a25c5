import type { Command } from "commander";
import { notAvailableYet } from "../not-yet.js";
import { withCommonOptions } from "../options.js";

export function registerImport(program: Command): void {
  withCommonOptions(program.command("import"))
    .description("TODO")
    .action(() => notAvailableYet("import"));
}
