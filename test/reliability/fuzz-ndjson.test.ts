import { describe, expect, it } from "vitest";
import { parseResultLine } from "../../src/record/import/ndjson.js";
import { resultProblem } from "../../src/record/validation.js";
import { createRng, INSERTIONS, mutate } from "./mutate.js";
import { NDJSON_LINES } from "./ndjson-lines.js";

/**
 * Import fuzzing in-process, through parseResultLine (what `import` runs on every line): every
 * mutated line is a valid result or one problem on one line, never an exception.
 */
const SEED = 0x12b0d0d;
const MUTATIONS = 6_000;
const KNOWN = {
  probes: new Map([
    ["payment-request-read", "payment_request"],
    ["settlements-payout-summary", "settlements"],
    ["disputes-list", "disputes"],
    ["account-read", "account_operations"],
  ]),
  categories: new Set(["payment_request", "settlements", "disputes", "account_operations"]),
};

describe("NDJSON fuzzing, in-process", () => {
  it("the seed lines are valid results", () => {
    for (const line of NDJSON_LINES) expect(parseResultLine(line, KNOWN), line).toHaveProperty("result");
  });

  it(`${MUTATIONS} mutated lines are a valid result or a one-line problem (seed ${SEED})`, {
    timeout: 60_000,
  }, () => {
    const rng = createRng(SEED);
    const failures: string[] = [];
    let accepted = 0;
    for (let i = 0; i < MUTATIONS; i++) {
      const seedLine = NDJSON_LINES[i % NDJSON_LINES.length]!;
      const m = mutate(rng, Buffer.from(seedLine), INSERTIONS);
      const where = `#${i} [${m.steps.join("; ")}]`;
      try {
        // The importer splits the file at newlines (and drops a CR before one) before it parses a line.
        const lines = m.bytes
          .toString("utf8")
          .split("\n")
          .map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
        for (const [text, known] of lines.flatMap((l) => [[l, KNOWN] as const, [l, null] as const])) {
          const parsed = parseResultLine(text, known);
          if ("result" in parsed) {
            if (known === KNOWN && lines.length === 1) accepted++;
            const problem = resultProblem(parsed.result);
            if (problem !== null)
              failures.push(`${where}: accepted a result its own validation refuses: ${problem}`);
          } else if (parsed.problem === "" || /[\r\n]/.test(parsed.problem)) {
            failures.push(`${where}: problem is not one line: ${JSON.stringify(parsed.problem)}`);
          }
        }
      } catch (error) {
        failures.push(`${where}: threw ${(error as Error).name}: ${(error as Error).message}`);
      }
      if (failures.length >= 10) break;
    }
    expect(failures, `seed ${SEED}: the same seed reproduces these`).toEqual([]);
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(MUTATIONS);
    console.log(`NDJSON fuzz (seed ${SEED}): ${MUTATIONS} mutated lines, ${accepted} still valid`);
  });
});
