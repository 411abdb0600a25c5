import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dueMonth, scheduleReports } from "../../src/agent/report-schedule.js";
import { AgentAlerting } from "../../src/alerts/alerting.js";
import { webhookSignature } from "../../src/alerts/receivers/webhook.js";
import { FakeClock } from "../../src/clock/fake.js";
import { createSloMetrics } from "../../src/export/metrics.js";
import { startMetricsServer } from "../../src/export/server.js";
import type { SloConfig } from "../../src/model/config.js";
import { Secret } from "../../src/model/secret.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/index.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * reports.schedule through the daemon's own wiring (scheduleReports: a real evidence store, the
 * agent's alert queue, a signed webhook on loopback) on a fake clock: on the 3rd of November the
 * October report and bundle are written under DATA_DIR/reports/2026-10/ and the receiver is told
 * once; a restart (also one that crashed between queueing the notice and marking it) neither
 * writes nor tells again.
 */
const SECRET = "webhook-secret-0123456789abcdef";
const DAY = 86_400_000;
const OCTOBER = Date.UTC(2026, 9, 1);

async function webhook() {
  const got: {
    body: { status: string; alert: { labels: Record<string, string>; annotations: { summary: string } } };
    signed: boolean;
  }[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const timestamp = String(request.headers["x-slo-agent-timestamp"]);
      got.push({
        body: JSON.parse(body),
        signed: request.headers["x-slo-agent-signature"] === webhookSignature(SECRET, timestamp, body),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, got, close: () => new Promise((resolve) => server.close(resolve)) };
}

let dir: string;
let dispatcher: Agent;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-report-schedule-"));
  dispatcher = new Agent();
});
afterEach(async () => {
  await dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the month that is due", () => {
  it.each([
    ["before the day: none", "2026-11-02T23:59:59Z", 3, null],
    ["on the day: last month", "2026-11-03T00:00:00Z", 3, "2026-10"],
    ["after it (an agent that was down catches up): still last month", "2026-11-20T08:00:00Z", 3, "2026-10"],
    ["in January: December of the year before", "2027-01-05T00:00:00Z", 1, "2026-12"],
  ])("%s", (_rule, at, day, month) => {
    expect(dueMonth(day, Date.parse(at))).toBe(month);
  });
});

