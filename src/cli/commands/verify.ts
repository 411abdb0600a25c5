import type { Command } from "commander";
import { notAvailableYet } from "../not-yet.js";
import { withCommonOptions } from "../options.js";

export function registerVerify(program: Command): void {
  withCommonOptions(program.command("verify"))
    .description("TODO")
    .action(() => notAvailableYet("verify"));
}
