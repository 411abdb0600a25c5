import type { Category, HttpProbeSpec, ServiceClass, SloConfig } from "../../src/model/config.js";

const CATEGORIES: readonly Category[] = [
  {
    id: "payment_request",
    title: "Payment Request",
    serviceClass: "transaction_critical",
    latencyP99Ms: 1500,
  },
  { id: "settlements", title: "Settlements", serviceClass: "transaction_non_critical", latencyP99Ms: 3000 },
];

const CLASSES: readonly ServiceClass[] = [
  { id: "transaction_critical", title: "Transactions Critical Services", availabilityTarget: 0.99 },
  { id: "transaction_non_critical", title: "Transactions Non-critical Services", availabilityTarget: 0.995 },
];

function probe(id: string, category: string): HttpProbeSpec {
  return {
    kind: "http",
    id,
    category,
    target: "klarna",
    schedule: { kind: "every", intervalMs: 30_000 },
    method: "GET",
    path: "/x",
    headers: {},
    body: null,
    timeoutMs: 10_000,
    writes: false,
    followRedirects: 0,
    maxBodyBytes: 65_536,
    source: { file: "probes/test.yaml", line: 1 },
  };
}

/** A small configuration built by hand, so these tests do not depend on the YAML loader. */
export function fixtureConfig(overrides: Partial<SloConfig> = {}): SloConfig {
  return {
    version: 1,
    file: "/tmp/slo.yaml",
    agent: {
      region: "eu",
      id: "test-agent",
      listen: { host: "127.0.0.1", port: 0 },
      dataDir: "/tmp/data",
      retentionDays: 400,
      minuteRollupDays: 400,
      otlp: null,
      adminToken: null,
    },
    serviceClasses: new Map(CLASSES.map((c) => [c.id, c])),
    categories: new Map(CATEGORIES.map((c) => [c.id, c])),
    maintenance: {
      policy: { minNoticeDays: 7, maxOccasionsPerYear: 5, maxHoursPerYear: 15 },
      windows: [],
    },
    exclusions: [],
    targets: new Map(),
    probes: [probe("payment-request-read", "payment_request"), probe("settlements-list", "settlements")],
    alerting: {
      receivers: [],
      forMs: 120_000,
      repeatIntervalMs: 4 * 3_600_000,
      groupWaitMs: 30_000,
      groupIntervalMs: 5 * 60_000,
      coverageBelow: 0.9,
      latencyWindow: "1h",
      runbookBaseUrl: "https://runbooks.test/slo",
    },
    sla: { provider: "Klarna", credits: [], merchant: null, contractRef: null, monthlyFee: null },
    ...overrides,
  };
}
