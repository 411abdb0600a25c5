import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";

export const REPO = join(import.meta.dirname, "../..");
/**
 * The CLI exactly as `npm run build` makes it, but in a directory of this run's own: other suites
 * rebuild dist/ while these tests run, and a half-written module there fails a run at random.
 * It sits in the repository (git-ignored) so that node_modules and package.json resolve as in dist/.
 */
const OUT_DIR = join(REPO, `.vitest-reports-dist-${process.pid}`);
export const CLI = join(OUT_DIR, "cli/main.js");

/** Builds with tsconfig.build.json; another engineer's work in progress may fail type checks, not emit. */
export function buildCli(): void {
  const build = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", OUT_DIR], {
    cwd: REPO,
    encoding: "utf8",
  });
  if (!existsSync(CLI)) throw new Error(`build produced no ${CLI}:\n${build.stdout}${build.stderr}`);
}

export function removeCli(): void {
  rmSync(OUT_DIR, { recursive: true, force: true });
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
