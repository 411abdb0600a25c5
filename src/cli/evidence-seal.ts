import * as core from "../reports/month-evidence.js";
import { UsageError } from "./errors.js";

export { type MonthEvidence, sealOf } from "../reports/month-evidence.js";

/** The command line's form: a warning goes to stderr, a key that cannot be had is bad usage (exit 2). */
export type SealInput = Omit<core.SealInput, "warn">;

const warn = (line: string) => process.stderr.write(`${line}\n`);

function usage<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof core.AgentKeyError) throw new UsageError(error.message);
    throw error;
  }
}

/** Verifies the month's records in the store and signs the statement about them. */
export function monthEvidence(input: SealInput): core.MonthEvidence {
  return usage(() => core.monthEvidence({ ...input, warn }));
}
