/**
 * `npm run bench [-- --quick] [NAME...]`: runs every bench/*.bench.ts (or those whose file name
 * contains a NAME) in turn. Each prints its figures as JSON lines ({"bench": "...", ...}) on
 * stdout; at the end they are written to bench/results.md with the machine they ran on (a
 * partial run, to bench/results-partial.md: only a full run replaces the reference figures).
 * Figures, not assertions: nothing here fails on timing. compare.bench.ts reads COMPARE_PARTS
 * (cpu, idle, rss, load) and COMPARE_RATES: `COMPARE_PARTS=cpu,load npm run bench -- compare`
 * gives only issue 24's figures (overhead p99 beside blackbox_exporter, a 1 ms target under load).
 */
import { readdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { collectedFigures } from "./figures.js";
import { resultsMarkdown } from "./results-md.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.filter((a) => !a.startsWith("--"));
const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const startedAt = new Date();
const loadAtStart = loadavg()[0]!;
for (const file of files) {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as {
    run?: (options: { quick: boolean }) => Promise<void>;
  };
  if (typeof mod.run !== "function") throw new Error(`${file} must export async function run()`);
  process.stderr.write(`# ${file}\n`);
  await mod.run({ quick });
}
// Only a full run replaces the reference figures: a partial one (NAMEs, COMPARE_PARTS or
// COMPARE_RATES given, or --quick) writes bench/results-partial.md beside them.
const partial = quick || only.length > 0 || !!process.env.COMPARE_PARTS || !!process.env.COMPARE_RATES;
const out = join(dir, partial ? "results-partial.md" : "results.md");
writeFileSync(out, resultsMarkdown(collectedFigures(), startedAt, quick, loadAtStart));
process.stderr.write(`# figures written to ${out}\n`);
