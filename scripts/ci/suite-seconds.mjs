#!/usr/bin/env node
// Prints the SUITE_SECONDS lines of test/support/heavy-first.ts from a vitest JSON report
// (artifacts/vitest-results.json of a CI run): every suite of 3 s or more, longest first.
// Usage: node scripts/ci/suite-seconds.mjs artifacts/vitest-results.json
import { readFileSync } from "node:fs";

const file = process.argv[2];
if (!file) {
  console.error("usage: node scripts/ci/suite-seconds.mjs VITEST_JSON");
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, "utf8"));
const rows = report.testResults
  .map((suite) => ({
    // The path from test/ on, wherever the run was.
    path: suite.name
      .split("\\")
      .join("/")
      .replace(/^.*\/(?=test\/)/, ""),
    seconds: Math.round((suite.endTime - suite.startTime) / 1000),
  }))
  .filter((row) => row.seconds >= 3)
  .sort((a, b) => b.seconds - a.seconds);
for (const row of rows) console.log(`  "${row.path}": ${row.seconds},`);
