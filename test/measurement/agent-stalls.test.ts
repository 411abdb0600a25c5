import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import type { ProbeResult } from "../../src/model/result.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { type Running, sleep, startProcess } from "../export/live-processes.js";
import { type AgentRun, cleanUp, onCleanup, report, runAgent, workDir } from "./agent-runs.js";

/**
 * The agent's own load must never become the provider's latency (contract section 14): a flood of
 * pipelined scrapes, a scrape storm and a month summary being computed, each beside probes of a
 * loopback target answering in about a millisecond. The machine running these is shared and
 * loaded, so nothing here asserts speed: a 1 ms target cannot have taken a second, so no result
 * of a second or more (or a timeout) may be booked against it unless it is agent_error, and no
 * objective may be reported missed.
 */

afterAll(cleanUp);

const API_TOKEN = "stall-test-api-token-7f3a";
const TIMEOUT_MS = 1000;
const PROBES = 30;

/** The target in a process of its own, so the load this test makes cannot slow the target itself. */
async function fastTarget(): Promise<string> {
  const script = `require("node:http").createServer((q, s) => { s.writeHead(200, {"content-type": "application/json"}); s.end("{}"); })
    .listen(0, "127.0.0.1", function () { console.log("port " + this.address().port); });`;
  const target: Running = startProcess(process.execPath, ["-e", script], process.cwd());
  onCleanup(() => target.stop());
  const port = (await target.waitFor(/port (\d+)/, 30_000))[1];
  return `http://127.0.0.1:${port}`;
}

function config(target: string): string {
  const probes = Array.from(
    { length: PROBES },
    (_, i) =>
      `  - {id: read-${i}, category: payment_request, target: api, every: 1s, timeout_ms: ${TIMEOUT_MS}, path: /payments/v1/sessions/${i}}`,
  ).join("\n");
  return `version: 1
agent: {id: stall-agent, region: test, listen: 127.0.0.1:0, data_dir: ./evidence, api_token: ${API_TOKEN}}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
  api: {base_url: "${target}", environment: simulator}
probes:
${probes}
`;
}

function storedResults(dir: string): ProbeResult[] {
  const store = openEvidenceStore({ dataDir: join(dir, "evidence"), clock: systemClock, logger: () => {} });
  try {
    return [...store.results({ from: 0, to: Date.now() + 60_000 })];
  } finally {
    store.close();
  }
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
}

