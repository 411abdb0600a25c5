import type { Command } from "commander";
import { notAvailableYet } from "../not-yet.js";
import { withCommonOptions } from "../options.js";

export function registerRules(program: Command): void {
  withCommonOptions(program.command("rules"))
    .description("TODO")
    .action(() => notAvailableYet("rules"));
}
