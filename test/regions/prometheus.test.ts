/**
 * Three agents (eu, na, oc), each against its own simulator with its own latency, oc's settlements
 * down (every request answered 503), and one real Prometheus scraping all three every second.
 * `report --prometheus` must agree with the agents' own stores within the precision it states:
 * counts within the requests increase() cannot see (before a series' first scrape, after the last
 * one), and each p99 inside the bucket range those count errors allow.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { monthOf } from "../../src/model/time.js";
import { parseLe, quantileBucket } from "../../src/reports/prometheus-buckets.js";
import type { PrometheusMonthReport } from "../../src/reports/prometheus-month.js";
import { renderPrometheusReport } from "../../src/reports/prometheus-render.js";
import { nearestRankPercentile } from "../../src/slo/percentile.js";
import {
  eventually,
  freePort,
  instantQuery,
  type Running,
  sleep,
  startProcess,
  startPrometheus,
} from "../export/live-processes.js";

const execFileAsync = promisify(execFile);
const REPO = join(import.meta.dirname, "../..");
const CLI = join(REPO, "dist/cli/main.js");
const SECOND = 1000;
const EVERY_MS = 250;
const SCRAPE_MS = 1000;
const RUN_MS = 8 * SECOND;

/** Median latencies sit just above a bucket bound, so jitter stays inside one bucket. */
const AGENTS = [
  { region: "eu", latencyMs: 105, settlementsErrors: 0 },
  { region: "na", latencyMs: 210, settlementsErrors: 0 },
  { region: "oc", latencyMs: 520, settlementsErrors: 1 },
] as const;
const CATEGORIES = ["payment_request", "settlements"] as const;

interface StoreRow {
  category: string;
  requests: number;
  successful: number;
  latency_p99_ms: number | null;
}

let dir: string;
const agents: Running[] = [];
let prometheus: { url: string; process: Running } | null = null;
let month: string;
let fromPrometheus: PrometheusMonthReport;
const stores = new Map<string, StoreRow[]>();

