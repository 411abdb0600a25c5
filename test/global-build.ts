import { execFileSync } from "node:child_process";
import { join } from "node:path";

/**
 * Builds dist/ once before any suite runs: the CLI suites spawn `node dist/cli/main.js`, the
 * program users run, and building per suite in parallel would race on the same files.
 */
export default function buildOnce(): void {
  const root = join(import.meta.dirname, "..");
  execFileSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
}
