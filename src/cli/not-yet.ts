import { UsageError } from "./errors.js";

/** The command is declared (with real --help) but its issue has not landed yet. */
export function notAvailableYet(command: string): never {
  throw new UsageError(`slo-agent ${command}: not available yet`);
}