describe("scheduled delivery of last month's report", () => {
  it("writes the report and bundle on the day, tells the receiver once, and not again after restarts", async () => {
    const hook = await webhook();
    const clock = new FakeClock(OCTOBER);
    const base = fixtureConfig();
    const config: SloConfig = {
      ...base,
      alerting: {
        ...base.alerting,
        receivers: [
          { type: "webhook", id: "hook", url: hook.url, secret: new Secret(SECRET), timeoutMs: 5_000 },
          { type: "webhook", id: "other", url: hook.url, secret: new Secret(SECRET), timeoutMs: 5_000 },
        ],
      },
      reportSchedule: { day: 3, formats: ["json", "csv"], receivers: ["hook"] },
    };
    // October and the first two days of November: a result every hour, payment_request failing on
    // October 10th (the agent runs on: its checkpoints after the month end seal October).
    let store: EvidenceStore = openEvidenceStore({ dataDir: dir, clock, batchMs: 0 });
    for (let ts = OCTOBER + 60_000; ts < OCTOBER + 33 * DAY; ts += 3_600_000) {
      clock.advance(ts - clock.now());
      const failing = ts >= OCTOBER + 9 * DAY && ts < OCTOBER + 10 * DAY;
      store.record({
        ts,
        probe: "payment-request-read",
        category: "payment_request",
        status: failing ? 503 : 200,
        durationMs: 120,
        error: null,
        errorCode: failing ? "TEMPORARILY_UNAVAILABLE" : null,
        correlationId: null,
      });
    }
    store.flush();
    const successes: number[] = [];
    const logs: string[] = [];
    const start = () => {
      const alerting = new AgentAlerting({
        config,
        clock,
        ledger: store.notifications,
        dispatcher,
        random: () => 0.5,
        log: () => {},
        generatorUrl: () => "http://127.0.0.1:9464/alerts",
      });
      alerting.start();
      const reports = scheduleReports({
        dataDir: dir,
        store,
        config: () => config,
        alerting,
        clock,
        log: (level, message, fields) => logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`),
        onSuccess: (at) => successes.push(at),
      });
      return { alerting, reports };
    };
    let { alerting, reports } = start();
    const month = join(dir, "reports", "2026-10");

    clock.advance(Date.parse("2026-11-02T12:00:00Z") - clock.now());
    reports.tick(config.reportSchedule, clock.now());
    await reports.idle();
    expect(existsSync(month)).toBe(false);

    clock.advance(Date.parse("2026-11-03T00:00:05Z") - clock.now());
    reports.tick(config.reportSchedule, clock.now());
    await reports.idle();
    await alerting.idle();
    expect(logs.filter((l) => !l.startsWith("info"))).toEqual([]);
    expect(readdirSync(month).sort()).toEqual([
      "announced",
      "bundle",
      "delivery.json",
      "report-2026-10.csv",
      "report-2026-10.json",
    ]);
    const report = JSON.parse(readFileSync(join(month, "report-2026-10.json"), "utf8"));
    expect(report.period.month ?? report.month).toBe("2026-10");
    expect(readdirSync(join(month, "bundle"))).toEqual(
      expect.arrayContaining(["statement.json", "records.ndjson"]),
    );
    const manifest = JSON.parse(readFileSync(join(month, "delivery.json"), "utf8"));
    expect(manifest).toMatchObject({
      month: "2026-10",
      written_at: "2026-11-03T00:00:05.000Z",
      verified: true,
    });
    expect(successes).toEqual([Date.parse("2026-11-03T00:00:05Z")]);
    expect(hook.got).toHaveLength(1);
    expect(hook.got[0]?.signed).toBe(true);
    expect(hook.got[0]?.body.alert.labels).toMatchObject({
      alertname: "SLOMonthlyReport",
      month: "2026-10",
      severity: "info",
    });
    expect(hook.got[0]?.body.alert.annotations.summary).toMatch(/report for 2026-10 is written/);

    // Later ticks, a restart, and a restart after a crash that left the notice queued but unmarked.
    for (const crashed of [false, true]) {
      clock.advance(DAY);
      reports.tick(config.reportSchedule, clock.now());
      await reports.idle();
      await alerting.close();
      store.close();
      if (crashed) rmSync(join(month, "announced"));
      store = openEvidenceStore({ dataDir: dir, clock, batchMs: 0 });
      ({ alerting, reports } = start());
      reports.tick(config.reportSchedule, clock.now());
      await reports.idle();
      await alerting.idle();
    }
    // Time for a second notice, had one been queued, to arrive.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hook.got).toHaveLength(1);
    expect(successes.slice(1)).toEqual(Array(4).fill(Date.parse("2026-11-03T00:00:05Z")));
    await alerting.close();
    store.close();
    await hook.close();
  }, 60_000);

  it("exports slo_report_last_success_timestamp_seconds once a report was delivered", async () => {
    const metrics = await createSloMetrics({ config: fixtureConfig() });
    const server = await startMetricsServer({ host: "127.0.0.1", port: 0, metrics, ready: () => true });
    try {
      const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
      expect(await scrape()).not.toContain("slo_report_last_success_timestamp_seconds");
      metrics.setReportSuccess(Date.parse("2026-11-03T00:00:05Z"));
      // A scrape within 100 ms of another gets its rendering.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await scrape()).toMatch(
        /^slo_report_last_success_timestamp_seconds\{[^}]*\} 1793664005(\.0+)?$/m,
      );
    } finally {
      await server.close();
      await metrics.shutdown();
    }
  });
});
