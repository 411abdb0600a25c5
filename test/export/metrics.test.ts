import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { createSloMetrics, type SloMetrics } from "../../src/export/metrics.js";
import { exposedSeriesNames, METRIC } from "../../src/export/names.js";
import { type MetricsServer, startMetricsServer } from "../../src/export/server.js";
import { DIAGNOSTIC_CATEGORY, type ProbeResult } from "../../src/model/result.js";
import type { CategorySnapshot, SloSnapshot } from "../../src/model/snapshot.js";
import { LatencyHistogram, meetsLatencyObjective, stepFloorMs } from "../../src/slo/index.js";
import { fixtureConfig } from "../support/slo-config.js";
import { parseExposition, promtoolCheckMetrics, samplesOf } from "./exposition.js";

const T0 = Date.UTC(2026, 9, 1);

function result(overrides: Partial<ProbeResult>): ProbeResult {
  return {
    ts: T0,
    probe: "payment-request-read",
    category: "payment_request",
    status: 200,
    durationMs: 120,
    error: null,
    errorCode: null,
    correlationId: null,
    ...overrides,
  };
}

let open: { metrics: SloMetrics; server: MetricsServer }[] = [];

async function serve(
  config = fixtureConfig(),
): Promise<{ metrics: SloMetrics; scrape: () => Promise<string> }> {
  const metrics = await createSloMetrics({ config });
  const server = await startMetricsServer({ host: "127.0.0.1", port: 0, metrics, ready: () => true });
  open.push({ metrics, server });
  return { metrics, scrape: async () => (await fetch(`${server.url}/metrics`)).text() };
}

afterEach(async () => {
  for (const { metrics, server } of open) {
    await server.close();
    await metrics.shutdown();
  }
  open = [];
});

