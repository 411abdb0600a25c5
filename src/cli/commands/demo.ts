import type { Command } from "commander";
import { notAvailableYet } from "../not-yet.js";
import { withCommonOptions } from "../options.js";

export function registerDemo(program: Command): void {
  withCommonOptions(program.command("demo"))
    .description("TODO")
    .action(() => notAvailableYet("demo"));
}
