import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-build.ts"],
    // Real servers, real SQLite files and child processes (each CLI start costs about a CPU second):
    // give them room on a 2-core CI box running suites side by side. Tests never fail on timing.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The JSON report lets .ci/run print one plain "N passed, N failed" closing line.
    reporters: ["default", "json"],
    outputFile: { json: "artifacts/vitest-results.json" },
  },
});
