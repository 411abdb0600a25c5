import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-build.ts"],
    // Real servers, real SQLite files and child processes: give them room on a 2-core CI box.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // The JSON report lets .ci/run print one plain "N passed, N failed" closing line.
    reporters: ["default", "json"],
    outputFile: { json: "artifacts/vitest-results.json" },
  },
});
