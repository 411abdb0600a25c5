import { runCli } from "../support/cli.js";

export { ROOT } from "../support/cli.js";

export interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI as a user would, with only the environment given (no KLARNA_* from this machine). */
export async function checkConfig(
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Outcome> {
  const { code, stdout, stderr } = await runCli(["check-config", ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  return { code: code ?? -1, stdout, stderr };
}
