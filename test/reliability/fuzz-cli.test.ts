import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { configSummary } from "../../src/cli/commands/check-config.js";
import { systemClock } from "../../src/clock/system.js";
import { ConfigError, formatProblem, formatWarning, loadConfig } from "../../src/config/index.js";
import { importResultFile } from "../../src/record/import/import.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { FUZZ_ENV, LOCATED_LINE, pickFile, shippedCorpus } from "./fuzz-corpus.js";
import { createRng, INSERTIONS, mutate } from "./mutate.js";
import { NDJSON_LINES } from "./ndjson-lines.js";
import { type CliOutcome, runCli } from "./support.js";

/**
 * Fuzzing through the real CLI processes, for the exit codes and the shape of stderr: mutated
 * configurations through `check-config`, mutated NDJSON files through `import`. Each process costs
 * about a CPU-second on this box, so these are a sample; the thousands run in-process
 * (fuzz-config.test.ts, fuzz-ndjson.test.ts). Of each sequence every THROUGH_CLI-th mutation starts
 * the real CLI; the others go through the functions the command calls (loadConfig,
 * importResultFile into a real store), their outcome mapped as the command maps it, and are judged
 * alike.
 */
const SEED = 0x12b0c11;
const CONFIG_CASES = 60;
const IMPORT_CASES = 60;
const LANES = 2;
const THROUGH_CLI = 3;
/**
 * Wall time after which no new process is started: on a box shared with other suites a process
 * can take several seconds. The jobs run in seed order, so a shorter run is a prefix of the same
 * sequence; each test prints how many ran, and at least MIN_PROCESSES must.
 */
const BUDGET_MS = 60_000;
const MIN_PROCESSES = 10;

