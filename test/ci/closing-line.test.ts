/**
 * The closing line .ci/run prints (scripts/test-summary.mjs) after real vitest runs of small
 * suites: a file whose beforeAll fails reports its tests as skipped and none as failed, an
 * unhandled rejection fails the run with every test passed, and a run can fail before vitest
 * writes a report. None of these may read "0 failed".
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const VITEST = join(ROOT, "node_modules/vitest/vitest.mjs");
const SUMMARY = join(ROOT, "scripts/test-summary.mjs");
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs vitest on the given files in a scratch project, then the summary on its report. */
function closingLine(files: Record<string, string>): { vitestStatus: number | null; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "slo-closing-line-"));
  dirs.push(dir);
  writeFileSync(join(dir, "vitest.config.mjs"), "export default { test: { globals: true } };\n");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const report = join(dir, "results.json");
  const vitest = spawnSync(
    process.execPath,
    [VITEST, "run", "--root", dir, "--reporter=json", `--outputFile=${report}`],
    { cwd: dir, encoding: "utf8", env: { ...process.env, CI: "true" }, timeout: 120_000 },
  );
  const summary = spawnSync(process.execPath, [SUMMARY, report, String(vitest.status)], {
    cwd: dir,
    encoding: "utf8",
  });
  expect(summary.status, summary.stderr).toBe(0);
  return { vitestStatus: vitest.status, lines: summary.stdout.trim().split("\n") };
}

const PASSING = 'it("passes", () => { expect(1).toBe(1); });\n';

describe("the closing line counts every failure", () => {
  it("a passing run: N passed, 0 failed", () => {
    const { vitestStatus, lines } = closingLine({ "ok.test.mjs": PASSING });
    expect(vitestStatus).toBe(0);
    expect(lines.at(-1)).toBe("tests: 1 passed, 0 failed");
  });

  it("a failing beforeAll counts its file as failed, its tests as skipped", () => {
    const { vitestStatus, lines } = closingLine({
      "ok.test.mjs": PASSING,
      "hook.test.mjs": [
        'beforeAll(() => { throw new Error("listen EADDRINUSE 127.0.0.1:9464"); });',
        'it("one", () => {});',
        'it("two", () => {});',
        "",
      ].join("\n"),
    });
    expect(vitestStatus).not.toBe(0);
    expect(lines.at(-1)).toBe("tests: 1 passed, 1 failed, 2 skipped");
    expect(lines).toContain("failed file: hook.test.mjs: listen EADDRINUSE 127.0.0.1:9464");
  });

  it("a file that fails to load is a failure", () => {
    const { vitestStatus, lines } = closingLine({
      "ok.test.mjs": PASSING,
      "broken.test.mjs": 'import "./no-such-module.mjs";\nit("never runs", () => {});\n',
    });
    expect(vitestStatus).not.toBe(0);
    expect(lines.at(-1)).toMatch(/^tests: 1 passed, 1 failed/);
  });

  it("an unhandled rejection after the tests passed is a failure", () => {
    const { vitestStatus, lines } = closingLine({
      "late.test.mjs": [
        'it("passes but leaves a rejection behind", () => {',
        '  setTimeout(() => Promise.reject(new Error("late")), 10);',
        "});",
        'it("waits for it", async () => { await new Promise((r) => setTimeout(r, 200)); });',
        "",
      ].join("\n"),
    });
    expect(vitestStatus).not.toBe(0);
    expect(lines.at(-1)).toMatch(/^tests: \d+ passed, [1-9]\d* failed/);
  });

  it("no report at all after a failed command (lint, a crash) is a failure", () => {
    const dir = mkdtempSync(join(tmpdir(), "slo-closing-line-"));
    dirs.push(dir);
    const summary = spawnSync(process.execPath, [SUMMARY, join(dir, "missing.json"), "1"], {
      encoding: "utf8",
    });
    expect(summary.stdout.trim().split("\n").at(-1)).toBe("tests: 0 passed, 1 failed");
  });
});
