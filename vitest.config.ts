import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { HeavyFirstSequencer } from "./test/support/heavy-first.js";
import { systemSuites } from "./test/support/suites.js";

const root = import.meta.dirname;
const system = systemSuites(root);
const cpus = availableParallelism();

export default defineConfig({
  test: {
    // Real servers, real SQLite files and child processes (each CLI start costs about a CPU second):
    // give them room on a 2-core CI box running suites side by side. Tests never fail on timing.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Each project's longest suites first (a fresh clone has no durations for vitest to go by).
    sequence: { sequencer: HeavyFirstSequencer },
    // The JSON report lets .ci/run print one plain "N passed, N failed" closing line.
    reporters: ["default", "json"],
    outputFile: { json: "artifacts/vitest-results.json" },
    projects: [
      {
        // In-process suites: CPU-bound, one worker per core, run first for fast feedback.
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: system,
          maxWorkers: cpus,
          // One module graph per worker, not per file: importing src/ again for each of 90 files
          // was most of this project's CPU time. These suites keep no state outside their own
          // modules (no mocks, no global stubs, servers and stores closed in afterAll).
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Suites that start other processes (test/support/suites.ts): they mostly wait on those
        // processes and share nothing (every server on its own port 0 or free port, every store in
        // its own temporary directory), so more of them run at once than there are cores.
        extends: true,
        test: {
          name: "system",
          include: system,
          globalSetup: ["test/global-build.ts"],
          // As for the unit suites: a worker process and its module graph serve file after file,
          // instead of a new process importing src/ again for each of ~100 files (about 0.7
          // CPU-second each). These suites share nothing between files either: every server,
          // child process and store is their own, closed or removed in afterAll, and none mocks,
          // stubs globals or changes process.env, the working directory or the umask.
          isolate: false,
          maxWorkers: Number(process.env.SLO_TEST_SYSTEM_WORKERS) || Math.max(2, Math.min(6, cpus * 2)),
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
