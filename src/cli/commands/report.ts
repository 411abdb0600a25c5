import type { Command } from "commander";
import { notAvailableYet } from "../not-yet.js";
import { withCommonOptions } from "../options.js";

export function registerReport(program: Command): void {
  withCommonOptions(program.command("report"))
    .description("TODO")
    .action(() => notAvailableYet("report"));
}
