import { runCliSync } from "../support/cli.js";

export { CLI, ROOT as REPO } from "../support/cli.js";

export interface CliOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `slo-agent ARGS` in `cwd`, to completion (test/support/cli.ts). */
export function slo(args: readonly string[], cwd: string): CliOutcome {
  const { code, stdout, stderr } = runCliSync(args, { cwd });
  return { code, stdout, stderr };
}
