import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MonthlyReport } from "../../src/reports/index.js";
import { type CliOutcome, REPO, slo } from "./cli-run.js";
import {
  countByDay,
  countClassification,
  exactP99,
  expectedCategoryRows,
  expectedClassificationByCategory,
  expectedClassRows,
  isExcluded,
  withinHdrPrecision,
} from "./expected-figures.js";
import {
  AGENT_DOWN,
  CATEGORIES,
  EDGE_BLOCK,
  EXCLUDED,
  EXCLUSION,
  EXPECTED_MAINTENANCE,
  generateMonth,
  HOURS_USED,
  MONTH,
  OCCASIONS_USED,
  OUTAGE,
  type ScenarioResult,
  sloYaml,
  toNdjson,
} from "./month-scenario.js";

const GOLDEN_DIR = join(REPO, "test/fixtures/reports");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

/** Compares with the golden file, or rewrites it with UPDATE_GOLDEN=1. */
function expectGolden(name: string, text: string): void {
  const file = join(GOLDEN_DIR, name);
  if (UPDATE) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, text);
  }
  expect(text).toBe(readFileSync(file, "utf8"));
}

/** Also the signed statement's generated_at, and what differs with it or with the test's fresh agent key. */
const withoutGeneratedAt = (text: string) =>
  text
    .replace(/"generated_at": "[^"]+"/g, '"generated_at": "<generated_at>"')
    .replace(/"generated_at":"[^"]+"/g, '"generated_at":"<generated_at>"')
    .replace(/\{"agent":"[^"]*"/, '{"agent":"<host name>"')
    .replace(/"value": "[A-Za-z0-9+/=]+"/g, '"value": "<signature>"')
    .replace(/"key_id": "[0-9a-f]{16}"/g, '"key_id": "<key_id>"')
    .replace(/agent key `[0-9a-f]{16}`/, "agent key `<key_id>`")
    .replace(/(signed whole by agent key )[0-9a-f]{16}/g, "$1<key_id>")
    .replace(
      /(verify --report FILE\.json\):(?:\n\n {4}|<\/p>\n<div class="digest mono" data-report-digest>))[0-9a-f]{64}/g,
      "$1<report digest>",
    )
    .replace(/SHA-256 [0-9a-f]{64} \(of its RFC 8785/g, "SHA-256 <report digest> (of its RFC 8785")
    .replace(/the same key [0-9a-f]{16}/g, "the same key <key_id>")
    .replace(/^ {4}[A-Za-z0-9+/]{86}==$/m, "    <signature>")
    .replace(/^ {4}-----BEGIN PUBLIC KEY-----\n.*\n {4}-----END PUBLIC KEY-----$/m, "    <public key>")
    .replace(/^- Measured by: \S+ /m, "- Measured by: <host> ")
    .replace(/Generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, "Generated <generated_at> UTC");

/** The JSON with what differs between runs and stores (time, the store's key, its signature) masked. */
function maskedJson(text: string): string {
  const json = JSON.parse(text);
  json.generated_at = "<generated_at>";
  json.evidence.statement.generated_at = "<generated_at>";
  // Changes with every edit of bundle/recompute.py; test/record/bundle-recompute.test.ts checks it.
  json.evidence.recompute_sha256 = "<recompute.py sha256>";
  json.evidence.signature = {
    ...json.evidence.signature,
    key_id: "<key_id>",
    public_key_pem: "<public key>",
    value: "<signature>",
  };
  json.report_signature = { ...json.report_signature, key_id: "<key_id>", value: "<signature>" };
  return `${JSON.stringify(json, null, 2)}\n`;
}

let dir: string;
let results: ScenarioResult[];
let report: MonthlyReport;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-report-"));
  results = generateMonth();
  writeFileSync(join(dir, "slo.yaml"), sloYaml("./data"));
  writeFileSync(join(dir, "month.ndjson"), toNdjson(results));
  const imported = slo(["import", "month.ndjson"], dir);
  expect(imported.code, imported.stderr).toBe(0);
  const run = reportOf("--month", MONTH);
  expect(run.code, run.stderr).toBe(0);
  report = JSON.parse(run.stdout);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const reports = new Map<string, CliOutcome>();
/**
 * `slo-agent report ARGS` on the month's store, run once per distinct ARGS and shared by the tests
 * that read it (no test changes the store): each run re-verifies the whole month, a CPU-second.
 */
function reportOf(...args: string[]): CliOutcome {
  const key = JSON.stringify(args);
  if (!reports.has(key)) reports.set(key, slo(["report", ...args], dir));
  return reports.get(key)!;
}

describe("slo-agent import then report: figures match an independent count", () => {
  it("each category's R, SR, excluded and availability are exact; p99 within HDR precision", () => {
    for (const want of expectedCategoryRows(results)) {
      const got = report.categories.find((c) => c.category === want.category)!;
      expect(got).toMatchObject({
        service_class: want.service_class,
        requests: want.requests,
        successful: want.successful,
        excluded: want.excluded,
        availability_pct: want.availability_pct,
        availability_met: want.availability_met,
        latency_met: want.latency_met,
      });
      expect(
        withinHdrPrecision(got.latency_p99_ms, want.exact_p99),
        `${got.latency_p99_ms} vs ${want.exact_p99}`,
      ).toBe(true);
      expect(got.error_budget_requests).toBeCloseTo(0.01 * want.requests, 9);
      expect(got.error_budget_used_ratio).toBeCloseTo(
        (want.requests - want.successful) / (0.01 * want.requests),
        9,
      );
    }
  });

  it("the scenario misses what it was built to miss", () => {
    expect(report.summary.missed).toEqual([
      "payment_request:availability",
      "disputes:latency",
      "transaction_critical:availability",
    ]);
  });

  it("latency incidents are exactly the hours whose nearest-rank p99 exceeded a missed latency objective", () => {
    const hour = 3_600_000;
    const byHour = new Map<string, number[]>();
    for (const r of results) {
      if (isExcluded(r) || (r.status === null && r.error !== "timeout")) continue;
      const key = `${r.category}@${Math.floor(r.ts / hour) * hour}`;
      byHour.set(key, [...(byHour.get(key) ?? []), r.duration_ms]);
    }
    const missed = report.categories.filter((c) => c.latency_met === false);
    expect(missed.map((c) => c.category)).toEqual(["disputes"]);
    const want = [...byHour]
      .map(([key, durations]) => {
        const [category, start] = key.split("@") as [string, string];
        const sorted = [...durations].sort((a, b) => a - b);
        // Nearest rank in integers: the ceil(99 n / 100)-th smallest.
        const p99 = sorted[Math.ceil((99 * sorted.length) / 100) - 1]!;
        return { category, start: Number(start), p99_ms: p99, requests: durations.length };
      })
      .filter((h) => missed.some((c) => c.category === h.category && h.p99_ms > c.latency_objective_ms))
      .sort((a, b) => a.start - b.start || a.category.localeCompare(b.category))
      .map((h) => ({
        category: h.category,
        start: new Date(h.start).toISOString(),
        end: new Date(h.start + hour).toISOString(),
        p99_ms: h.p99_ms,
        requests: h.requests,
      }));
    expect(want.length).toBeGreaterThan(0);
    expect(report.latency_incidents).toEqual(want);
  });

  it("a category that met its objectives still lists its failure periods in Markdown", () => {
    const md = reportOf("--month", MONTH, "--format", "md", "--category", "settlements");
    expect(md.code, md.stderr).toBe(0);
    expect(report.categories.find((c) => c.category === "settlements")!.availability_met).toBe(true);
    const section = md.stdout.slice(md.stdout.indexOf("## Incidents"), md.stdout.indexOf("## Coverage"));
    expect(section).toContain("### Settlements (`settlements`)");
    expect(section).toContain("Met its objectives.");
    expect(section).toMatch(
      /\| 2026-03-05 01:01:40 \| 2026-03-05 02:01:40 \| 1 h 00 min \| 12 \/ 12 \| 503 ×12 \|/,
    );
  });

  it("a service class pools its categories' requests", () => {
    for (const want of expectedClassRows(results)) {
      const got = report.service_classes.find((c) => c.service_class === want.service_class);
      expect(got).toMatchObject(want);
    }
  });

  it("maintenance windows are judged by notice, the occasion cap and the hours cap", () => {
    const windows = report.maintenance.windows.map((w) => ({
      id: w.id,
      qualified: w.qualified,
      qualified_hours: w.qualified_hours,
      reason: w.reason,
    }));
    expect(windows).toEqual(EXPECTED_MAINTENANCE);
    const inside = (x: (typeof EXCLUDED)[number]) =>
      results.filter(
        (r) =>
          r.ts >= x.start &&
          r.ts < x.end &&
          (x.categories.includes("all") || x.categories.includes(r.category)),
      ).length;
    const [mwA, mwB, fm1] = EXCLUDED;
    const excludedBy = (id: string) => report.maintenance.windows.find((w) => w.id === id)!.excluded_requests;
    expect([excludedBy("mw-a"), excludedBy("mw-b"), report.exclusions[0]!.excluded_requests]).toEqual([
      inside(mwA!),
      inside(mwB!),
      inside(fm1!),
    ]);
    expect(report.maintenance.year_occasions_used).toBe(OCCASIONS_USED);
    expect(report.maintenance.year_hours_used).toBe(HOURS_USED);
  });

  it("every declared exclusion is listed", () => {
    expect(report.exclusions).toMatchObject([
      {
        id: EXCLUSION.id,
        start: "2026-03-20T10:00:00.000Z",
        end: "2026-03-20T11:00:00.000Z",
        reason: EXCLUSION.reason,
        categories: ["settlements"],
      },
    ]);
  });

  it("coverage counts the runs the schedules call for against what was recorded", () => {
    const perCategory = (31 * 86_400_000) / 300_000;
    expect(report.coverage).toMatchObject({
      expected_probes: CATEGORIES.length * perCategory,
      recorded_probes: results.length,
      ratio: results.length / (CATEGORIES.length * perCategory),
    });
    expect(report.evidence.records).toBe(results.length);
    expect(report.evidence.sha256).toMatch(/^[0-9a-f]{64}$/);
    const gap = report.data_gaps.find((g) => Date.parse(g.start) < AGENT_DOWN.start + 300_000)!;
    expect(Date.parse(gap.end) - Date.parse(gap.start)).toBeGreaterThanOrEqual(
      AGENT_DOWN.end - AGENT_DOWN.start,
    );
  });

  it("the outage is one incident with its failed requests, error code and correlation ids", () => {
    const outage = report.incidents.find(
      (i) =>
        i.category === OUTAGE.category &&
        Date.parse(i.start) >= OUTAGE.start &&
        Date.parse(i.start) < OUTAGE.end,
    );
    const failed = results.filter(
      (r) => r.category === OUTAGE.category && r.ts >= OUTAGE.start && r.ts < OUTAGE.end,
    );
    expect(outage).toMatchObject({
      start: new Date(failed[0]!.ts).toISOString(),
      failed_requests: failed.length,
      error_codes: [{ code: "INTERNAL_ERROR", count: failed.length }],
      correlation_ids: failed.map((r) => r.correlation_id),
      recovered: true,
    });
    const qualifying = report.incidents.filter((i) => i.start.startsWith("2026-03-08T0"));
    expect(qualifying, "failures inside qualifying maintenance are excluded, not incidents").toEqual([]);
  });

  it("each category counts the probe's flags and body errors of its counted requests", () => {
    const expected = expectedClassificationByCategory(results);
    for (const c of report.categories) {
      expect({ result_flags: c.result_flags, body_errors: c.body_errors }, c.category).toEqual(
        expected.get(c.category),
      );
    }
    // The scenario holds what it was built to hold, so the comparison above compares something.
    const edgeBlocks = results.filter(
      (r) => r.category === EDGE_BLOCK.category && r.ts >= EDGE_BLOCK.start && r.ts < EDGE_BLOCK.end,
    );
    expect(report.categories[0]!.result_flags.edge_block).toBe(edgeBlocks.length);
    expect(edgeBlocks.length).toBeGreaterThan(0);
    expect(report.categories.find((c) => c.category === "disputes")!.body_errors.reset).toBeGreaterThan(0);
  });

  it("an incident counts the flags and body errors of its failures", () => {
    const outage = report.incidents.find(
      (i) => i.category === OUTAGE.category && Date.parse(i.start) >= OUTAGE.start,
    )!;
    const failed = results.filter(
      (r) => r.category === OUTAGE.category && r.ts >= OUTAGE.start && r.ts < OUTAGE.end,
    );
    const expected = countClassification(failed);
    expect({ result_flags: outage.result_flags, body_errors: outage.body_errors }).toEqual(expected);
    expect(expected.body_errors.timeout).toBeGreaterThan(0);
  });

  it("the CSV has one row per category per day, matching per-day counts", () => {
    const csv = reportOf("--month", MONTH, "--format", "csv");
    expect(csv.code, csv.stderr).toBe(0);
    const rows = csv.stdout
      .trimEnd()
      .split("\r\n")
      .slice(1)
      .map((l) => l.split(","));
    expect(rows).toHaveLength(31 * CATEGORIES.length);
    const days = countByDay(results);
    for (const [date, category, , requests, served, excluded, availability, p99, measured] of rows) {
      const want = days.get(`${date}/${category}`)!;
      expect([Number(requests), Number(served), Number(excluded)], `${date} ${category}`).toEqual([
        want.requests,
        want.successful,
        want.excluded,
      ]);
      expect(availability === "" ? null : Number(availability)).toBe(
        want.requests === 0 ? null : (want.successful * 100) / want.requests,
      );
      expect(
        withinHdrPrecision(p99 === "" ? null : Number(p99), exactP99(want.durations)),
        `${date} ${category} p99`,
      ).toBe(true);
      expect(measured === "" ? null : Number(measured), `${date} ${category} measured`).toBe(
        want.made === 0 ? null : (want.madeServed * 100) / want.made,
      );
    }
    expectGolden("march.csv", csv.stdout);
  });
});

describe("slo-agent report: formats and flags", () => {
  it("JSON is byte-identical between runs apart from generated_at", () => {
    const again = slo(["report", "--month", MONTH, "--format", "json"], dir);
    expect(again.code).toBe(0);
    const first = reportOf("--month", MONTH);
    expect(withoutGeneratedAt(again.stdout)).toBe(withoutGeneratedAt(first.stdout));
    expect(again.stdout).toMatch(/"generated_at": "\d{4}-\d\d-\d\dT/);
    expectGolden("march.json", maskedJson(first.stdout));
  });

  it("HTML matches its golden file", () => {
    const html = slo(["report", "--month", MONTH, "--format", "html"], dir);
    expect(html.code, html.stderr).toBe(0);
    expectGolden(
      "march.html",
      html.stdout
        .replace(/generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, "generated <generated_at> UTC")
        .replace(/agent key <code>[0-9a-f]{16}<\/code>/, "agent key <code><key_id></code>")
        .replace(
          /<div class="digest mono statement">.*?<\/div>/,
          '<div class="digest mono statement"><statement></div>',
        )
        .replace(
          /<div class="digest mono">[A-Za-z0-9+/]{86}==<\/div>/,
          '<div class="digest mono"><signature></div>',
        )
        .replace(/-----BEGIN PUBLIC KEY-----\n.*\n-----END PUBLIC KEY-----/, "<public key>")
        .replace(/(signed whole by agent key )[0-9a-f]{16}/g, "$1<key_id>")
        .replace(
          /(verify --report FILE\.json\):(?:\n\n {4}|<\/p>\n<div class="digest mono" data-report-digest>))[0-9a-f]{64}/g,
          "$1<report digest>",
        )
        .replace(/SHA-256 [0-9a-f]{64} \(of its RFC 8785/g, "SHA-256 <report digest> (of its RFC 8785")
        .replace(/the same key [0-9a-f]{16}/g, "the same key <key_id>"),
    );
  });

  it("Markdown matches its golden file", () => {
    const md = slo(["report", "--month", MONTH, "--format", "md"], dir);
    expect(md.code, md.stderr).toBe(0);
    expectGolden("march.md", withoutGeneratedAt(md.stdout));
  });

  it("--out writes the file in the format its extension names and prints nothing", () => {
    const out = join(dir, "out", "march.html");
    mkdirSync(join(dir, "out"), { recursive: true });
    const run = slo(["report", "--month", MONTH, "--out", out], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("");
    expect(readFileSync(out, "utf8")).toMatch(/^<!doctype html>/);
    expect(readdirSync(join(dir, "out"))).toEqual(["march.html"]);
  });

  it.each([
    ["a missed objective with --fail-on-miss exits 1", ["--fail-on-miss"], 1],
    ["a missed objective without --fail-on-miss exits 0", [], 0],
    ["only categories that met their objectives exit 0", ["--fail-on-miss", "--category", "settlements"], 0],
  ])("%s", (_rule, flags, code) => {
    const run = reportOf("--month", MONTH, "--format", "csv", ...flags);
    expect(run.code, run.stderr).toBe(code);
    expect(run.stdout.split("\r\n")[0]).toBe(
      "date,category,service_class,requests,served,excluded,availability_pct,latency_p99_ms,measured_availability_pct,merchant_side_excluded_minutes,warnings",
    );
    if (code === 1) expect(run.stderr).toMatch(/objectives missed in 2026-03: payment_request:availability/);
  });

  it("--category keeps only the named categories and their service classes (repeatable or comma list)", () => {
    const run = slo(
      ["report", "--month", MONTH, "--category", "disputes,settlements", "--category", "disputes"],
      dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const filtered: MonthlyReport = JSON.parse(run.stdout);
    expect(filtered.categories.map((c) => c.category)).toEqual(["settlements", "disputes"]);
    expect(filtered.service_classes.map((c) => c.service_class)).toEqual(["transaction_non_critical"]);
    expect(filtered.maintenance.windows.map((w) => w.id)).not.toContain("mw-b");
    expect(filtered.categories[1]).toEqual(report.categories.find((c) => c.category === "disputes"));
    // Both categories of the class: its figures are the class's own, nothing to say.
    expect(filtered.service_classes[0]).not.toHaveProperty("pooled_categories");
    expect(filtered.warnings ?? []).not.toContainEqual(expect.stringContaining("--category"));
  });

  // Attack 24b finding 8: the class figure pooled only the selection, and no format said so.
  it("--category that leaves some of a class's categories out says so in every format", () => {
    const narrowed = (format: string) =>
      reportOf("--month", MONTH, "--format", format, "--category", "settlements");
    const json: MonthlyReport = JSON.parse(narrowed("json").stdout);
    expect(json.service_classes.map((c) => [c.service_class, c.pooled_categories])).toEqual([
      ["transaction_non_critical", ["settlements"]],
    ]);
    expect(json.warnings).toContainEqual(
      "--category: service class transaction_non_critical pools only settlements of its categories: its availability, result and credit are not the class's SLA figures",
    );
    const line =
      /Narrowed by --category: transaction\\?_non\\?_critical pools only settlements, not all its categories/;
    for (const format of ["md", "html"]) {
      const text = narrowed(format).stdout;
      expect(text).toMatch(line);
      expect(text).toContain("service class transaction");
      expect(text).not.toContain("pools the requests of all its categories");
    }
  });

  it.each([
    [
      "an unknown category lists the known ones",
      ["--month", MONTH, "--category", "payments"],
      /unknown category "payments" \(known: payment_request, settlements, disputes\)/,
    ],
    ["a month outside 01..12 is bad usage", ["--month", "2026-13"], /--month: month must be 01\.\.12/],
    ["a month not in YYYY-MM form is bad usage", ["--month", "March"], /--month: month must be YYYY-MM/],
    ["a missing --month is bad usage", [], /--month YYYY-MM is required/],
    ["an unknown format is bad usage", ["--month", MONTH, "--format", "docx"], /format/],
    [
      "an --out file that cannot be written is bad usage",
      ["--month", MONTH, "--out", "no/such/dir/r.md"],
      /--out: cannot write no\/such\/dir\/r\.md \(ENOENT\)/,
    ],
  ])("%s (exit 2)", (_rule, args, message) => {
    const run = slo(["report", ...args], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe("");
  });

  it("a mistyped --data-dir is bad usage (exit 2) and creates nothing", () => {
    const run = slo(["report", "--month", MONTH, "--data-dir", "dtaa"], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^slo-agent report: no evidence store at \S*dtaa \(evidence\.sqlite not found\)\n$/,
    );
    expect(run.stdout).toBe("");
    expect(existsSync(join(dir, "dtaa"))).toBe(false);
  });

  it("a month with no data still produces a report, with null figures", () => {
    const run = slo(["report", "--month", "2026-05"], dir);
    expect(run.code, run.stderr).toBe(0);
    const empty: MonthlyReport = JSON.parse(run.stdout);
    expect(empty.categories[0]).toMatchObject({
      requests: 0,
      availability_pct: null,
      availability_met: null,
      latency_p99_ms: null,
    });
    expect(empty.summary.objectives_met).toBeNull();
    expect(empty.evidence.records).toBe(0);
  });

  it("--help explains every option with examples", () => {
    const run = slo(["report", "--help"], dir);
    expect(run.code).toBe(0);
    for (const flag of [
      "--month",
      "--format",
      "--out",
      "--category",
      "--fail-on-miss",
      "--config",
      "--data-dir",
      "Examples:",
    ]) {
      expect(run.stdout).toContain(flag);
    }
    expect(existsSync(join(dir, "data"))).toBe(true);
  });
});
