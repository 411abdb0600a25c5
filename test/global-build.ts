import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const MAIN = join(root, "dist/cli/main.js");

/** The newest modification time of the build's inputs: src/ and the build script. */
function newestInput(): number {
  const inputs = [join(root, "tsconfig.json"), join(root, "scripts/build.mjs"), join(root, "package.json")];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else inputs.push(path);
    }
  };
  walk(join(root, "src"));
  return Math.max(...inputs.map((file) => statSync(file).mtimeMs));
}

/**
 * Builds dist/ once before the system suites run: they spawn `node dist/cli/main.js`, the program
 * users run, and building per suite in parallel would race on the same files. It is the build of
 * `npm test` too, and builds only when dist/ is missing or older than a source file: after `npm ci`
 * (whose `prepare` has just built it, as on CI's fresh clone) it costs nothing, after an edit it
 * builds once. The build (scripts/build.mjs, esbuild) does not type-check (npm test type-checks
 * separately, before this), so a suite can still run while unrelated code is mid-change.
 */
export default function buildOnce(): void {
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestInput()) return;
  const build = spawnSync(process.execPath, [join(root, "scripts/build.mjs")], {
    cwd: root,
    encoding: "utf8",
  });
  if (!existsSync(MAIN)) {
    throw new Error(`the build produced no dist/cli/main.js:\n${build.stdout}${build.stderr}`);
  }
}
