import type { Command } from "commander";
import { notAvailableYet } from "../not-yet.js";
import { withCommonOptions } from "../options.js";

export function registerRun(program: Command): void {
  withCommonOptions(program.command("run"))
    .description("TODO")
    .action(() => notAvailableYet("run"));
}