describe("probe results on /metrics", () => {
  const outcomes: [string, Partial<ProbeResult>, string, string][] = [
    ["2xx is served", { status: 200 }, "2xx", "served"],
    ["3xx is served", { status: 302 }, "3xx", "served"],
    ["4xx is served (the caller's fault)", { status: 404 }, "4xx", "served"],
    ["5xx is failed", { status: 503 }, "5xx", "failed"],
    ["no response is failed with status_class none", { status: null, error: "timeout" }, "none", "failed"],
  ];
  for (const [rule, fields, statusClass, outcome] of outcomes) {
    it(rule, async () => {
      const { metrics, scrape } = await serve();
      metrics.recordResult(result(fields));
      const samples = parseExposition(await scrape());
      expect(samplesOf(samples, METRIC.probeRequests)).toEqual([
        {
          name: METRIC.probeRequests,
          labels: {
            region: "eu",
            agent: "test-agent",
            category: "payment_request",
            service_class: "transaction_critical",
            probe: "payment-request-read",
            status_class: statusClass,
            outcome,
          },
          value: 1,
        },
      ]);
    });
  }

  it("a request inside a declared exclusion counts under outcome excluded and stays out of the histogram", async () => {
    const config = fixtureConfig({
      exclusions: [
        {
          id: "fm-1",
          start: T0,
          end: T0 + 60_000,
          reason: "acquirer outage",
          categories: ["payment_request"],
        },
      ],
    });
    const { metrics, scrape } = await serve(config);
    metrics.recordResult(result({ ts: T0 + 1000, status: 503 }));
    metrics.recordResult(result({ ts: T0 + 60_000, status: 503 }));
    const samples = parseExposition(await scrape());
    expect(samplesOf(samples, METRIC.probeRequests, { outcome: "excluded" })[0]?.value).toBe(1);
    expect(samplesOf(samples, METRIC.probeRequests, { outcome: "failed" })[0]?.value).toBe(1);
    expect(samplesOf(samples, `${METRIC.probeDuration}_count`)[0]?.value).toBe(1);
  });

  const maintenance: [string, number, number][] = [
    ["a request inside announced, qualifying maintenance is excluded", 8, 1],
    ["a request inside maintenance announced too late (under 7 days) is not excluded", 2, 0],
  ];
  for (const [rule, noticeDays, excluded] of maintenance) {
    it(rule, async () => {
      const window = {
        id: "mw-1",
        start: T0,
        end: T0 + 3_600_000,
        announcedAt: T0 - noticeDays * 86_400_000,
        categories: "all" as const,
      };
      const config = fixtureConfig({
        maintenance: {
          policy: { minNoticeDays: 7, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
          windows: [window],
        },
      });
      const { metrics, scrape } = await serve(config);
      metrics.recordResult(result({ ts: T0 + 60_000, status: 503 }));
      const samples = parseExposition(await scrape());
      expect(samplesOf(samples, METRIC.probeRequests, { outcome: "excluded" }).length).toBe(excluded);
    });
  }

  const codes: [string, string, string][] = [
    ["a catalogued vendor code is its own label", "NOT_FOUND", "NOT_FOUND"],
    [
      "a catalogued code in another case is the catalogue's spelling",
      "too_many_requests",
      "TOO_MANY_REQUESTS",
    ],
    ["an unknown vendor code counts as OTHER (bounded labels)", "SOMETHING_NEW_42", "OTHER"],
  ];
  for (const [rule, code, label] of codes) {
    it(rule, async () => {
      const { metrics, scrape } = await serve();
      metrics.recordResult(result({ status: 404, errorCode: code }));
      const samples = parseExposition(await scrape());
      expect(samplesOf(samples, METRIC.vendorErrors).map((s) => s.labels.error_code)).toEqual([label]);
    });
  }

  it("a timeout enters the duration histogram at its timeout value; a connection error does not", async () => {
    const { metrics, scrape } = await serve();
    metrics.recordResult(result({ status: null, error: "timeout", durationMs: 10_000 }));
    metrics.recordResult(result({ status: null, error: "connect", durationMs: 3 }));
    const samples = parseExposition(await scrape());
    expect(samplesOf(samples, `${METRIC.probeDuration}_count`)[0]?.value).toBe(1);
    expect(samplesOf(samples, `${METRIC.probeDuration}_sum`)[0]?.value).toBe(10);
  });

  it("each latency objective is a bucket boundary, so 'under objective' is exact", async () => {
    const { metrics, scrape } = await serve();
    metrics.recordResult(result({ durationMs: 1500 }));
    metrics.recordResult(result({ durationMs: 1501 }));
    const samples = parseExposition(await scrape());
    expect(samplesOf(samples, `${METRIC.probeDuration}_bucket`, { le: "1.5" })[0]?.value).toBe(1);
  });

  it("phases are reported each on its own, and phases that did not happen are left out", async () => {
    const { metrics, scrape } = await serve();
    const phases = {
      dnsMs: null,
      connectMs: null,
      tlsMs: null,
      requestSentMs: 2,
      ttfbMs: 102,
      bodyEndMs: 110,
    };
    metrics.recordResult(result({ phases }));
    const samples = parseExposition(await scrape());
    const sums = Object.fromEntries(
      samplesOf(samples, `${METRIC.probePhase}_sum`).map((s) => [s.labels.phase, s.value]),
    );
    expect(sums).toEqual({ send: 0.002, wait: 0.1, receive: 0.008 });
  });

  it("phase and lateness histograms are per category: two probes of a category share their series", async () => {
    const config = fixtureConfig();
    const read = config.probes.find((p) => p.id === "payment-request-read")!;
    const { metrics, scrape } = await serve({
      ...config,
      probes: [...config.probes, { ...read, id: "payment-request-create" }],
    });
    const phases = {
      dnsMs: null,
      connectMs: null,
      tlsMs: null,
      requestSentMs: 2,
      ttfbMs: 102,
      bodyEndMs: 110,
    };
    metrics.recordResult(result({ probe: "payment-request-read", phases }));
    metrics.recordResult(result({ probe: "payment-request-create", phases }));
    metrics.recordLateness("payment-request-read", 5);
    metrics.recordLateness("payment-request-create", 15);
    const samples = parseExposition(await scrape());
    const wait = samplesOf(samples, `${METRIC.probePhase}_count`, { phase: "wait" });
    expect(wait.map((s) => [s.labels.category, s.labels.probe, s.value])).toEqual([
      ["payment_request", undefined, 2],
    ]);
    const lateness = samplesOf(samples, `${METRIC.scheduleLateness}_count`);
    expect(lateness.map((s) => [s.labels.category, s.labels.probe, s.value])).toEqual([
      ["payment_request", undefined, 2],
    ]);
  });

  it("every series carries the region and agent labels, and only names the agent declares appear", async () => {
    const { metrics, scrape } = await serve();
    metrics.recordResult(result({ status: 500, errorCode: "INTERNAL_SERVER_ERROR" }));
    metrics.recordResult(result({ status: null, error: "connect", flags: ["agent_error"] }), "agent_error");
    metrics.updateValidity([
      {
        probe: "payment-request-read",
        category: "payment_request",
        merchantSide: false,
        agentErrors: true,
        authFailed: false,
        unexpectedStatus: false,
      },
    ]);
    metrics.updateSnapshot(snapshotOf([category()]));
    metrics.setSelfMetrics({ storeHealthy: true, coverage: new Map([["payment-request-read", 1]]) });
    const samples = parseExposition(await scrape());
    const known = new Set([...exposedSeriesNames(), "target_info"]);
    expect(samples.filter((s) => !known.has(s.name)).map((s) => s.name)).toEqual([]);
    expect(
      samples.filter(
        (s) => s.name !== "target_info" && (s.labels.region !== "eu" || s.labels.agent !== "test-agent"),
      ),
    ).toEqual([]);
  });
});

function category(overrides: Partial<CategorySnapshot> = {}): CategorySnapshot {
  const figures = (window: "5m" | "month", availability: number | null) => ({
    window,
    requests: availability === null ? 0 : 100,
    served: availability === null ? 0 : availability * 100,
    excluded: 0,
    availability,
    // An HDR reading (the top of the 3-digit step of 256 ms), as the rolling windows give it.
    latencyP99Ms: availability === null ? null : 256.127,
    burnRate: availability === null ? null : (1 - availability) / 0.01,
  });
  return {
    category: "payment_request",
    serviceClass: "transaction_critical",
    availabilityTarget: 0.99,
    latencyObjectiveMs: 1500,
    windows: [figures("5m", 0.98), figures("month", null)],
    errorBudgetRemaining: 0.5,
    breach: { availability: true, latency: false },
    maintenanceActive: false,
    ...overrides,
  };
}

function snapshotOf(categories: CategorySnapshot[]): SloSnapshot {
  return { at: T0, categories };
}

describe("SLO gauges from the latest snapshot", () => {
  it("a p99 of exactly the objective is not above it: the gauge agrees with the report's verdict", async () => {
    const { metrics, scrape } = await serve();
    // The rolling windows read a p99 of exactly 20 ms as 20.015 ms (the top of its HDR step).
    const reading = LatencyHistogram.readingOf(20);
    expect(reading).toBeGreaterThan(20);
    const windows = category().windows.map((w) => ({ ...w, latencyP99Ms: reading }));
    metrics.updateSnapshot(snapshotOf([category({ latencyObjectiveMs: 20, windows })]));
    const samples = parseExposition(await scrape());
    const p99 = samplesOf(samples, METRIC.latencyP99, { window: "5m" })[0]!.value;
    const objective = samplesOf(samples, METRIC.latencyObjective, {})[0]!.value;
    // The alert rule's comparison, and meetsLatencyObjective's: met.
    expect(p99 > objective).toBe(false);
    expect(meetsLatencyObjective(reading, 20, "histogram")).toBe(true);
    // One step above the objective is above it in both.
    const above = LatencyHistogram.readingOf(20.02);
    expect(stepFloorMs(above) / 1000 > objective).toBe(true);
    expect(meetsLatencyObjective(above, 20, "histogram")).toBe(false);
  });

  it("report each window's figures in contract units (ratios and seconds)", async () => {
    const { metrics, scrape } = await serve();
    metrics.updateSnapshot(snapshotOf([category()]));
    const samples = parseExposition(await scrape());
    const value = (name: string, labels: Record<string, string> = {}) =>
      samplesOf(samples, name, labels)[0]?.value;
    expect(value(METRIC.availability, { window: "5m" })).toBe(0.98);
    expect(value(METRIC.availabilityTarget)).toBe(0.99);
    expect(value(METRIC.latencyP99, { window: "5m" })).toBe(0.256);
    expect(value(METRIC.latencyObjective)).toBe(1.5);
    expect(value(METRIC.burnRate, { window: "5m" })).toBeCloseTo(2);
    expect(value(METRIC.errorBudgetRemaining, { window: "month" })).toBe(0.5);
    expect(value(METRIC.breach, { slo: "availability" })).toBe(1);
    expect(value(METRIC.breach, { slo: "latency" })).toBe(0);
    expect(value(METRIC.maintenanceActive)).toBe(0);
  });

  it("a window with no traffic has no availability, p99 or burn-rate series (never a made-up 1)", async () => {
    const { metrics, scrape } = await serve();
    metrics.updateSnapshot(snapshotOf([category({ errorBudgetRemaining: null })]));
    const samples = parseExposition(await scrape());
    for (const name of [METRIC.availability, METRIC.latencyP99, METRIC.burnRate]) {
      expect(samplesOf(samples, name, { window: "month" })).toEqual([]);
    }
    expect(samplesOf(samples, METRIC.errorBudgetRemaining)).toEqual([]);
  });

  it("a newer snapshot replaces the older one", async () => {
    const { metrics, scrape } = await serve();
    metrics.updateSnapshot(snapshotOf([category({ maintenanceActive: false })]));
    metrics.updateSnapshot(snapshotOf([category({ maintenanceActive: true })]));
    const samples = parseExposition(await scrape());
    expect(samplesOf(samples, METRIC.maintenanceActive).map((s) => s.value)).toEqual([1]);
  });
});

describe("agent self-metrics", () => {
  it("skipped runs carry their reason, so a rate-limit pause is told apart from overload", async () => {
    const { metrics, scrape } = await serve();
    metrics.setSelfMetrics({
      skippedRuns: new Map([
        ["settlements-list", { overlap: 1, no_slot: 0, paused: 4, throttled: 0, refused: 0 }],
      ]),
    });
    const samples = parseExposition(await scrape());
    const byReason = Object.fromEntries(
      samplesOf(samples, METRIC.skippedRuns).map((s) => [s.labels.reason, s.value]),
    );
    expect(byReason).toEqual({ overlap: 1, no_slot: 0, paused: 4, throttled: 0, refused: 0 });
  });

  it("fields never set are not exported; set ones are, with the probe's category", async () => {
    const { metrics, scrape } = await serve();
    metrics.setSelfMetrics({ coverage: new Map([["settlements-list", 0.75]]) });
    metrics.setSelfMetrics({ bufferedResults: 3 });
    metrics.recordLateness("settlements-list", 40);
    const samples = parseExposition(await scrape());
    expect(samplesOf(samples, METRIC.coverage)).toEqual([
      {
        name: METRIC.coverage,
        labels: {
          region: "eu",
          agent: "test-agent",
          category: "settlements",
          service_class: "transaction_non_critical",
          probe: "settlements-list",
        },
        value: 0.75,
      },
    ]);
    expect(samplesOf(samples, METRIC.bufferedResults)[0]?.value).toBe(3);
    expect(samplesOf(samples, `${METRIC.scheduleLateness}_sum`)[0]?.value).toBe(0.04);
    for (const unset of [METRIC.storeHealthy, METRIC.alertQueueDepth, METRIC.skippedRuns]) {
      expect(samplesOf(samples, unset)).toEqual([]);
    }
  });
});

/** The fixture's probes plus a tls probe, a tcp probe and a two-step flow. */
function configWithKinds() {
  const base = fixtureConfig();
  const diagnostic = {
    category: DIAGNOSTIC_CATEGORY,
    target: null,
    writes: false,
    schedule: { kind: "every", intervalMs: 60_000 },
    timeoutMs: 1000,
    source: { file: "p.yaml", line: 1 },
  } as const;
  const step = (id: string, category: string) => ({
    id,
    category,
    method: "GET",
    path: "/",
    headers: {},
    body: null,
    extract: {},
  });
  return fixtureConfig({
    probes: [
      ...base.probes,
      { ...diagnostic, kind: "tls", id: "api-cert", host: "localhost", port: 443, minDays: 14, caFile: null },
      { ...diagnostic, kind: "tcp", id: "api-tcp", host: "localhost", port: 443 },
      {
        ...diagnostic,
        kind: "flow",
        id: "session-flow",
        category: "payment_request",
        target: "klarna",
        steps: [step("create", "payment_request"), step("read", "settlements")],
        finally: [],
        maxBodyBytes: 1000,
      },
    ],
  });
}

describe("diagnostic kinds (contract section 18)", () => {
  it("tls and tcp results set slo_probe_success and slo_tls_cert_expiry_seconds, and count no request", async () => {
    const { metrics, scrape } = await serve(configWithKinds());
    const diagnostic = { category: DIAGNOSTIC_CATEGORY, status: null, errorCode: null, correlationId: null };
    metrics.recordResult(
      result({
        ...diagnostic,
        probe: "api-cert",
        error: "tls",
        observed: { kind: "tls", expiry_seconds: 432_000, reason: "cert_expiring" },
      }),
    );
    metrics.recordResult(result({ ...diagnostic, probe: "api-tcp", error: null, observed: { kind: "tcp" } }));
    const samples = parseExposition(await scrape());
    const byProbe = (name: string) =>
      Object.fromEntries(samplesOf(samples, name).map((s) => [s.labels.probe, s.value]));
    expect(byProbe(METRIC.probeSuccess)).toEqual({ "api-cert": 0, "api-tcp": 1 });
    expect(byProbe(METRIC.tlsCertExpiry)).toEqual({ "api-cert": 432_000 });
    expect(samplesOf(samples, METRIC.tlsCertExpiry)[0]?.labels.category).toBe(DIAGNOSTIC_CATEGORY);
    expect(
      samplesOf(samples, METRIC.probeRequests).filter((s) => s.labels.category === DIAGNOSTIC_CATEGORY),
    ).toEqual([]);
  });

  it("each flow step is its own series, in its own category", async () => {
    const { metrics, scrape } = await serve(configWithKinds());
    metrics.recordResult(result({ probe: "session-flow/create", category: "payment_request" }));
    metrics.recordResult(result({ probe: "session-flow/read", category: "settlements", status: 503 }));
    const requests = samplesOf(parseExposition(await scrape()), METRIC.probeRequests);
    expect(requests.map((s) => [s.labels.probe, s.labels.category, s.labels.outcome]).sort()).toEqual([
      ["session-flow/create", "payment_request", "served"],
      ["session-flow/read", "settlements", "failed"],
    ]);
  });
});

describe("exposition format", () => {
  it("a scrape with every metric family populated passes promtool check metrics", async () => {
    const { metrics, scrape } = await serve(configWithKinds());
    metrics.recordResult(
      result({
        probe: "api-cert",
        category: DIAGNOSTIC_CATEGORY,
        status: null,
        error: null,
        observed: { kind: "tls", expiry_seconds: 86_400 },
      }),
    );
    metrics.recordResult(result({ status: 500, errorCode: "INTERNAL_SERVER_ERROR" }));
    metrics.recordResult(
      result({ phases: { dnsMs: 1, connectMs: 2, tlsMs: 5, requestSentMs: 6, ttfbMs: 100, bodyEndMs: 101 } }),
    );
    metrics.recordResult(result({ status: null, error: "connect", flags: ["agent_error"] }), "agent_error");
    metrics.updateValidity([
      {
        probe: "payment-request-read",
        category: "payment_request",
        merchantSide: false,
        agentErrors: true,
        authFailed: false,
        unexpectedStatus: false,
      },
    ]);
    metrics.updateSnapshot(snapshotOf([category()]));
    metrics.setSelfMetrics({
      coverage: new Map([["payment-request-read", 1]]),
      skippedRuns: new Map([
        ["payment-request-read", { overlap: 2, no_slot: 0, paused: 3, throttled: 0, refused: 0 }],
      ]),
      storeHealthy: true,
      bufferedResults: 0,
      signingRefused: false,
      feedReadable: true,
      feedEntriesLeftOut: 1,
    });
    metrics.setAlertSource(() => ({
      firing: [{ alertname: "SLOErrorBudgetBurn", category: "payment_request" }],
      deliveries: new Map([["am", { success: 2, failure: 1 }]]),
      queueDepth: new Map([["am", 0]]),
    }));
    metrics.recordLateness("payment-request-read", 5);
    metrics.recordStall(120);
    metrics.recordRunQueue(3);
    metrics.traffic.committed([result({ probe: "traffic:POST /payments/v1/sessions", source: "traffic" })]);
    metrics.traffic.dropped(3);
    metrics.setReportSuccess(Date.UTC(2026, 10, 3));
    const text = await scrape();
    const names = new Set(parseExposition(text).map((s) => s.name));
    expect([...exposedSeriesNames()].filter((n) => !names.has(n))).toEqual([]);
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: "" });
  });
});

