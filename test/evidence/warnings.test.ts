import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";

/**
 * Oddities that leave the chain intact are warnings in every format: records of another agent id,
 * records back-dated behind a later month, coverage above 1.
 */

const SLOW = 180_000;
const HOUR = 3_600_000;
const dirs: string[] = [];

function hourly(from: number, to: number, agent: string, step = HOUR): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from; t < to; t += step) {
    out.push({
      ts: t,
      probe: "payment-request-read",
      category: "payment_request",
      status: 200,
      durationMs: 100,
      error: null,
      errorCode: null,
      correlationId: null,
      agent,
    });
  }
  return out;
}

/** A data directory filled by `imports` in order; returns the directory with slo.yaml. */
function storeOf(imports: readonly ProbeResult[][], every = "5m"): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-warnings-"));
  dirs.push(dir);
  writeFileSync(join(dir, "slo.yaml"), sloYaml("./data").replaceAll("every: 5m", `every: ${every}`));
  const store = openEvidenceStore({ dataDir: join(dir, "data"), clock: new FakeClock(Date.UTC(2026, 3, 3)) });
  for (const batch of imports) store.importResults(batch);
  store.close();
  return dir;
}

const report = (dir: string, format: string, ...extra: string[]) =>
  slo(["report", "--month", "2026-03", "--format", format, "--config", "slo.yaml", ...extra], dir);

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const MARCH = [Date.UTC(2026, 2, 1), Date.UTC(2026, 2, 3)] as const;

