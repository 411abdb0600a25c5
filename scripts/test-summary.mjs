// The closing line of .ci/run: `tests: N passed, M failed[, K skipped]`, from vitest's JSON report
// and the exit status of the test command.
//
//   node scripts/test-summary.mjs artifacts/vitest-results.json EXIT_STATUS
//
// M counts failed tests, plus each file that failed without a failed test (an error in a hook such
// as beforeAll, or while collecting the file: its tests then show as skipped), plus one when the
// command failed and the report shows nothing (an unhandled error, a crash, a missing report, or a
// step before vitest such as lint). So a run that exited non-zero never says "0 failed".
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";

const [reportFile = "artifacts/vitest-results.json", statusText = "0"] = process.argv.slice(2);
const status = Number(statusText);

let passed = 0;
let failed = 0;
let skipped = 0;
const notes = [];
if (existsSync(reportFile)) {
  const report = JSON.parse(readFileSync(reportFile, "utf8"));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  skipped = report.numPendingTests + report.numTodoTests;
  for (const file of report.testResults) {
    if (file.status !== "failed") continue;
    const failedTests = file.assertionResults.filter((t) => t.status === "failed").length;
    const name = relative(process.cwd(), file.name);
    if (failedTests === 0) {
      failed += 1;
      const why = (file.message || "an error outside any test").split("\n")[0];
      notes.push(`failed file: ${name}: ${why}`);
    } else {
      notes.push(`failed file: ${name}: ${failedTests} failed test(s)`);
    }
  }
  if (status !== 0 && failed === 0) {
    failed = 1;
    notes.push(
      `exit status ${status} with no failure in ${reportFile}: an unhandled error or a step outside vitest failed (see above)`,
    );
  }
} else if (status !== 0) {
  failed = 1;
  notes.push(`exit status ${status} and no ${reportFile}: the tests did not run to the end (see above)`);
}
for (const note of notes) console.log(note);
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
