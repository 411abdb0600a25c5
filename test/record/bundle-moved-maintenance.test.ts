import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { CategoryScope, ProbeResult } from "../../src/model/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { recompute } from "../support/recompute.js";

/**
 * Contract sections 13 and 14: `python3 recompute.py` applies the moved-maintenance rule as the
 * agent does, from the maintenance observations the bundle carries (inputs.ndjson). A November
 * with three feed windows changed late -- one moved into a 10-hour outage, one extended from 1 h
 * to 15 h, one widened from payment_request to every category -- gives the report's figures
 * field by field, and not the figures of a window judged whole with its first notice.
 */

const at = (iso: string) => Date.parse(iso);
const MONTH = "2026-11";
const CATEGORIES = ["payment_request", "settlements"] as const;

/** A provider outage (503) for both categories, and the feed window that changed around it. */
const MOVED = { from: at("2026-11-15T02:00:00Z"), to: at("2026-11-15T12:00:00Z") };
const EXTENDED = { from: at("2026-11-10T00:00:00Z"), to: at("2026-11-10T15:00:00Z") };
const WIDENED = { from: at("2026-11-20T00:00:00Z"), to: at("2026-11-20T01:00:00Z") };

const SLO_YAML = `version: 1
agent: {id: probe-eu-1, region: eu, listen: 127.0.0.1:0, data_dir: ./data, retention_days: 36500}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.5}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
  settlements: {title: Settlements, service_class: transaction_critical, latency_p99_ms: 1500}
maintenance:
  policy: {min_notice_days: 7, max_occasions_per_year: 6, max_hours_per_year: 40}
targets:
  klarna: {base_url: "http://127.0.0.1:9", environment: simulator, auth: {type: none}}
probes:
${CATEGORIES.map((c) => `  - {id: ${c}-read, category: ${c}, target: klarna, every: 5m, method: GET, path: /${c}, timeout_ms: 10000}`).join("\n")}
sla:
  provider: Klarna Bank AB
  credits: [{below_pct: 99.5, credit_pct: 10}, {below_pct: 97.0, credit_pct: 25}]
`;

function november(): ProbeResult[] {
  const down = (ts: number) => [MOVED, EXTENDED, WIDENED].some((o) => ts >= o.from && ts < o.to);
  const results: ProbeResult[] = [];
  for (let ts = at("2026-11-01T00:00:00Z"); ts < at("2026-12-01T00:00:00Z"); ts += 300_000) {
    for (const [i, category] of CATEGORIES.entries()) {
      results.push({
        ts: ts + i,
        probe: `${category}-read`,
        category,
        status: down(ts) ? 503 : 200,
        durationMs: 40 + (ts % 7),
        error: null,
        errorCode: null,
        correlationId: null,
      });
    }
  }
  return results;
}

function reading(id: string, start: string, end: string, categories: CategoryScope, digest: string) {
  return {
    providerId: id,
    name: `Maintenance ${id}`,
    start: at(start),
    end: at(end),
    providerCreatedAt: at("2026-09-30T00:00:00Z"),
    categories,
    cancelled: false,
    digest,
  };
}

let dir: string;
let bundle: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-bundle-moved-"));
  writeFileSync(join(dir, "slo.yaml"), SLO_YAML);
  const store = openEvidenceStore({
    dataDir: join(dir, "data"),
    clock: new FakeClock(at("2026-12-02T00:00:00Z")),
  });
  try {
    const feed = store.feedWindows;
    // Each reading is the feed as read then; only a changed entry makes an observation.
    feed.observe(
      [
        reading("sp-extended", "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z", "all", "e1"),
        reading("sp-widened", "2026-11-20T00:00:00Z", "2026-11-20T01:00:00Z", ["payment_request"], "w1"),
      ],
      at("2026-10-01T00:00:00Z"),
    );
    feed.observe(
      [reading("sp-moved", "2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z", "all", "m1")],
      at("2026-11-01T00:00:00Z"),
    );
    feed.observe(
      [reading("sp-extended", "2026-11-10T00:00:00Z", "2026-11-10T15:00:00Z", "all", "e2")],
      at("2026-11-09T00:00:00Z"),
    );
    feed.observe(
      [reading("sp-moved", "2026-11-15T02:00:00Z", "2026-11-15T12:00:00Z", "all", "m2")],
      at("2026-11-15T13:00:00Z"),
    );
    feed.observe(
      [reading("sp-widened", "2026-11-20T00:00:00Z", "2026-11-20T01:00:00Z", "all", "w2")],
      at("2026-11-19T00:00:00Z"),
    );
    // Imported after the readings: an input is never dated before the log's newest record.
    store.importResults(november());
  } finally {
    store.close();
  }
  const run = slo(["evidence", "export", "--month", MONTH, "--out", "bundle"], dir);
  if (run.code !== 0) throw new Error(run.stderr);
  bundle = join(dir, "bundle");
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Row {
  category: string;
  requests: number;
  successful: number;
  excluded: number;
  availability_pct: number | null;
}