function writeAgent(region: string, latencyMs: number, settlementsErrors: number): string {
  const home = join(dir, region);
  mkdirSync(home);
  // Probe ids differ per agent, so the pooled raw results below never collide.
  const probe = (id: string, category: string, path: string) =>
    `  - {id: ${id}-${region}, category: ${category}, target: klarna, every: 30s, path: "${path}", timeout_ms: 5000}`;
  writeFileSync(
    join(home, "slo.yaml"),
    [
      "version: 1",
      // This suite compares Prometheus' aggregation with the stores; on a loaded CI box the stall
      // guard would flag results as agent_error between scrapes and blur that comparison.
      `agent: {region: ${region}, id: agent-${region}, listen: 127.0.0.1:0, data_dir: ./evidence, max_stall_ms: 1000}`,
      "service_classes:",
      "  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}",
      "  transaction_non_critical: {title: Transactions Non-critical Services, availability_target_pct: 99.0}",
      "categories:",
      "  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 150}",
      "  settlements: {title: Settlements, service_class: transaction_non_critical, latency_p99_ms: 6000}",
      "targets:",
      `  klarna: {base_url: "http://127.0.0.1:9", environment: simulator}`,
      "probes:",
      probe(
        "payment-request-read",
        "payment_request",
        "/payments/v1/sessions/00000000-0000-0000-0000-000000000000",
      ),
      probe(
        "settlements-payout-summary",
        "settlements",
        "/settlements/v1/payouts/summary?start_date=2026-01-01T00:00:00Z&end_date=2026-01-02T00:00:00Z",
      ),
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(home, "scenario.yaml"),
    [
      "version: 1",
      `name: ${region}`,
      `default: {latency: {median_ms: ${latencyMs}, sigma: 0}}`,
      `categories: {settlements: {error_rate: ${settlementsErrors}}}`,
      "",
    ].join("\n"),
  );
  return home;
}

/** `node dist/cli/main.js ARGS`: its exit status and output (several may run side by side). */
async function cli(args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], {
      cwd: REPO,
      timeout: 60 * SECOND,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { status: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "slo-regions-prometheus-"));
  const homes = AGENTS.map((a) => writeAgent(a.region, a.latencyMs, a.settlementsErrors));
  // Prometheus first, on ports picked now, so it scrapes each agent from its first results on.
  const targets = await Promise.all(AGENTS.map(async () => `127.0.0.1:${await freePort()}`));
  writeFileSync(join(dir, "rules.yml"), "groups: []\n");
  prometheus = await startPrometheus(dir, targets, join(dir, "rules.yml"));
  // Ready is not scraping: Prometheus hands its targets to the scrape loops some seconds after it
  // starts (service discovery updates are batched). Once every target has an `up` series (0: no
  // agent there yet), it scrapes each one every second, so it sees an agent's first results.
  await eventually(
    async () => {
      const answer = await instantQuery(prometheus!.url, "count(up)");
      const value = (answer.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1];
      return Number(value ?? 0) >= targets.length ? true : null;
    },
    30 * SECOND,
    "Prometheus scraping all three targets",
  );
  for (const [i, home] of homes.entries()) {
    agents.push(
      startProcess(
        process.execPath,
        [CLI, "demo", "--config", join(home, "slo.yaml"), "--scenario", join(home, "scenario.yaml")].concat([
          "--listen",
          targets[i]!,
          "--every",
          `${EVERY_MS}ms`,
        ]),
        REPO,
      ),
    );
  }
  await Promise.all(agents.map((a) => a.listening(60 * SECOND)));
  month = monthOf(Date.now());
  await sleep(RUN_MS);
  // Every agent has been scraped with results of both categories.
  await eventually(
    async () => {
      const answer = await instantQuery(prometheus!.url, "count(slo_probe_requests_total)");
      const value = (answer.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1];
      return Number(value ?? 0) >= AGENTS.length * CATEGORIES.length ? true : null;
    },
    30 * SECOND,
    "both categories of all three agents in Prometheus",
  );
  // Stop the agents first, so the queries see every scrape there will be: what an agent recorded
  // after its last scrape is what increase() cannot see.
  await Promise.all(
    agents.map(async (agent, i) => {
      await agent.stop();
      stoppedAt.set(AGENTS[i]!.region, Date.now());
    }),
  );
  for (const [i, a] of AGENTS.entries()) scrapes.set(a.region, await scrapesOf(targets[i]!));
  const report = await cli(
    ["report", "--month", month, "--config", join(homes[0]!, "slo.yaml")].concat([
      "--prometheus",
      prometheus.url,
      "--format",
      "json",
    ]),
  );
  if (report.status !== 0) throw new Error(`report --prometheus failed: ${report.stderr}`);
  fromPrometheus = JSON.parse(report.stdout) as PrometheusMonthReport;
  const exact = await Promise.all(
    homes.map((home) =>
      cli(["report", "--month", month, "--config", join(home, "slo.yaml"), "--format", "json"]),
    ),
  );
  for (const [i, a] of AGENTS.entries()) {
    const store = exact[i]!;
    if (store.status !== 0) throw new Error(`report on ${a.region}'s store failed: ${store.stderr}`);
    stores.set(a.region, (JSON.parse(store.stdout) as { categories: StoreRow[] }).categories);
  }
}, 180 * SECOND);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await prometheus?.process.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60 * SECOND);

/** How Prometheus scraped an agent: its last successful scrape and the longest gap between two. */
interface Scrapes {
  readonly last: number;
  readonly longestGapMs: number;
}

/** Each agent's scrapes, and when it had stopped (epoch ms), keyed by region. */
const scrapes = new Map<string, Scrapes>();
const stoppedAt = new Map<string, number>();

/**
 * The stated count precision at this time scale: per series (one per status class), the requests
 * of a scrape interval before its first scrape, plus those after the last scrape before the stop.
 * The intervals are the ones Prometheus kept, not the configured second: on a loaded machine a
 * scrape comes late, and the agent stops some time after its last one.
 */
function countTolerance(region: string, series: number): number {
  const { last, longestGapMs } = scrapes.get(region)!;
  const perScrape = Math.max(SCRAPE_MS, longestGapMs) / EVERY_MS;
  const afterLast = Math.max(0, stoppedAt.get(region)! - last) / EVERY_MS;
  return series * (perScrape + 1) + perScrape + afterLast + 1;
}

