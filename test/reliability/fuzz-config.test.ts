import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, type ConfigProblem, loadConfig } from "../../src/config/index.js";
import { type Corpus, FUZZ_ENV, pickFile, shippedCorpus } from "./fuzz-corpus.js";
import { ALIAS_INSERTIONS, createRng, INSERTIONS, mutate } from "./mutate.js";

/**
 * Config fuzzing in-process, through loadConfig (what every command, check-config included,
 * starts from): the shipped slo.yaml and probe files mutated thousands of times. Every outcome
 * must be a loaded configuration or a ConfigError whose problems are all located
 * (FILE:LINE:COL, one line); never another exception or a hang. SEED fixes the mutations.
 */
const SEED = 0x12b0c0f;
const MUTATIONS = 2_000;

const workDir = mkdtempSync(join(tmpdir(), "slo-fuzz-config-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function unlocated(p: ConfigProblem): string | null {
  if (!p.file || !(p.line >= 1) || !(p.col >= 1)) return `not located: ${JSON.stringify(p)}`;
  if (/[\r\n]/.test(p.message)) return `multi-line message: ${JSON.stringify(p.message)}`;
  return null;
}

/** Loads a mutated copy of one file; returns what is wrong with the outcome, or null. */
async function judge(
  corpus: Corpus,
  file: string,
  bytes: Buffer,
): Promise<{ wrong: string | null; loaded: boolean }> {
  writeFileSync(join(corpus.dir, file), bytes);
  try {
    await loadConfig(join(corpus.dir, "slo.yaml"), { env: FUZZ_ENV });
    return { wrong: null, loaded: true };
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      return {
        wrong: `${(error as Error)?.name}: ${(error as Error)?.message ?? String(error)}`,
        loaded: false,
      };
    }
    if (error.problems.length === 0) return { wrong: "ConfigError without problems", loaded: false };
    for (const p of error.problems) {
      const wrong = unlocated(p);
      if (wrong) return { wrong, loaded: false };
    }
    return { wrong: null, loaded: false };
  } finally {
    writeFileSync(join(corpus.dir, file), corpus.files.get(file)!);
  }
}

async function fuzz(name: string, seed: number, count: number, insertions: readonly string[]) {
  const dir = join(workDir, name);
  const corpus = shippedCorpus(dir);
  const rng = createRng(seed);
  const failures: string[] = [];
  let loaded = 0;
  for (let i = 0; i < count; i++) {
    const file = pickFile(corpus, rng.next);
    const m = mutate(rng, corpus.files.get(file)!, insertions);
    const outcome = await judge(corpus, file, m.bytes);
    if (outcome.loaded) loaded++;
    if (outcome.wrong !== null && failures.length < 10) {
      failures.push(`#${i} ${file} [${m.steps.join("; ")}]: ${outcome.wrong}`);
    }
  }
  return { failures, loaded };
}

describe("config fuzzing, in-process", () => {
  it(`${MUTATIONS} mutations of slo.yaml and probes/ load or fail located (seed ${SEED})`, {
    timeout: 400_000,
  }, async () => {
    const { failures, loaded } = await fuzz("plain", SEED, MUTATIONS, INSERTIONS);
    expect(failures, `seed ${SEED}: the same seed reproduces these`).toEqual([]);
    // Both outcomes occur: the fuzzing reaches past the parser into loaded configurations.
    expect(loaded).toBeGreaterThan(MUTATIONS / 20);
    expect(loaded).toBeLessThan(MUTATIONS);
    console.log(
      `config fuzz (seed ${SEED}): ${MUTATIONS} mutations, ${loaded} loaded, the rest refused located`,
    );
  });

  it(`anchors and aliases (undefined alias, merge keys) fail located too (seed ${SEED + 1})`, {
    timeout: 60_000,
  }, async () => {
    const { failures } = await fuzz("aliases", SEED + 1, 300, [...INSERTIONS, ...ALIAS_INSERTIONS]);
    expect(failures, `seed ${SEED + 1}`).toEqual([]);
  });
});
