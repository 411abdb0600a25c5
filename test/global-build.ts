import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * Builds dist/ once before any suite runs: the CLI suites spawn `node dist/cli/main.js`, the
 * program users run, and building per suite in parallel would race on the same files. Type errors
 * do not stop the emit (npm test type-checks separately, before this), so a suite can still run
 * while unrelated code is mid-change.
 */
export default function buildOnce(): void {
  const root = join(import.meta.dirname, "..");
  const build = spawnSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: root, encoding: "utf8" },
  );
  if (!existsSync(join(root, "dist/cli/main.js"))) {
    throw new Error(`the build produced no dist/cli/main.js:\n${build.stdout}${build.stderr}`);
  }
}