/**
 * The raw samples of `up` for an agent (a range selector in an instant query returns them with
 * their own timestamps): the last one that is 1 is the last scrape that read the agent's figures.
 */
async function scrapesOf(target: string): Promise<Scrapes> {
  const answer = await instantQuery(prometheus!.url, `up{instance="${target}"}[10m]`);
  const series = answer.data?.result[0] as { values?: [number, string][] } | undefined;
  const up = (series?.values ?? []).filter(([, value]) => value === "1").map(([at]) => at * SECOND);
  if (up.length === 0) throw new Error(`Prometheus never scraped ${target}`);
  const gaps = up.slice(1).map((at, i) => at - up[i]!);
  return { last: up[up.length - 1]!, longestGapMs: Math.max(0, ...gaps) };
}

/**
 * Raw durations of an agent's responded requests of a category that Prometheus saw for certain:
 * ended well before its last scrape of that agent (the prober hands results over in 50 ms
 * batches). A slow request that ended after it, while the agent stopped, is one of the requests
 * the stated count precision allows for, and with a few dozen results it alone would be the p99.
 */
function seenDurations(region: string, category: string): number[] {
  const db = new Database(join(dir, region, "evidence", "evidence.sqlite"), { readonly: true });
  // A result the agent's stall guard flagged (agent_error) is excluded, in the stores and in Prometheus.
  const rows = db
    .prepare(
      "SELECT duration_ms FROM results WHERE category = ? AND (flags IS NULL OR instr(flags, 'agent_error') = 0)" +
        " AND ts + duration_ms < ?",
    )
    .all(category, scrapes.get(region)!.last - 250) as { duration_ms: number }[];
  db.close();
  return rows.map((r) => r.duration_ms);
}

function sortedDurations(durations: number[]): Float64Array {
  return Float64Array.from(durations.sort((x, y) => x - y));
}

/** The number of results of a category an agent's store counts (those not flagged agent_error). */
function storedCount(region: string, category: string): number {
  const db = new Database(join(dir, region, "evidence", "evidence.sqlite"), { readonly: true });
  const row = db
    .prepare(
      "SELECT count(*) AS n FROM results WHERE category = ? AND (flags IS NULL OR instr(flags, 'agent_error') = 0)",
    )
    .get(category) as { n: number };
  db.close();
  return row.n;
}

/** The p99 bucket range Prometheus' buckets allow when the total may be off by `tolerance`. */
async function p99Range(category: string, region: string | null, tolerance: number) {
  const selector = region === null ? `category="${category}"` : `category="${category}",region="${region}"`;
  const answer = await instantQuery(
    prometheus!.url,
    `sum by (le) (last_over_time(slo_probe_duration_seconds_bucket{${selector}}[10m]))`,
  );
  const buckets = new Map(
    (answer.data!.result as unknown as { metric: { le: string }; value: [number, string] }[]).map((s) => [
      parseLe(s.metric.le)!,
      Number(s.value[1]),
    ]),
  );
  const total = buckets.get(Number.POSITIVE_INFINITY)!;
  const low = quantileBucket(buckets, Math.max(0, (0.99 * total - tolerance) / total))!;
  const high = quantileBucket(buckets, Math.min(1, (0.99 * total + tolerance) / total))!;
  return { lower: low.lower, upper: high.upper ?? Number.POSITIVE_INFINITY };
}

