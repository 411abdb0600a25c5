import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's own directory: package.json, slo.yaml, bundle/, scenarios/ and dist/ sit there.
 * Found by walking up from this module, because the module is not always at the same depth: under
 * src/ (tests, tsx) it is one level down, in the built agent it is inside one of dist/'s bundle
 * chunks (scripts/build.mjs), and an installed package has the same layout under node_modules/.
 */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return join(here, "..");
  }
}

export const PACKAGE_ROOT = packageRoot();

/** A path inside the package, from its root: `packagePath("bundle", "recompute.py")`. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
