import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { effectiveConfiguration } from "../../src/config/fingerprint.js";
import { loadConfig } from "../../src/config/index.js";
import type { ProbeResult } from "../../src/model/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { recompute } from "../support/recompute.js";

/**
 * Contract section 14, a change never reaches back (issue 24, attack round 12). An agent restarted
 * with its clock set back a month chains records dated before those already in its log. Before,
 * a maintenance window such a run loaded (declared in slo.yaml, or read from the feed) counted as
 * seen on that false date: announced weeks ahead, it qualified, and a 10-hour outage was excluded
 * by the report, recompute.py and verify --bundle alike. An input now counts as seen no earlier
 * than the newest input chained before it.
 */

const at = (iso: string) => Date.parse(iso);
const MONTH = "2026-11";
/** What the windows cover: the provider's 503s. */
const DECLARED = { from: at("2026-11-15T02:00:00Z"), to: at("2026-11-15T12:00:00Z") };
const FEED = { from: at("2026-11-16T00:00:00Z"), to: at("2026-11-16T06:00:00Z") };

const slo_yaml = (windows: string) => `version: 1
agent: {id: probe-eu-1, region: eu, listen: 127.0.0.1:0, data_dir: ./data, retention_days: 36500}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.5}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
maintenance:
  policy: {min_notice_days: 7, max_occasions_per_year: 6, max_hours_per_year: 40}
  windows: ${windows}
targets:
  klarna: {base_url: "http://127.0.0.1:9", environment: simulator, auth: {type: none}}
probes:
  - {id: payment_request-read, category: payment_request, target: klarna, every: 5m, method: GET, path: /p, timeout_ms: 10000}
`;
const WITH_WINDOW = slo_yaml(
  `[{id: mw1, start: "2026-11-15T02:00:00Z", end: "2026-11-15T12:00:00Z", announced_at: "2026-10-01T00:00:00Z", categories: [payment_request]}]`,
);