/** What every case must show: nothing the agent's load did is the provider's. */
function expectNothingBookedOnTheProvider(run: AgentRun, since: number, label: string): void {
  const { dir, metrics } = run;
  const results = storedResults(dir).filter((r) => r.ts >= since);
  expect(results.length).toBeGreaterThan(PROBES * 5);
  const booked = results.filter((r) => !r.flags?.includes("agent_error"));
  // The target answers 200 in about a millisecond: no failure and no second-long duration is its.
  expect(booked.filter((r) => r.status !== 200).map((r) => `${r.error} ${r.detail}`)).toEqual([]);
  expect(booked.filter((r) => r.durationMs >= TIMEOUT_MS).map((r) => r.durationMs)).toEqual([]);
  const served = booked.map((r) => r.durationMs);
  const stalled = results.length - booked.length;
  // For the report of this run: the figures under load, not asserted (the machine is shared).
  console.log(
    `${label}: ${results.length} results, ${stalled} agent_error (stalls), p99 of the rest ${p99(served).toFixed(1)} ms`,
  );
  const json = JSON.parse(report(dir));
  const category = json.categories.find((c: { id?: string; category?: string }) =>
    JSON.stringify(c).includes("payment_request"),
  );
  expect(category.availability_met).not.toBe(false);
  expect(category.latency_met).not.toBe(false);
  // Nor does the daemon (its rolling windows, which the alerts read) call an objective missed.
  const breaches = metrics.split("\n").filter((l) => l.startsWith("slo_breach{"));
  expect(breaches.length).toBeGreaterThan(0);
  expect(breaches.filter((l) => !l.endsWith(" 0"))).toEqual([]);
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

describe("the agent's own load is never the provider's (contract section 14)", { timeout: 240_000 }, () => {
  it("three connections pipelining 3,000 GET /metrics each without reading: closed, RSS bounded, no false breach", async () => {
    const target = await fastTarget();
    let rssBefore = 0;
    let rssPeak = 0;
    let closedByServer = 0;
    let floodDone = false;
    const since = Date.now();
    const run = await runAgent(config(target), (m) => floodDone && m.includes("slo_breach{"), {
      during: async (url, agent) => {
        const pid = agent.child.pid!;
        await sleep(3_000);
        rssBefore = rssMb(pid);
        const { port } = new URL(url);
        const burst = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(3_000);
        const floods: Socket[] = [];
        for (let i = 0; i < 3; i++) {
          const socket = connect(Number(port), "127.0.0.1");
          socket.on("error", () => {});
          socket.once("close", () => closedByServer++);
          socket.pause(); // never reads a reply
          socket.write(burst);
          floods.push(socket);
        }
        onCleanup(() => {
          for (const s of floods) s.destroy();
        });
        for (let i = 0; i < 40; i++) {
          await sleep(250);
          rssPeak = Math.max(rssPeak, rssMb(pid));
        }
        for (const s of floods) s.destroy();
        await sleep(2_000);
        floodDone = true;
      },
    });
    // A client pipelining thousands of requests is closed, not served thousands of renderings.
    expect(closedByServer).toBe(3);
    // Loosely: the flood took RSS from 107 to 788 MB when every request had its rendering.
    expect(rssPeak - rssBefore).toBeLessThan(200);
    expectNothingBookedOnTheProvider(run, since, "pipelined flood");
  });

  it("200 concurrent scrapers beside the probes: one rendering shared, RSS bounded, no false breach", async () => {
    const target = await fastTarget();
    let stormDone = false;
    let rssBefore = 0;
    let rssPeak = 0;
    const since = Date.now();
    const run = await runAgent(config(target), (m) => stormDone && m.includes("slo_breach{"), {
      during: async (url, agent) => {
        await sleep(2_000);
        const pid = agent.child.pid!;
        rssBefore = rssMb(pid);
        const sampling = setInterval(() => {
          rssPeak = Math.max(rssPeak, rssMb(pid));
        }, 250);
        onCleanup(() => clearInterval(sampling));
        const until = Date.now() + 12_000;
        const scraper = async () => {
          while (Date.now() < until) {
            await fetch(`${url}/metrics`)
              .then((r) => r.arrayBuffer())
              .catch(() => undefined);
          }
        };
        await Promise.all(Array.from({ length: 200 }, scraper));
        clearInterval(sampling);
        stormDone = true;
      },
    });
    // 200 renderings held at once would be 200 copies of the exposition; one shared is bounded.
    expect(rssPeak - rssBefore).toBeLessThan(200);
    expectNothingBookedOnTheProvider(run, since, "200 scrapers");
  });

  it("a month summary being computed beside the probes: no false breach", async () => {
    const target = await fastTarget();
    const dir = workDir(config(target));
    seedMonth(join(dir, "evidence"));
    let summariesDone = false;
    const since = Date.now();
    const run = await runAgent(config(target), (m) => summariesDone && m.includes("slo_breach{"), {
      dir,
      during: async (url) => {
        const month = new Date().toISOString().slice(0, 7);
        const until = Date.now() + 12_000;
        let answered = 0;
        while (Date.now() < until) {
          const response = await fetch(`${url}/api/v1/months/${month}/summary`, {
            headers: { authorization: `Bearer ${API_TOKEN}` },
          });
          await response.arrayBuffer();
          if (response.status === 200) answered++;
        }
        expect(answered).toBeGreaterThan(0);
        summariesDone = true;
      },
    });
    expectNothingBookedOnTheProvider(run, since, "month summaries");
  });
});

/** A month of stored results so far (one a minute per probe), so that a summary has work to do. */
function seedMonth(dataDir: string): void {
  const store = openEvidenceStore({
    dataDir,
    clock: systemClock,
    logger: () => {},
    identity: { agent: "stall-agent", region: "test" },
  });
  const now = Date.now();
  const start = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  const results: ProbeResult[] = [];
  for (let ts = start; ts < now - 60_000; ts += 60_000) {
    for (let i = 0; i < PROBES; i++) {
      results.push({
        ts: ts + i,
        probe: `read-${i}`,
        category: "payment_request",
        status: 200,
        durationMs: 1 + (ts % 7),
        error: null,
        errorCode: null,
        correlationId: null,
        agent: "stall-agent",
        region: "test",
      });
    }
  }
  // One transaction (an import): the summary's work is what matters here, not how it was stored.
  try {
    store.importResults(results);
  } finally {
    store.close();
  }
}