describe("three agents under one real Prometheus: report --prometheus", { timeout: 60 * SECOND }, () => {
  it("says where its figures come from and states its precision", () => {
    expect(fromPrometheus.source).toMatchObject({ kind: "prometheus", url: prometheus!.url });
    expect(fromPrometheus.notice).toMatch(/come from Prometheus/);
    expect(fromPrometheus.precision.map((p) => p.figure)).toEqual(
      expect.arrayContaining(["requests, successful", "latency p99", "exclusions"]),
    );
    const md = renderPrometheusReport(fromPrometheus, "md");
    expect(md).toMatch(/^# SLA figures for \d{4}-\d{2} from Prometheus \(approximate\)/);
    expect(md).toContain("## Precision: how these figures differ from the store-based report");
    // The month of the run is still running: its figures may change, and every format says so.
    expect(fromPrometheus.preliminary).toBe(true);
    expect(md).toContain("> **PRELIMINARY:** the month has not ended; these figures run to");
    // Requests, none successful, the excluded (outside the requests), no availability.
    expect(md).toMatch(/\| \| oc \| [\d.]+ \| 0\.0 \| [\d.]+ \| 0\.000 % \|/);
    expect(md).toContain("| requests | successful | excluded (not in requests) | availability |");
  });

  for (const category of CATEGORIES) {
    it(`${category}: each region's counts and p99 agree with that agent's store within the stated precision`, async () => {
      const row = fromPrometheus.categories.find((c) => c.category === category)!;
      expect(row.regions.map((r) => r.region)).toEqual(AGENTS.map((a) => a.region));
      for (const a of AGENTS) {
        const exact = stores.get(a.region)!.find((c) => c.category === category)!;
        const approx = row.regions.find((r) => r.region === a.region)!;
        const tolerance = countTolerance(
          a.region,
          a.settlementsErrors > 0 && category === "settlements" ? 2 : 1,
        );
        expect(Math.abs(approx.requests - exact.requests), `${a.region} R`).toBeLessThanOrEqual(tolerance);
        expect(Math.abs(approx.successful - exact.successful), `${a.region} SR`).toBeLessThanOrEqual(
          tolerance,
        );
        const seen = sortedDurations(seenDurations(a.region, category));
        expect(exact.requests - seen.length, `${a.region} seen`).toBeLessThanOrEqual(tolerance);
        const seenP99 = nearestRankPercentile(seen, 99)!;
        const range = await p99Range(category, a.region, tolerance);
        expect(seenP99, `${a.region} p99`).toBeGreaterThanOrEqual(range.lower);
        expect(seenP99, `${a.region} p99`).toBeLessThanOrEqual(range.upper * 1.001);
        expect(approx.latency_p99_ms!).toBeGreaterThanOrEqual(approx.latency_p99_bucket_ms!.lower);
      }
    });

    it(`${category}: all regions pooled agree with the agents' raw results pooled`, async () => {
      const row = fromPrometheus.categories.find((c) => c.category === category)!;
      const exactRows = AGENTS.map((a) => stores.get(a.region)!.find((c) => c.category === category)!);
      const tolerance = AGENTS.reduce((sum, a) => sum + countTolerance(a.region, 2), 0);
      const requests = exactRows.reduce((sum, r) => sum + r.requests, 0);
      const successful = exactRows.reduce((sum, r) => sum + r.successful, 0);
      expect(Math.abs(row.requests - requests)).toBeLessThanOrEqual(tolerance);
      expect(Math.abs(row.successful - successful)).toBeLessThanOrEqual(tolerance);
      expect(AGENTS.reduce((sum, a) => sum + storedCount(a.region, category), 0)).toBe(requests);
      const durations = sortedDurations(AGENTS.flatMap((a) => seenDurations(a.region, category)));
      expect(requests - durations.length).toBeLessThanOrEqual(tolerance);
      const exactP99 = nearestRankPercentile(durations, 99)!;
      const range = await p99Range(category, null, tolerance);
      expect(exactP99).toBeGreaterThanOrEqual(range.lower);
      expect(exactP99).toBeLessThanOrEqual(range.upper * 1.001);
    });
  }

  it("the outage in oc shows in oc alone, and pooled availability is a ratio of sums", () => {
    const settlements = fromPrometheus.categories.find((c) => c.category === "settlements")!;
    const byRegion = new Map(settlements.regions.map((r) => [r.region, r]));
    expect(byRegion.get("eu")!.availability_pct).toBe(100);
    expect(byRegion.get("na")!.availability_pct).toBe(100);
    expect(byRegion.get("oc")!.availability_pct).toBe(0);
    const pooled = (settlements.successful / settlements.requests) * 100;
    expect(settlements.availability_pct).toBeCloseTo(pooled, 9);
    expect(settlements.availability_met).toBe(false);
    const payment = fromPrometheus.categories.find((c) => c.category === "payment_request")!;
    // 150 ms objective: na (210 ms) and oc (520 ms) miss it, so the regions pooled do too.
    expect(payment.latency_met).toBe(false);
  });
});
