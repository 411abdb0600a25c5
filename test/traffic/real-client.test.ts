import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningDaemon, startDaemon } from "../../src/agent/daemon.js";
import { systemClock } from "../../src/clock/system.js";
import { loadConfig } from "../../src/config/index.js";
import { isServed } from "../../src/model/result.js";
import { monthInterval, monthOf } from "../../src/model/time.js";
import { buildMonthlyReport } from "../../src/reports/index.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";

const run = promisify(execFile);
const TOKEN = "merchant-traffic-token-6c1f0e2a";
const APP = join(import.meta.dirname, "merchant-app.cjs");

interface Call {
  readonly route: string;
  readonly status?: number;
  readonly error?: string;
}

const slo = (api: string) => `version: 1
agent:
  id: traffic-test
  listen: 127.0.0.1:0
  data_dir: data
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
  transaction_non_critical: {title: Transactions Non-critical Services, availability_target_pct: 99.5}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 150}
  read_only_payment_transaction: {title: Read-only Payment Transaction, service_class: transaction_non_critical, latency_p99_ms: 800}
targets:
  klarna: {base_url: "${api}", environment: simulator}
traffic:
  token_file: traffic.token
  routes:
    - {method: POST, path: /payments/v1/sessions, target: klarna, category: payment_request}
    - {method: GET, path: "/ordermanagement/v1/orders/{order_id}", target: klarna, category: read_only_payment_transaction}
sla: {source: traffic}
`;

describe("a merchant app traced with the OpenTelemetry SDK, through a scripted outage (contract section 19)", () => {
  let dir: string;
  let sim: RunningSimulator;
  let daemon: RunningDaemon;
  let calls: Call[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "slo-real-traffic-"));
    sim = await startSimulator();
    await writeFile(join(dir, "slo.yaml"), slo(sim.url));
    await writeFile(join(dir, "traffic.token"), `${TOKEN}\n`);
    const { config } = await loadConfig(join(dir, "slo.yaml"), { env: {} });
    daemon = await startDaemon({
      config,
      dataDir: config.agent.dataDir,
      listen: config.agent.listen,
      clock: systemClock,
      log: () => {},
      refreshMs: 200,
    });
    const { stdout } = await run(process.execPath, [APP, sim.url, `${daemon.url}/v1/traces`, TOKEN], {
      cwd: import.meta.dirname,
      timeout: 60_000,
    });
    calls = JSON.parse(stdout) as Call[];
    daemon.store.flush();
  });

  afterAll(async () => {
    await daemon?.close();
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const did = (route: string) => {
    const mine = calls.filter((c) => c.route === route);
    return {
      requests: mine.length,
      successful: mine.filter((c) => c.status !== undefined && isServed(c.status)).length,
    };
  };

  it("the app went through the outage: answers, 503s and requests without a response", () => {
    expect(calls).toHaveLength(80);
    expect(calls.filter((c) => c.status === 503)).toHaveLength(12);
    expect(calls.filter((c) => c.error !== undefined).length).toBeGreaterThanOrEqual(12);
  });

  it("the report's traffic figures are what the app did, request for request, and decide the SLA", async () => {
    const month = monthOf(Date.now());
    const { start, end } = monthInterval(month);
    const config = (await loadConfig(join(dir, "slo.yaml"), { env: {}, probing: false })).config;
    // The agent signs its chain head first: the month verifies against its newest checkpoint.
    const verified = daemon.store.verifyPeriod({ from: start, to: end });
    expect(verified.problem).toBeNull();
    const report = buildMonthlyReport({ config, store: daemon.store, month, now: Date.now() });
    const row = (category: string) => report.categories.find((c) => c.category === category)!;
    const payments = did("POST /payments/v1/sessions");
    const orders = did("GET /ordermanagement/v1/orders/{order_id}");
    expect(report.evidence.records).toBe(calls.length);
    expect(row("payment_request").traffic).toMatchObject(payments);
    expect(row("read_only_payment_transaction").traffic).toMatchObject(orders);
    // sla.source traffic: the SLA figures are the merchant requests too.
    expect(row("payment_request")).toMatchObject({
      requests: payments.requests,
      successful: payments.successful,
    });
    expect(row("read_only_payment_transaction")).toMatchObject({
      requests: orders.requests,
      successful: orders.successful,
    });
  });

  it("/metrics counts the stored merchant requests by category and outcome", async () => {
    const text = await (await fetch(`${daemon.url}/metrics`)).text();
    const sample = (category: string, outcome: string) => {
      const line = text
        .split("\n")
        .find(
          (l) =>
            l.startsWith("slo_traffic_requests_total{") &&
            l.includes(`category="${category}"`) &&
            l.includes(`outcome="${outcome}"`),
        );
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
    };
    const payments = did("POST /payments/v1/sessions");
    expect(sample("payment_request", "served")).toBe(payments.successful);
    expect(sample("payment_request", "failed")).toBe(payments.requests - payments.successful);
    const orders = did("GET /ordermanagement/v1/orders/{order_id}");
    expect(sample("read_only_payment_transaction", "failed")).toBe(orders.requests - orders.successful);
  });

  it("stores route templates only: no order id, query string, header or token", async () => {
    // The database and its write-ahead log, where the newest pages are until a checkpoint.
    const data = join(dir, "data", "evidence.sqlite");
    const file = Buffer.concat([await readFile(data), await readFile(`${data}-wal`)]).toString("latin1");
    for (const leak of ["customer-4711", "order-3-", "expand=", TOKEN, "purchase_country"])
      expect(file).not.toContain(leak);
    expect(file).toContain("traffic:GET /ordermanagement/v1/orders/{order_id}");
  });
});