describe("report warnings", () => {
  it(
    "the same requests under another agent id: a warning naming it, and coverage above 1, in JSON, Markdown, HTML and CSV",
    () => {
      // Each agent probes on the configured 5-minute schedule all month: twice what it calls for.
      const month = [Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1)] as const;
      const dir = storeOf([hourly(...month, "probe-eu-1", 300_000), hourly(...month, "probe-us-9", 300_000)]);
      const only = ["--category", "payment_request"];
      const json = report(dir, "json", ...only);
      expect(json.code, json.stderr).toBe(0);
      const warnings: string[] = JSON.parse(json.stdout).warnings;
      expect(warnings).toHaveLength(4);
      expect(warnings[3]).toMatch(/^category payment_request: 8928 more results than its schedules expect/);
      expect(warnings[0]).toMatch(
        /^8928 records of the month name agent "probe-us-9", not this agent "probe-eu-1"/,
      );
      // The second agent's month was imported after the first's: chained behind newer records (all
      // but its last 15 minutes).
      expect(warnings[1]).toMatch(/^8925 records were back-dated: .* \(payment_request 8925\)/);
      expect(warnings[2]).toMatch(/^coverage is 2\.000: more results than the schedules expect/);
      const md = report(dir, "md", ...only).stdout;
      expect(md).toContain('**Warning:** 8928 records of the month name agent "probe-us-9"');
      expect(md).toContain("**Warning:** coverage is 2.000");
      const html = report(dir, "html", ...only).stdout;
      expect(html.match(/data-verdict="warning">Warning: /g)).toHaveLength(4);
      const csv = report(dir, "csv", ...only).stdout.split("\r\n");
      expect(csv[0]).toMatch(/,warnings$/);
      expect(csv[1]).toMatch(/"8928 records of the month name agent ""probe-us-9"".* \| coverage is 2\.000/);
    },
    SLOW,
  );

  it(
    "records of the month imported after records of the next month: a back-dated warning with the first seq",
    () => {
      const april = hourly(Date.UTC(2026, 3, 1), Date.UTC(2026, 3, 2), "probe-eu-1");
      const dir = storeOf([april, hourly(...MARCH, "probe-eu-1")]);
      const json = report(dir, "json");
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout).warnings).toEqual([
        "48 records were back-dated: chained after records at least 15 minutes newer (first at seq 25), so written well after they were observed, by a late import or a clock that went back (payment_request 48); they count in these figures.",
      ]);
    },
    SLOW,
  );

  it(
    "a thin backfill (two 503s an hour imported into past hours) is counted as back-dated per category, though it stays under the per-hour coverage check (audit 2, hole 7)",
    () => {
      const live = hourly(...MARCH, "probe-eu-1", 30_000);
      const injected = hourly(...MARCH, "probe-eu-1", HOUR).flatMap((r) => [
        { ...r, ts: r.ts + 10_000, status: 503 },
        { ...r, ts: r.ts + 1_810_000, status: 503 },
      ]);
      const dir = storeOf([live, injected], "30s");
      const json = report(dir, "json", "--category", "payment_request");
      expect(json.code, json.stderr).toBe(0);
      // 122 runs an hour where the schedule calls for 120: within the coverage check's slack.
      expect(JSON.parse(json.stdout).warnings).toEqual([
        `96 records were back-dated: chained after records at least 15 minutes newer (first at seq ${live.length + 1}), so written well after they were observed, by a late import or a clock that went back (payment_request 96); they count in these figures.`,
      ]);
    },
    SLOW,
  );

  it(
    "an agent's own results, chained as their requests complete, are not back-dated",
    () => {
      // Every other result chained after the next one was sent (5 minutes later): out of ts order, not back-dated.
      const live = hourly(MARCH[0], MARCH[0] + 2 * HOUR, "probe-eu-1", 300_000);
      const completed = live
        .flatMap((r, i) => (i % 2 === 0 ? [live[i + 1], r] : []))
        .filter((r) => r !== undefined);
      const dir = storeOf(completed.map((r) => [r]));
      const json = report(dir, "json");
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout).warnings).toBeUndefined();
    },
    SLOW,
  );

  it(
    "extra records in one category are not masked by a gap in another (audit finding 10)",
    () => {
      const month = [Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1)] as const;
      const gap = [Date.UTC(2026, 2, 8), Date.UTC(2026, 2, 8) + 25 * HOUR] as const;
      const of = (category: string, from: number, to: number, status = 200) =>
        hourly(from, to, "probe-eu-1", 300_000).map((r) => ({
          ...r,
          category,
          probe: `${category.replaceAll("_", "-")}-read`,
          status,
        }));
      const injected = Date.UTC(2026, 2, 4, 10);
      const dir = storeOf([
        of("payment_request", ...month),
        of("disputes", ...month),
        // 300 settlements runs missing (25 hours), 250 extra failing disputes in one hour.
        of("settlements", month[0], gap[0]),
        of("settlements", gap[1], month[1]),
        Array.from({ length: 250 }, (_, i) => ({
          ...of("disputes", injected, injected + 1, 503)[0]!,
          ts: injected + 7 + i * 14_000,
        })),
      ]);
      const json = report(dir, "json");
      expect(json.code, json.stderr).toBe(0);
      const parsed = JSON.parse(json.stdout);
      expect(parsed.coverage.ratio).toBeLessThan(1);
      expect(parsed.warnings).toEqual([
        // Each category's month imported after the one before it: chained behind newer records.
        expect.stringMatching(/^17800 records were back-dated: .* \(disputes 9175, settlements 8625\)/),
        expect.stringMatching(
          /^category disputes: 250 more results than its schedules expect in 1 hour\(s\) \(first 2026-03-04T10:00:00(\.000)?Z: 262 recorded, 12 expected\)/,
        ),
      ]);
      expect(parsed.data_gaps).toContainEqual({
        start: "2026-03-07T23:55:00.000Z",
        end: "2026-03-09T01:00:00.000Z",
      });
    },
    SLOW,
  );

  it(
    "an ordinary month has no warnings member at all",
    () => {
      const dir = storeOf([hourly(...MARCH, "probe-eu-1")]);
      const json = report(dir, "json");
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout).warnings).toBeUndefined();
      expect(report(dir, "md").stdout).not.toContain("**Warning:**");
    },
    SLOW,
  );
});
