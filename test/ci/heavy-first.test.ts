import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { TestSpecification, Vitest } from "vitest/node";
import { HeavyFirstSequencer, SUITE_SECONDS } from "../support/heavy-first.js";

const ROOT = join(import.meta.dirname, "../..");

/** A stand-in for vitest's context: a fresh clone's, with no cached durations or file sizes. */
const freshClone = {
  config: { root: ROOT },
  cache: { getFileTestResults: () => undefined, getFileStats: () => undefined },
} as unknown as Vitest;

function spec(project: "unit" | "system", path: string): TestSpecification {
  return {
    moduleId: join(ROOT, path),
    project: {
      name: project,
      config: { isolate: true, sequence: { groupOrder: project === "unit" ? 0 : 1 } },
    },
  } as unknown as TestSpecification;
}

const names = (specs: TestSpecification[]) =>
  specs.map((s) => `${s.project.name} ${s.moduleId.slice(ROOT.length + 1)}`);

describe("the heaviest-first sequencer", () => {
  it("keeps the unit project first and starts each project's longest suites first", async () => {
    const files = [
      spec("system", "test/e2e/prometheus.test.ts"),
      spec("system", "test/reliability/fuzz-config.test.ts"),
      spec("unit", "test/config/values.test.ts"),
      spec("system", "test/regions/hostile-agent.test.ts"),
      spec("unit", "test/record/store.test.ts"),
      spec("system", "test/reliability/kill-nine.test.ts"),
      spec("unit", "test/measurement/control-witnesses.test.ts"),
    ];
    expect(names(await new HeavyFirstSequencer(freshClone).sort(files))).toEqual([
      "unit test/measurement/control-witnesses.test.ts",
      "unit test/record/store.test.ts",
      "unit test/config/values.test.ts",
      "system test/regions/hostile-agent.test.ts",
      "system test/reliability/kill-nine.test.ts",
      "system test/reliability/fuzz-config.test.ts",
      "system test/e2e/prometheus.test.ts",
    ]);
  });

  it("names only suites that exist (a renamed or split suite would silently lose its place)", () => {
    expect(Object.keys(SUITE_SECONDS).filter((path) => !isFile(join(ROOT, path)))).toEqual([]);
  });
});

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
