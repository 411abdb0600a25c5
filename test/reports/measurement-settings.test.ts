import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { effectiveConfiguration } from "../../src/config/fingerprint.js";
import { ConfigError, formatProblem, loadConfig } from "../../src/config/index.js";
import type { SloConfig } from "../../src/model/config.js";
import { openEvidenceStore } from "../../src/record/index.js";
import {
  buildMonthlyReport,
  type MonthlyReport,
  renderReport,
  TEXT_FORMATS,
} from "../../src/reports/index.js";
import { withFeedWindows } from "../../src/slo/index.js";
import { ConfigDirs, minimalSlo } from "../config/config-dir.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * The settings that decide what the agent books as its own fault or as announced maintenance are
 * shown and warned in every report format (issue 24, attack round 4, items 4 and 6):
 * agent.max_stall_ms is bounded and the report shows the value in force; a maintenance policy
 * looser than the SLA's terms that judges the month is warned, even when it was there from the
 * first configuration the agent loaded.
 */
const NOVEMBER = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;

const dirs = new ConfigDirs();
afterAll(() => dirs.remove());

describe("agent.max_stall_ms is bounded (20 to 1000 ms)", () => {
  it.each([
    [1, /max_stall_ms.*must be at least 20/],
    [19, /max_stall_ms.*must be at least 20/],
    [100_000, /max_stall_ms.*must be at most 1000/],
    [1001, /max_stall_ms.*must be at most 1000/],
  ])("refuses %d", async (ms, message) => {
    const dir = await dirs.create({
      "slo.yaml": minimalSlo({ extra: `agent: {region: eu, max_stall_ms: ${ms}}\n` }),
    });
    const error = await loadConfig(join(dir, "slo.yaml"), { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map(formatProblem).join("\n")).toMatch(message);
  });

  it.each([20, 50, 1000])("accepts %d", async (ms) => {
    const dir = await dirs.create({
      "slo.yaml": minimalSlo({ extra: `agent: {region: eu, max_stall_ms: ${ms}}\n` }),
    });
    const { config } = await loadConfig(join(dir, "slo.yaml"), { env: {} });
    expect(config.agent.maxStallMs).toBe(ms);
  });
});

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "slo-settings-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** A real store whose log holds `recorded` (one a day from the month's start), reported with `given`. */
function reportOf(recorded: readonly SloConfig[], given: SloConfig): MonthlyReport {
  const clock = new FakeClock(NOVEMBER - DAY);
  const store = openEvidenceStore({ dataDir, clock, batchMs: 0 });
  try {
    for (const config of recorded) {
      store.recordInput("config", effectiveConfiguration(config));
      clock.advance(DAY);
    }
    const now = NOVEMBER + 40 * DAY;
    const config = withFeedWindows(given, [], { ...store.declaredWindowVersions(), now, month: "2026-11" });
    return buildMonthlyReport({ config, store, month: "2026-11", now });
  } finally {
    store.close();
  }
}

function withStall(ms: number | undefined): SloConfig {
  const base = fixtureConfig();
  return { ...base, agent: { ...base.agent, ...(ms === undefined ? {} : { maxStallMs: ms }) } };
}

/** Each text format carries the sentence (CSV: in its warnings column), read without its escapes. */
function everyFormat(report: MonthlyReport, sentence: RegExp): void {
  for (const format of TEXT_FORMATS) {
    const text = renderReport(report, format)
      .replaceAll("\\", "")
      .replaceAll(/&#39;|&#x27;/g, "'");
    expect(text, format).toMatch(sentence);
  }
}

describe("the report shows agent.max_stall_ms in force", () => {
  it("the contract's default: shown, no warning", () => {
    const report = reportOf([withStall(undefined)], withStall(undefined));
    expect(report.context.max_stall_ms).toEqual([50]);
    expect(report.warnings ?? []).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/max_stall_ms/)]),
    );
    expect(renderReport(report, "md")).toMatch(/Stall guard \(agent\.max_stall_ms\): 50 ms/);
  });

  it("a value loaded within the month is shown beside the first and warned in every format", () => {
    // The report is made with the default: the log's values decide what is shown.
    const report = reportOf([withStall(50), withStall(1000)], withStall(50));
    expect(report.context.max_stall_ms).toEqual([50, 1000]);
    expect(renderReport(report, "html")).toMatch(
      /Stall guard \(agent\.max_stall_ms\)<\/dt><dd>50 ms, then 1000 ms/,
    );
    everyFormat(report, /agent\.max_stall_ms was 1000 ms for \(part of\) the month, not the contract's 50/);
  });

  it("a small value is warned as excluding the provider's failures", () => {
    const report = reportOf([withStall(20)], withStall(20));
    everyFormat(report, /agent\.max_stall_ms was 20 ms .*excluded as agent_error/);
  });

  it("without configuration records (imported data): the given configuration's", () => {
    const report = reportOf([], withStall(200));
    expect(report.context.max_stall_ms).toEqual([200]);
    everyFormat(report, /agent\.max_stall_ms was 200 ms/);
  });
});

describe("the report warns when the policy judging the month is looser than the SLA's terms", () => {
  const loose = (days: number): SloConfig => {
    const base = fixtureConfig();
    return {
      ...base,
      maintenance: { ...base.maintenance, policy: { ...base.maintenance.policy, minNoticeDays: days } },
    };
  };
  const LOOSER =
    /maintenance policy that judges this month \(at least 0 days' notice.*looser than the SLA's published terms \(7 days' notice; maintenance\.policy min_notice_days\)/;

  it("a loose policy from the first configuration the agent loaded", () => {
    const report = reportOf([loose(0)], loose(0));
    expect(report.maintenance.policy.min_notice_days).toBe(0);
    everyFormat(report, LOOSER);
  });

  it("the logged loose policy judges and is warned even when the report is given the SLA's", () => {
    const report = reportOf([loose(0)], loose(7));
    expect(report.warnings).toEqual(expect.arrayContaining([expect.stringMatching(LOOSER)]));
  });

  it("the SLA's own terms: no such warning", () => {
    const report = reportOf([loose(7)], loose(7));
    expect(report.warnings ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/looser than/)]));
  });
});
