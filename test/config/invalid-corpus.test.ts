import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, formatProblem, loadConfig } from "../../src/config/index.js";

/**
 * Every configuration under test/fixtures/config/invalid/ must fail with exactly the problems its
 * `# expect:` lines state (file paths relative to the fixture, or to the case's directory).
 */
const CORPUS = join(import.meta.dirname, "../fixtures/config/invalid");

interface Case {
  readonly name: string;
  readonly configFile: string;
  readonly shownPrefix: string;
  readonly expected: readonly string[];
}

function corpus(): Case[] {
  return readdirSync(CORPUS)
    .sort()
    .map((name) => {
      const full = join(CORPUS, name);
      const isDirectory = statSync(full).isDirectory();
      const configFile = relative(process.cwd(), isDirectory ? join(full, "slo.yaml") : full);
      const shownPrefix = `${relative(process.cwd(), isDirectory ? full : CORPUS)}/`;
      const expected = readFileSync(configFile, "utf8")
        .split("\n")
        .filter((line) => line.startsWith("# expect: "))
        .map((line) => line.slice("# expect: ".length));
      return { name, configFile, shownPrefix, expected };
    });
}

async function problemsOf(configFile: string, shownPrefix: string): Promise<string[]> {
  try {
    await loadConfig(configFile, { env: {} });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => formatProblem(p).replaceAll(shownPrefix, ""));
  }
  return ["(loaded without problems)"];
}

describe("invalid configurations are refused with every problem, located", () => {
  const cases = corpus();

  it("the corpus holds at least 20 cases, each with an expectation", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const c of cases) expect(c.expected, c.name).not.toHaveLength(0);
  });

  it.each(cases)("$name", async ({ configFile, shownPrefix, expected }) => {
    expect(await problemsOf(configFile, shownPrefix)).toEqual(expected);
  });
});
