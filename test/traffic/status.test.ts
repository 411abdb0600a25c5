import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startDaemon } from "../../src/agent/daemon.js";
import { FakeClock } from "../../src/clock/fake.js";
import { systemClock } from "../../src/clock/system.js";
import { trafficRoutesOf } from "../../src/config/traffic-wire.js";
import type { SloConfig, Target } from "../../src/model/config.js";
import type { ProbeResult } from "../../src/model/result.js";
import { Secret } from "../../src/model/secret.js";
import { monthInterval, monthOf } from "../../src/model/time.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { eventually } from "../support/eventually.js";
import { fixtureConfig } from "../support/slo-config.js";

// /status shows each category's merchant requests of the month to date when traffic: is configured.

const TOKEN = "traffic-token-status-4f2a9c";
const target: Target = {
  id: "klarna",
  baseUrl: "https://api.klarna.example",
  environment: "production",
  auth: { type: "none" },
  headers: {},
  maxRequestsPerSecond: null,
  keepAlive: true,
  tlsVerify: true,
};

function configWith(traffic: boolean): SloConfig {
  const base = fixtureConfig();
  return {
    ...base,
    probes: [],
    targets: new Map([["klarna", target]]),
    ...(traffic
      ? {
          traffic: {
            token: new Secret(TOKEN),
            maxBodyBytes: 1 << 20,
            routes: trafficRoutesOf([
              {
                method: "POST",
                path: "/payments/v1/sessions",
                target: "klarna",
                category: "payment_request",
              },
            ]),
          },
        }
      : {}),
  };
}

const request = (
  ts: number,
  id: string,
  status: number | null,
  flags: ProbeResult["flags"] = [],
): ProbeResult => ({
  ts,
  probe: "traffic:POST /payments/v1/sessions",
  category: "payment_request",
  status,
  durationMs: 12,
  error: status === null ? "aborted" : null,
  errorCode: null,
  correlationId: id,
  flags,
  source: "traffic",
});

function span(id: string, startMs: number, status: number) {
  const start = BigInt(startMs) * 1_000_000n;
  const attributes = {
    "http.request.method": "POST",
    "url.full": "https://api.klarna.example/payments/v1/sessions",
    "server.address": "api.klarna.example",
    "server.port": 443,
    "http.response.status_code": status,
  };
  return JSON.stringify({
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: "0af7651916cd43dd8448eb211c80319c",
                spanId: id,
                name: "POST",
                kind: 3,
                startTimeUnixNano: String(start),
                endTimeUnixNano: String(start + 5_000_000n),
                attributes: Object.entries(attributes).map(([key, v]) => ({
                  key,
                  value: typeof v === "number" ? { intValue: String(v) } : { stringValue: v },
                })),
              },
            ],
          },
        ],
      },
    ],
  });
}

async function withDaemon(traffic: boolean, run: (url: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "slo-traffic-status-"));
  const now = Date.now();
  const monthStart = monthInterval(monthOf(now)).start;
  // Stored before the start: three of this month (one client_side), one of the month before.
  const store = openEvidenceStore({ dataDir, clock: new FakeClock(now), logger: () => {} });
  store.record(request(monthStart - 60_000, "00000000000000e0", 201));
  store.record(request(monthStart, "00000000000000e1", 201));
  store.record(request(monthStart, "00000000000000e2", 503));
  store.record(request(monthStart + 1, "00000000000000e3", null, ["client_side"]));
  store.flush();
  store.close();
  const daemon = await startDaemon({
    config: configWith(traffic),
    dataDir,
    listen: { host: "127.0.0.1", port: 0 },
    clock: systemClock,
    log: () => {},
  });
  try {
    await run(daemon.url);
  } finally {
    await daemon.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const status = async (url: string) => (await fetch(`${url}/status`)).text();

describe("/status and merchant requests (contract section 19)", () => {
  it("counts the month to date's stored requests per category, then each one committed", async () => {
    await withDaemon(true, async (url) => {
      expect(await status(url)).toContain(
        "Merchant requests this month: 3 (1 served, 1 failed, 1 client_side)",
      );
      const sent = await fetch(`${url}/v1/traces`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: span("00000000000000f1", Date.now(), 201),
      });
      expect(sent.status).toBe(200);
      await eventually(
        async () =>
          (await status(url)).includes("Merchant requests this month: 4 (2 served, 1 failed, 1 client_side)"),
        10_000,
        "the committed request on /status",
      );
      // Categories without any say so too.
      expect(await status(url)).toContain(
        "Merchant requests this month: 0 (0 served, 0 failed, 0 client_side)",
      );
    });
  });

  it("shows no merchant requests line without traffic: configured", async () => {
    await withDaemon(false, async (url) => {
      expect(await status(url)).not.toContain("Merchant requests");
    });
  });
});
