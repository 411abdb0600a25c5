import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const REPO = join(import.meta.dirname, "../..");
export const CLI = join(REPO, "dist/cli/main.js");

/** Builds dist/ as users get it; another engineer's work in progress may fail type checks, not emit. */
export function buildCli(): void {
  const build = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: REPO, encoding: "utf8" });
  if (!existsSync(CLI)) throw new Error(`build produced no ${CLI}:\n${build.stdout}${build.stderr}`);
}

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
