import type { Command } from "commander";
import { notAvailableYet } from "../not-yet.js";
import { withCommonOptions } from "../options.js";

export function registerCheckConfig(program: Command): void {
  withCommonOptions(program.command("check-config"))
    .description("TODO")
    .action(() => notAvailableYet("check-config"));
}
