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
      spec("system", "test/reliability/long-run.test.ts"),
      spec("unit", "test/config/values.test.ts"),
      spec("system", "test/regions/hostile-agent.test.ts"),
      spec("unit", "test/record/store.test.ts"),
      spec("system", "test/reliability/kill-nine.test.ts"),
      spec("unit", "test/measurement/control-witnesses.test.ts"),
    ];
    // Longest first by the table (refreshed after CI runs), each project in its group order.
    const byTable = (project: string) =>
      files
        .filter((f) => f.project.name === project)
        .map((f) => f.moduleId.slice(ROOT.length + 1))
        .sort((a, b) => (SUITE_SECONDS[b] ?? 0) - (SUITE_SECONDS[a] ?? 0))
        .map((path) => `${project} ${path}`);
    const expected = [...byTable("unit"), ...byTable("system")];
    // The table must order these examples strictly, or the check below would prove nothing.
    const seconds = expected.map((n) => SUITE_SECONDS[n.slice(n.indexOf(" ") + 1)] ?? 0);
    expect(new Set(seconds.slice(0, 3)).size).toBe(3);
    expect(new Set(seconds.slice(3)).size).toBe(4);
    expect(names(await new HeavyFirstSequencer(freshClone).sort(files))).toEqual(expected);
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