const workDir = mkdtempSync(join(tmpdir(), "slo-fuzz-cli-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** What is wrong with a process outcome beyond `judgeCode`, common to every command. */
function commonProblems(out: CliOutcome): string | null {
  if (out.hung) return "hung (killed at the deadline)";
  if (/^\s+at /m.test(out.stderr)) return `stack trace on stderr: ${out.stderr.slice(0, 400)}`;
  if (out.code !== 0 && out.code !== 2) return `exit ${out.code}: ${out.stderr.slice(0, 400)}`;
  return null;
}

/** Runs the jobs on LANES lanes until they are done or BUDGET_MS has passed; returns how many ran. */
async function inLanes<T>(jobs: readonly T[], run: (job: T, lane: number) => Promise<void>): Promise<number> {
  const until = Date.now() + BUDGET_MS;
  let ran = 0;
  await Promise.all(
    Array.from({ length: LANES }, async (_, lane) => {
      for (let i = lane; i < jobs.length && Date.now() < until; i += LANES) {
        await run(jobs[i]!, lane);
        ran++;
      }
    }),
  );
  return ran;
}

describe("fuzzing through the CLI", () => {
  it(`${CONFIG_CASES} mutated configurations: check-config exits 0, or 2 with located lines only`, {
    timeout: 280_000,
  }, async () => {
    const seed = SEED;
    const rng = createRng(seed);
    const corpora = Array.from({ length: LANES }, (_, k) => shippedCorpus(join(workDir, `config-${k}`)));
    const jobs = Array.from({ length: CONFIG_CASES }, (_, i) => {
      const file = pickFile(corpora[0]!, rng.next);
      return { i, file, m: mutate(rng, corpora[0]!.files.get(file)!, INSERTIONS) };
    });
    const failures: string[] = [];
    const codes: Record<string, number> = {};
    const ran = await inLanes(jobs, async ({ i, file, m }, lane) => {
      const corpus = corpora[lane]!;
      writeFileSync(join(corpus.dir, file), m.bytes);
      const out =
        i % THROUGH_CLI === 0
          ? await runCli(["check-config", "--config", "slo.yaml"], {
              cwd: corpus.dir,
              env: { PATH: process.env.PATH ?? "", ...FUZZ_ENV },
              timeoutMs: 60_000,
            })
          : await checkConfigInProcess(corpus.dir);
      writeFileSync(join(corpus.dir, file), corpus.files.get(file)!);
      codes[String(out.code)] = (codes[String(out.code)] ?? 0) + 1;
      const lines = out.stderr.split("\n").filter((l) => l !== "");
      const where = `#${i} ${file} [${m.steps.join("; ")}]`;
      const wrong =
        commonProblems(out) ??
        (out.code === 0 && !/: ok: /.test(out.stdout) ? `exit 0 without "ok": ${out.stdout}` : null) ??
        (out.code === 2 && lines.length === 0 ? "exit 2 with nothing on stderr" : null) ??
        (out.code === 2 && lines.some((l) => !LOCATED_LINE.test(l))
          ? `unlocated line: ${lines.find((l) => !LOCATED_LINE.test(l))}`
          : null);
      if (wrong) failures.push(`${where}: ${wrong}`);
    });
    expect(failures.slice(0, 10), `seed ${seed}: the same seed reproduces these`).toEqual([]);
    expect(ran).toBeGreaterThanOrEqual(MIN_PROCESSES);
    expect(Object.keys(codes).sort()).toEqual(["0", "2"]);
    console.log(
      `check-config fuzz (seed ${seed}): ${ran} of ${CONFIG_CASES} cases (every ${THROUGH_CLI}rd through the CLI), exit codes ${JSON.stringify(codes)}`,
    );
  });

  it(`${IMPORT_CASES} mutated NDJSON files: import exits 0, or 2 naming the lines and storing nothing`, {
    timeout: 280_000,
  }, async () => {
    const seed = SEED + 1;
    const rng = createRng(seed);
    const original = Buffer.from(`${NDJSON_LINES.join("\n")}\n`);
    const failures: string[] = [];
    const codes: Record<string, number> = {};
    const jobs = Array.from({ length: IMPORT_CASES }, (_, i) => ({
      i,
      m: mutate(rng, original, INSERTIONS),
    }));
    const ran = await inLanes(jobs, async ({ i, m }) => {
      const dir = join(workDir, `import-${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, "results.ndjson"), m.bytes);
      const out =
        i % THROUGH_CLI === 0
          ? await runCli(["import", "results.ndjson", "--allow-unknown", "--data-dir", "data"], {
              cwd: dir,
              timeoutMs: 60_000,
            })
          : await importInProcess(dir);
      codes[String(out.code)] = (codes[String(out.code)] ?? 0) + 1;
      const lines = out.stderr.split("\n").filter((l) => l !== "");
      const where = `#${i} [${m.steps.join("; ")}]`;
      const stored = storedResults(join(dir, "data"));
      const wrong =
        commonProblems(out) ??
        (out.code === 0 && !/^imported \d+ results/.test(out.stdout)
          ? `exit 0 saying ${out.stdout}`
          : null) ??
        (out.code === 2 &&
        !lines.some((l) => /^results\.ndjson:\d+: \S/.test(l)) &&
        !/nothing stored/.test(out.stderr)
          ? `exit 2 without a located line: ${out.stderr.slice(0, 300)}`
          : null) ??
        (out.code === 2 && stored > 0 ? `exit 2 but ${stored} results stored` : null);
      if (wrong) failures.push(`${where}: ${wrong}`);
      rmSync(dir, { recursive: true, force: true });
    });
    expect(failures.slice(0, 10), `seed ${seed}: the same seed reproduces these`).toEqual([]);
    expect(ran).toBeGreaterThanOrEqual(MIN_PROCESSES);
    expect(Object.keys(codes).sort()).toEqual(["0", "2"]);
    console.log(
      `import fuzz (seed ${seed}): ${ran} of ${IMPORT_CASES} cases (every ${THROUGH_CLI}rd through the CLI), exit codes ${JSON.stringify(codes)}`,
    );
  });
});

/**
 * `check-config --config slo.yaml` in `dir` without a process: loadConfig, its warnings and
 * problems as the command prints them (a ConfigError exit 2, any other error exit 2 with one
 * "slo-agent: " line, as main maps it).
 */
async function checkConfigInProcess(dir: string): Promise<CliOutcome> {
  try {
    const { config, warnings } = await loadConfig(join(dir, "slo.yaml"), { env: FUZZ_ENV });
    const stderr = warnings.map((w) => `${formatWarning(w)}\n`).join("");
    return { code: 0, stdout: `slo.yaml: ok: ${configSummary(config)}\n`, stderr, hung: false };
  } catch (error) {
    const lines =
      error instanceof ConfigError
        ? error.problems.map(formatProblem)
        : [`slo-agent: ${(error as Error).message.split("\n")[0]}`];
    return { code: 2, stdout: "", stderr: lines.map((l) => `${l}\n`).join(""), hung: false };
  }
}

/**
 * `import results.ndjson --allow-unknown --data-dir data` in `dir` without a process: the same
 * importResultFile into a real store, its outcome printed and mapped as the command does.
 */
async function importInProcess(dir: string): Promise<CliOutcome> {
  const store = openEvidenceStore({ dataDir: join(dir, "data"), clock: systemClock, logger: () => {} });
  try {
    const file = "results.ndjson";
    const outcome = await importResultFile(store, join(dir, file), { known: null, skipInvalid: false });
    const rejected = outcome.rejected.map((r) => `${file}:${r.line}: ${r.message}\n`).join("");
    if (!outcome.stored) {
      const refusal = `slo-agent import: nothing stored: ${outcome.rejected.length} invalid lines\n`;
      return { code: 2, stdout: "", stderr: rejected + refusal, hung: false };
    }
    const stdout = `imported ${outcome.imported} results (${outcome.alreadyPresent} already present)\n`;
    return { code: 0, stdout, stderr: rejected, hung: false };
  } catch (error) {
    const stderr = `slo-agent import: nothing stored: ${(error as Error).message}\n`;
    return { code: 2, stdout: "", stderr, hung: false };
  } finally {
    store.close();
  }
}

/** Results in a data directory's store (0 when there is none). */
function storedResults(dataDir: string): number {
  const file = join(dataDir, "evidence.sqlite");
  if (!existsSync(file)) return 0;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM results").get() as { n: number }).n;
  } finally {
    db.close();
  }
}
