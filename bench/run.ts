/**
 * `npm run bench [-- --quick] [--runs N] [NAME...]`: runs every bench/*.bench.ts (or those whose
 * file name contains a NAME) in turn, N times (1 by default), alternating: every bench once, then
 * every bench again, so that a minute of a busy machine falls on one run of each figure rather
 * than on all runs of one. Each prints its figures as JSON lines ({"bench": "...", ...}) on
 * stdout; at the end they are written to bench/results.md with the machine they ran on, each
 * figure the median of its N runs with their range (a partial run, to bench/results-partial.md:
 * only a full run replaces the reference figures); every run's figures are kept beside it
 * (results-runs.json), and `npm run bench -- --render` writes results.md again from them (after
 * bench/bounds.md changed, say). Figures, not assertions: nothing here fails on
 * timing. compare.bench.ts reads COMPARE_PARTS (cpu, idle, rss, soak, load, start) and
 * COMPARE_RATES: `COMPARE_PARTS=cpu,load npm run bench -- compare` gives only issue 24's figures
 * (overhead p99 beside blackbox_exporter, a 1 ms target under load).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { collectedFigures, type Figures, medianOfRuns } from "./figures.js";
import { resultsMarkdown, thisMachine } from "./results-md.js";

const args = process.argv.slice(2);
const dir = import.meta.dirname;
/** Every run's figures as they came, beside the file they were written to: `--render` reads it. */
const RUNS_FILE = (out: string) => out.replace(/\.md$/, "-runs.json");

interface SavedRuns {
  readonly startedAt: string;
  readonly quick: boolean;
  readonly loads: number[];
  readonly runs: Figures[][];
  /** thisMachine() where the runs were taken; absent in files saved before it was kept. */
  readonly machine?: string;
}

// `--render`: bench/results.md written again from the runs saved beside it (bench/bounds.md is
// copied in when it is written), without measuring anything.
if (args.includes("--render")) {
  const out = join(dir, "results.md");
  const saved = JSON.parse(readFileSync(RUNS_FILE(out), "utf8")) as SavedRuns;
  const info = {
    startedAt: new Date(saved.startedAt),
    quick: saved.quick,
    runs: saved.runs.length,
    loads: saved.loads,
    machine: saved.machine ?? "not recorded with these runs",
  };
  writeFileSync(out, resultsMarkdown(medianOfRuns(saved.runs), info));
  process.stderr.write(`# ${out} written again from ${RUNS_FILE(out)}\n`);
  process.exit(0);
}

const quick = args.includes("--quick");
const runsAt = args.indexOf("--runs");
const runs = runsAt === -1 ? 1 : Number(args[runsAt + 1]);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs takes a whole number of runs, 1 or more`);
const only = args.filter((a, i) => !a.startsWith("--") && !(runsAt !== -1 && i === runsAt + 1));
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const startedAt = new Date();
const loads: number[] = [loadavg()[0]!];
const perRun: Figures[][] = [];
for (let r = 1; r <= runs; r++) {
  const from = collectedFigures().length;
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as {
      run?: (options: { quick: boolean }) => Promise<void>;
    };
    if (typeof mod.run !== "function") throw new Error(`${file} must export async function run()`);
    const t = performance.now();
    process.stderr.write(`# run ${r} of ${runs}: ${file} (load average ${loadavg()[0]!.toFixed(1)})\n`);
    await mod.run({ quick });
    process.stderr.write(`# ${file}: ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  }
  loads.push(loadavg()[0]!);
  perRun.push(collectedFigures().slice(from));
}
// Only a full run replaces the reference figures: a partial one (NAMEs, COMPARE_PARTS or
// COMPARE_RATES given, or --quick) writes bench/results-partial.md beside them.
const partial = quick || only.length > 0 || !!process.env.COMPARE_PARTS || !!process.env.COMPARE_RATES;
const out = join(dir, partial ? "results-partial.md" : "results.md");
const machine = thisMachine();
writeFileSync(out, resultsMarkdown(medianOfRuns(perRun), { startedAt, quick, runs, loads, machine }));
const saved: SavedRuns = { startedAt: startedAt.toISOString(), quick, loads, machine, runs: perRun };
writeFileSync(RUNS_FILE(out), `${JSON.stringify(saved)}\n`);
process.stderr.write(`# figures written to ${out}\n`);