/** The naive reading: every feed window's final span excluded for its final categories, as first announced. */
function naiveFigures(): Row[] {
  const maintenance = JSON.parse(readFileSync(join(bundle, "maintenance.json"), "utf8"));
  const windows = maintenance.feed_windows as { start: number; end: number; categories: CategoryScope }[];
  const records = readFileSync(join(bundle, "records.ndjson"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { ts: string; category: string; status: number | null })
    .filter((r) => r.ts.startsWith(MONTH));
  return CATEGORIES.map((category) => {
    const mine = records.filter((r) => r.category === category);
    const inside = (r: { ts: string }) =>
      windows.some(
        (w) =>
          Date.parse(r.ts) >= w.start &&
          Date.parse(r.ts) < w.end &&
          (w.categories === "all" || w.categories.includes(category)),
      );
    const counted = mine.filter((r) => !inside(r));
    const successful = counted.filter((r) => r.status !== null && r.status >= 200 && r.status <= 499).length;
    return {
      category,
      requests: counted.length,
      successful,
      excluded: mine.length - counted.length,
      availability_pct: (successful * 100) / counted.length,
    };
  });
}

describe("recompute.py and maintenance moved, extended or widened late (contract sections 13, 14)", {
  timeout: 180_000,
}, () => {
  it("gives the report's figures field by field, which a window judged whole with its first notice does not", () => {
    const run = recompute(bundle);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const figures = JSON.parse(run.stdout) as {
      categories: Row[];
      service_classes: Record<string, unknown>[];
    };
    const report = JSON.parse(readFileSync(join(bundle, "report.json"), "utf8"));
    for (const row of figures.categories) {
      const stated = report.categories.find((c: { category: string }) => c.category === row.category);
      for (const [field, value] of Object.entries(row))
        expect([row.category, field, value]).toEqual([row.category, field, stated[field]]);
    }
    for (const row of figures.service_classes) {
      const stated = report.service_classes.find(
        (s: { service_class: string }) => s.service_class === row.service_class,
      );
      for (const [field, value] of Object.entries(row))
        expect([field, value]).toEqual([field, stated[field]]);
    }
    // What the rule gives: only the first hour of the extended window, and payment_request's hour of
    // the widened one, are excluded; the moved window and every late part count.
    const row = (c: string) => figures.categories.find((r) => r.category === c)!;
    expect(row("payment_request")).toMatchObject({ excluded: 24, successful: 8616 - 120 - 168 });
    expect(row("settlements")).toMatchObject({ excluded: 12, successful: 8628 - 120 - 168 - 12 });
    expect(figures.service_classes[0]).toMatchObject({ credit_pct: 25 });
    const parts = report.maintenance.windows.map(
      (w: { id: string; start: string; reason: string | null }) => [w.id, w.start, w.reason],
    );
    expect(parts).toEqual(
      expect.arrayContaining([
        ["sp-moved", "2026-11-15T02:00:00.000Z", "late_notice"],
        ["sp-extended", "2026-11-10T00:00:00.000Z", null],
        ["sp-extended", "2026-11-10T01:00:00.000Z", "late_notice"],
      ]),
    );
    // The naive computation excludes the moved window and the whole extension: different figures.
    for (const naive of naiveFigures()) {
      const recomputed = row(naive.category);
      expect(naive.excluded).toBeGreaterThan(recomputed.excluded);
      expect(naive.availability_pct).toBeGreaterThan(recomputed.availability_pct! + 3);
    }
  });

  it("a request of the late move claimed as maintenance is disputed (exit 1)", () => {
    const copy = join(dir, "claimed-maintenance");
    cpSync(bundle, copy, { recursive: true });
    const file = join(copy, "classification.ndjson");
    const lines = readFileSync(file, "utf8").split("\n");
    const i = lines.findIndex((l) => l.includes('"ts":"2026-11-15T05:00:00.000Z"'));
    lines[i] = lines[i]!.replace('"verdict":"counted"', '"verdict":"maintenance","by":"sp-moved"');
    writeFileSync(file, lines.join("\n"));
    const run = recompute(copy);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "2026-11-15T05:00:00.000Z payment_request-read: excluded by maintenance sp-moved, which does not qualify for it at this time",
    );
  });

  it("a maintenance.json whose history leaves out the late move is named by recompute.py and verify --bundle (exit 1)", () => {
    const copy = join(dir, "edited-history");
    cpSync(bundle, copy, { recursive: true });
    const file = join(copy, "maintenance.json");
    const maintenance = JSON.parse(readFileSync(file, "utf8"));
    const moved = maintenance.feed_windows.find((w: { providerId: string }) => w.providerId === "sp-moved");
    expect(moved.history).toHaveLength(2);
    moved.history.pop();
    writeFileSync(file, JSON.stringify(maintenance));
    const run = recompute(copy);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "maintenance.json feed window sp-moved: its history is not the versions the maintenance observations of inputs.ndjson give",
    );
    const intact = slo(["verify", "--bundle", "bundle"], dir);
    expect(intact.code, intact.stdout + intact.stderr).toBe(0);
    const verified = slo(["verify", "--bundle", "edited-history"], dir);
    expect(verified.code).toBe(1);
    expect(verified.stdout + verified.stderr).toContain(
      "feed window sp-moved: its history is not the versions its maintenance observations in inputs.ndjson give",
    );
  });

  it("an observation edited in inputs.ndjson no longer matches its hash (exit 1)", () => {
    const copy = join(dir, "edited-observation");
    cpSync(bundle, copy, { recursive: true });
    const file = join(copy, "inputs.ndjson");
    const lines = readFileSync(file, "utf8").split("\n");
    const i = lines.findIndex((l) => l.includes('"2026-11-15T13:00:00.000Z"') && l.includes("sp-moved"));
    expect(i).toBeGreaterThanOrEqual(0);
    lines[i] = lines[i]!.replace('"ts":"2026-11-15T13:00:00.000Z"', '"ts":"2026-11-01T13:00:00.000Z"');
    writeFileSync(file, lines.join("\n"));
    const run = recompute(copy);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`inputs.ndjson:${i + 1}: its content does not match its hash`);
  });
});