describe("a reload that removes a probe", () => {
  it("takes the probe's series off /metrics, and keeps those of the probes still configured", async () => {
    const config = fixtureConfig();
    const { metrics, scrape } = await serve(config);
    metrics.recordResult(result({}));
    metrics.recordResult(result({ probe: "settlements-list", category: "settlements", status: 503 }));
    metrics.setSelfMetrics({ coverage: new Map([["settlements-list", 1]]) });
    expect(await scrape()).toContain('probe="settlements-list"');

    metrics.reconfigure({ ...config, probes: config.probes.filter((p) => p.id !== "settlements-list") });
    const after = await scrape();
    expect(after).not.toContain('probe="settlements-list"');
    expect(after).toContain('probe="payment-request-read"');
  });
});

describe("a scrape's bytes", () => {
  it("are not held once the scrape is answered: an agent's memory does not carry the last exposition between scrapes", async () => {
    // A rendering is 6.5 MB at 1,000 probes; it used to stay referenced until the next scrape.
    setFlagsFromString("--expose-gc");
    const vmGc = runInNewContext("gc") as () => void;
    // Backing stores are freed by V8's sweeper after a collection, not during it.
    const gc = async () => {
      for (let i = 0; i < 3; i++) {
        vmGc();
        await sleep(50);
      }
    };
    await gc();
    const before = process.memoryUsage().arrayBuffers;
    const base = fixtureConfig();
    const probes = Array.from({ length: 400 }, (_, i) => ({ ...base.probes[0]!, id: `read-${i}` }));
    const { metrics, scrape } = await serve(fixtureConfig({ probes }));
    probes.forEach((p, i) => {
      metrics.recordResult(result({ probe: p.id, durationMs: 50 + i }));
    });
    const bytes = Buffer.byteLength(await scrape());
    expect(bytes).toBeGreaterThan(1_000_000);
    await sleep(300);
    await gc();
    // What stays is each series' labels, encoded once (a fifth of the text here), not the text.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(bytes / 2);
  });
});
