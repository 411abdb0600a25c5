/**
 * `npm run bench`: runs every bench/*.bench.ts in turn. Each prints its figures as JSON lines
 * ({"bench": "...", ...}) on stdout. Figures, not assertions: nothing here fails on timing.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const only = process.argv.slice(2);
const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

for (const file of files) {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { run?: () => Promise<void> };
  if (typeof mod.run !== "function") throw new Error(`${file} must export async function run()`);
  process.stderr.write(`# ${file}\n`);
  await mod.run();
}