function november(): ProbeResult[] {
  const results: ProbeResult[] = [];
  for (let ts = at("2026-11-01T00:00:00Z"); ts < at("2026-12-01T00:00:00Z"); ts += 300_000) {
    const down = [DECLARED, FEED].some((o) => ts >= o.from && ts < o.to);
    results.push({
      ts,
      probe: "payment_request-read",
      category: "payment_request",
      status: down ? 503 : 200,
      durationMs: 40,
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  return results;
}

let dir: string;

/** One run of the agent's store at `now`: `record` what that run did, then close it (a restart). */
function run(now: string, record: (store: ReturnType<typeof openEvidenceStore>) => void): void {
  const store = openEvidenceStore({ dataDir: join(dir, "data"), clock: new FakeClock(at(now)) });
  try {
    record(store);
  } finally {
    store.close();
  }
}

/**
 * A directory with the configuration loaded first (first.yaml, no window) and the one loaded by the
 * agent whose clock was wrong (slo.yaml, with mw1), both loaded.
 */
async function twoConfigs(prefix: string) {
  const where = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(where, "first.yaml"), slo_yaml("[]"));
  writeFileSync(join(where, "slo.yaml"), WITH_WINDOW);
  const first = (await loadConfig(join(where, "first.yaml"), { probing: false })).config;
  const second = (await loadConfig(join(where, "slo.yaml"), { probing: false })).config;
  return { dir: where, first, second };
}

beforeAll(async () => {
  const made = await twoConfigs("slo-clock-back-");
  dir = made.dir;
  const { first, second } = made;
  // The honest run: loaded on 11-12 with no window.
  run("2026-11-12T00:00:00Z", (store) => store.recordInput("config", effectiveConfiguration(first)));
  // The agent restarted with its clock set back to 10-01: it loads mw1 (announced_at 10-01) and
  // reads a feed window, both then, by its clock.
  run("2026-10-01T00:00:00Z", (store) => {
    store.recordInput("config", effectiveConfiguration(second));
    store.feedWindows.observe(
      [
        {
          providerId: "sp-back",
          name: "Maintenance sp-back",
          start: FEED.from,
          end: FEED.to,
          providerCreatedAt: at("2026-09-30T00:00:00Z"),
          categories: "all",
          cancelled: false,
          digest: "b1",
        },
      ],
      at("2026-10-01T00:00:00Z"),
    );
  });
  run("2026-12-02T00:00:00Z", (store) => store.importResults(november()));
  const exported = slo(["evidence", "export", "--month", MONTH, "--out", "bundle"], dir);
  if (exported.code !== 0) throw new Error(exported.stderr);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("inputs chained by an agent whose clock was set back (issue 24, attack round 12)", {
  timeout: 180_000,
}, () => {
  it("count from the newest input before them: neither window has its notice, and the outage counts", () => {
    const made = slo(["report", "--month", MONTH, "--format", "json"], dir);
    expect(made.code, made.stderr).toBe(0);
    const report = JSON.parse(made.stdout);
    const windows = report.maintenance.windows.map(
      (w: { id: string; qualified: boolean; reason: string | null; announced_at: string }) => [
        w.id,
        w.qualified,
        w.reason,
        w.announced_at,
      ],
    );
    // Seen no earlier than 11-12 (the honest run's configuration): 3 and 4 days' notice, not 7.
    expect(windows).toEqual(
      expect.arrayContaining([
        ["mw1", false, "late_notice", "2026-11-12T00:00:00.000Z"],
        [expect.stringContaining("sp-back"), false, "late_notice", "2026-11-12T00:00:00.000Z"],
      ]),
    );
    const pay = report.categories.find((c: { category: string }) => c.category === "payment_request");
    expect(pay.excluded).toBe(0);
    expect(pay.requests - pay.successful).toBe(120 + 72);
  });

  it("recompute.py and verify --bundle give the same", () => {
    const run = recompute(join(dir, "bundle"));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const figures = JSON.parse(run.stdout);
    const report = JSON.parse(readFileSync(join(dir, "bundle", "report.json"), "utf8"));
    const pay = (rows: { category: string }[]) => rows.find((r) => r.category === "payment_request");
    expect(pay(figures.categories)).toMatchObject({ excluded: 0 });
    expect(pay(figures.categories)).toEqual(
      Object.fromEntries(
        Object.entries(pay(report.categories)!).filter(([k]) => k in pay(figures.categories)!),
      ),
    );
    const verified = slo(["verify", "--bundle", "bundle"], dir);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });
});

/**
 * Attack round 13: the agent killed (no run end, no input after its last results) and restarted
 * with the clock set back. The log's newest input was the configuration loaded on 11-01, two weeks
 * before the outage; its newest result was from 11-14. A window loaded by the restarted agent is
 * dated no earlier than that result (the writer holds such inputs to everything already in the
 * log), so it is late, not announced 14 days ahead.
 */
describe("an input written after a crash by an agent whose clock was set back (issue 24, attack round 13)", {
  timeout: 180_000,
}, () => {
  let crashed: string;

  beforeAll(async () => {
    const made = await twoConfigs("slo-clock-back-crash-");
    crashed = made.dir;
    const { first, second } = made;
    const open = (now: string) =>
      openEvidenceStore({ dataDir: join(crashed, "data"), clock: new FakeClock(at(now)) });
    const all = november();
    const honest = open("2026-11-01T00:00:00Z");
    honest.recordInput("config", effectiveConfiguration(first));
    for (const result of all.filter((r) => r.ts < at("2026-11-14T00:00:00Z"))) honest.record(result);
    honest.close();
    const back = open("2026-10-01T00:00:00Z");
    back.recordInput("config", effectiveConfiguration(second));
    back.close();
    const later = open("2026-12-02T00:00:00Z");
    later.importResults(all.filter((r) => r.ts >= at("2026-11-14T00:00:00Z")));
    later.close();
  }, 180_000);

  afterAll(() => {
    if (crashed) rmSync(crashed, { recursive: true, force: true });
  });

  it("the window counts from the newest result before it: late, and the outage counts", () => {
    const made = slo(["report", "--month", MONTH, "--format", "json"], crashed);
    expect(made.code, made.stderr).toBe(0);
    const report = JSON.parse(made.stdout);
    const mw1 = report.maintenance.windows.find((w: { id: string }) => w.id === "mw1");
    expect(mw1).toMatchObject({ qualified: false, reason: "late_notice" });
    expect(Date.parse(mw1.announced_at)).toBeGreaterThanOrEqual(at("2026-11-13T23:55:00Z"));
    const pay = report.categories.find((c: { category: string }) => c.category === "payment_request");
    expect(pay.excluded).toBe(0);
  });
});

/**
 * A clock set ahead once (attack round 13): the configuration written then is dated after the
 * report is made, and every input after it counts from that date. The report says so.
 */
describe("an input dated ahead of the report (a clock set ahead)", { timeout: 180_000 }, () => {
  let ahead: string;

  beforeAll(async () => {
    ahead = mkdtempSync(join(tmpdir(), "slo-clock-ahead-"));
    writeFileSync(join(ahead, "slo.yaml"), slo_yaml("[]"));
    const config = (await loadConfig(join(ahead, "slo.yaml"), { probing: false })).config;
    const store = openEvidenceStore({
      dataDir: join(ahead, "data"),
      clock: new FakeClock(Date.now() + 40 * 86_400_000),
    });
    store.recordInput("config", effectiveConfiguration(config));
    store.close();
  });

  afterAll(() => {
    if (ahead) rmSync(ahead, { recursive: true, force: true });
  });

  it("is named in the report's warnings, with its seq and date", () => {
    const made = slo(["report", "--month", new Date().toISOString().slice(0, 7), "--format", "json"], ahead);
    expect(made.code, made.stderr).toBe(0);
    const warnings = JSON.parse(made.stdout).warnings as string[];
    expect(warnings.filter((w) => w.includes("out of time"))).toEqual([
      expect.stringMatching(
        /^1 input record of the evidence log is out of time, the first at input seq 1, dated .*, after this report was made/,
      ),
    ]);
  });
});

/**
 * Attack round 14: the wall clock stepped back 40 s under a running agent dated new results at the
 * milliseconds of stored ones, and the store's (ts, probe) uniqueness dropped them without a word:
 * 10 of 30 failures vanished. A live result is never a repeat: it is kept a millisecond later.
 */
describe("a live result dated at a stored result's millisecond (a clock stepped back)", () => {
  it("is kept, a millisecond later, with its own outcome", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "slo-clock-step-"));
    try {
      const ts = at("2026-11-15T02:00:00.123Z");
      const result = (status: number): ProbeResult => ({
        ts,
        probe: "payment_request-read",
        category: "payment_request",
        status,
        durationMs: 40,
        error: null,
        errorCode: null,
        correlationId: null,
      });
      const store = openEvidenceStore({ dataDir, clock: new FakeClock(ts + 60_000) });
      store.record(result(200));
      store.flush();
      store.record(result(503));
      store.record(result(503));
      store.flush();
      const stored = [...store.results({ from: ts, to: ts + 1_000 })].map((r) => [r.ts - ts, r.status]);
      store.close();
      expect(stored).toEqual([
        [0, 200],
        [1, 503],
        [2, 503],
      ]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * Attack round 14: a run with the clock a day ahead, killed before its first result, dated a
 * configuration a day late; every input after it counted from that date, and a report made after
 * that date said nothing. The honest run's start, chained after it with the right time, shows the
 * clock was wrong; so does a run's start dated before the records chained ahead of it.
 */
describe("inputs the chain shows were dated by a wrong clock, either way (attack round 14)", () => {
  it("are named in the report's warnings, with the way the clock was wrong", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "slo-clock-order-"));
    const warningsOf = () => {
      const made = slo(
        ["report", "--month", new Date().toISOString().slice(0, 7), "--format", "json"],
        dataDir,
      );
      expect(made.code, made.stderr).toBe(0);
      return (JSON.parse(made.stdout).warnings as string[]).filter((w) => w.includes("out of time"));
    };
    try {
      writeFileSync(join(dataDir, "slo.yaml"), slo_yaml("[]"));
      const config = (await loadConfig(join(dataDir, "slo.yaml"), { probing: false })).config;
      const t0 = Date.now() - 10 * 86_400_000;
      const run = (now: number, what: (store: ReturnType<typeof openEvidenceStore>) => void) => {
        const store = openEvidenceStore({ dataDir: join(dataDir, "data"), clock: new FakeClock(now) });
        what(store);
        store.close();
      };
      const probeRun = (now: number) => (store: ReturnType<typeof openEvidenceStore>) => {
        store.startRun(now);
        store.record({ ...november()[0]!, ts: now });
        store.flush();
      };
      // A day ahead, killed before any result: only its configuration is written.
      run(t0 + 86_400_000, (store) => store.recordInput("config", effectiveConfiguration(config)));
      run(t0, probeRun(t0));
      // The configuration, and the honest run's start chained after it (which of the two clocks was
      // wrong the chain cannot say; the first is named, with the way it is out).
      expect(warningsOf()).toEqual([
        expect.stringMatching(
          /^2 input records of the evidence log are out of time, the first at input seq 1, dated .*, after an input chained after it: the agent's clock was wrong for one of the two \(set ahead when this one was written, or set back when the later one was\)/,
        ),
      ]);
      // Then a run whose clock is a month behind: its start is dated before what is chained ahead of it.
      run(t0 - 30 * 86_400_000, probeRun(t0 - 30 * 86_400_000));
      expect(warningsOf()).toEqual([
        expect.stringMatching(
          /^3 input records of the evidence log are out of time, the first at input seq 1/,
        ),
      ]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
