import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentAlerting } from "../../src/alerts/alerting.js";
import { webhookSignature } from "../../src/alerts/receivers/webhook.js";
import { FakeClock } from "../../src/clock/fake.js";
import type { SloConfig } from "../../src/model/config.js";
import { Secret } from "../../src/model/secret.js";
import type { CategorySnapshot, SloWindow, WindowFigures } from "../../src/model/snapshot.js";
import { SLO_WINDOWS } from "../../src/model/snapshot.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/index.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * One outage of one category through the agent's alerting, a real SQLite store and a real webhook
 * receiver on loopback: the receiver is down when the page fires and the agent restarts before it
 * returns. The receiver then gets one page (both burn-rate alerts of the category, HMAC-signed) and
 * one resolve with the figures at resolution, and nothing else.
 */
const START = Date.UTC(2026, 10, 10, 12, 0, 0);
const SECRET = "webhook-secret-0123456789abcdef";
const TICK = 5_000;

interface Hook {
  readonly status: string;
  readonly reminder: boolean;
  readonly group: { category: string; severity: string; startsAt: string };
  readonly alerts: { status: string; labels: Record<string, string>; annotations: { summary: string } }[];
  readonly signed: boolean;
}

async function webhook(up: () => boolean) {
  const got: Hook[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      if (!up()) return void response.writeHead(503).end();
      const timestamp = String(request.headers["x-slo-agent-timestamp"]);
      const signed = request.headers["x-slo-agent-signature"] === webhookSignature(SECRET, timestamp, body);
      got.push({ ...(JSON.parse(body) as Omit<Hook, "signed">), signed });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, got, close: () => new Promise((resolve) => server.close(resolve)) };
}

function category(failedRatio: number): CategorySnapshot {
  const figures = (window: SloWindow): WindowFigures => ({
    window,
    requests: 1000,
    served: Math.round(1000 * (1 - failedRatio)),
    excluded: 0,
    availability: 1 - failedRatio,
    latencyP99Ms: 100,
    burnRate: failedRatio / 0.01,
  });
  return {
    category: "payment_request",
    serviceClass: "transaction_critical",
    availabilityTarget: 0.99,
    latencyObjectiveMs: 1500,
    windows: SLO_WINDOWS.map(figures),
    errorBudgetRemaining: 1,
    breach: { availability: false, latency: false },
    maintenanceActive: false,
  };
}

let dir: string;
let dispatcher: Agent;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-grouped-"));
  dispatcher = new Agent();
});
afterEach(async () => {
  await dispatcher.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("grouped delivery through a real store and a real webhook", () => {
  it("one outage of one category: one page and one resolve per receiver, exactly once across a restart", async () => {
    let up = false;
    const hook = await webhook(() => up);
    const base = fixtureConfig();
    const config: SloConfig = {
      ...base,
      alerting: {
        ...base.alerting,
        forMs: 60_000,
        groupWaitMs: 30_000,
        groupIntervalMs: 5 * 60_000,
        receivers: [
          { type: "webhook", id: "hook", url: hook.url, secret: new Secret(SECRET), timeoutMs: 5_000 },
        ],
      },
    };
    const clock = new FakeClock(START);
    const open = (): { store: EvidenceStore; alerting: AgentAlerting } => {
      const store = openEvidenceStore({ dataDir: dir, clock });
      const alerting = new AgentAlerting({
        config,
        clock,
        ledger: store.notifications,
        dispatcher,
        random: () => 0.5,
        log: () => {},
        generatorUrl: () => "http://127.0.0.1:9464/alerts",
        baseRetryMs: 1_000,
        maxRetryMs: 10_000,
      });
      alerting.start();
      return { store, alerting };
    };
    let { store, alerting } = open();
    const run = async (failedRatio: number, forMs: number) => {
      for (let t = 0; t < forMs; t += TICK) {
        clock.advance(TICK);
        alerting.evaluate({ snapshot: { at: clock.now(), categories: [category(failedRatio)] } });
        await alerting.idle();
      }
    };

    // 30 % of requests fail: both page pairs (1h/5m, 6h/30m) and the tickets hold; the page fires.
    await run(0.3, 5 * 60_000);
    expect(store.notifications.depth().get("hook")).toBe(1);
    await alerting.close();
    store.close();

    ({ store, alerting } = open());
    up = true;
    await run(0.3, 10 * 60_000);
    await run(0, 10 * 60_000);
    await alerting.close();
    store.close();
    await hook.close();

    expect(hook.got.map((h) => `${h.status} ${h.group.severity} ${h.reminder}`)).toEqual([
      "firing page false",
      "resolved page false",
    ]);
    expect(hook.got.every((h) => h.signed)).toBe(true);
    const [page, resolve] = hook.got;
    expect(page?.alerts.map((a) => `${a.status} ${a.labels.long_window}/${a.labels.short_window}`)).toEqual([
      "firing 1h/5m",
      "firing 6h/30m",
    ]);
    expect(resolve?.group.startsAt).toBe(page?.group.startsAt);
    expect(resolve?.alerts.map((a) => a.status)).toEqual(["resolved", "resolved"]);
    for (const a of resolve?.alerts ?? []) {
      expect(a.annotations.summary).toContain("resolved: the error budget now burns at 0.0x");
    }
  });
});
