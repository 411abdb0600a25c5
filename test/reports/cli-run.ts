import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const REPO = join(import.meta.dirname, "../..");
/** The CLI as `npm run build` makes it; test/global-build.ts builds it once before every suite. */
export const CLI = join(REPO, "dist/cli/main.js");

export interface CliOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function slo(args: readonly string[], cwd: string): CliOutcome {
  const run = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}
