import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";

// The real daemon: `run` reads the feed from a loopback Statuspage at start, keeps the windows
// in its evidence store, and `report` merges them with the declared ones.
const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");
const FEED = readFileSync(join(import.meta.dirname, "../fixtures/statuspage/two-windows.json"), "utf8");

let simulator: RunningSimulator;
let statuspage: Server;
let feedUrl = "";
let hits = 0;
let dir = "";

beforeAll(async () => {
  simulator = await startSimulator();
  statuspage = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { "content-type": "application/json" }).end(FEED);
  });
  await new Promise<void>((resolve) => statuspage.listen(0, "127.0.0.1", resolve));
  feedUrl = `http://127.0.0.1:${(statuspage.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), "slo-feed-run-"));
  await writeFile(
    join(dir, "slo.yaml"),
    `version: 1
agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
maintenance:
  windows:
    - {id: m8days2wqs1l, start: 2026-10-10T01:00:00Z, end: 2026-10-10T03:00:00Z,
       announced_at: 2026-10-01T00:00:00Z, categories: [payment_request]}
  feed:
    url: ${feedUrl}/
    every: 1m
    components: {"Settlements": [payment_request]}
targets:
  sim: {base_url: "${simulator.url}", environment: simulator, auth: {type: basic, username: u, password: p}}
probes:
  - {id: payment-request-read, category: payment_request, target: sim, every: 1s, path: /payments/v1/sessions/0}
`,
  );
});
afterAll(async () => {
  await simulator.close();
  await new Promise((resolve) => statuspage.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function collect(child: ChildProcess): () => string {
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  return () => output;
}

it("run records the feed's windows; report shows them with source feed, and a declared id overrides", async () => {
  const child = spawn(
    process.execPath,
    [MAIN, "run", "--config", join(dir, "slo.yaml"), "--log-format", "json"],
    {
      cwd: dir,
    },
  );
  const output = collect(child);
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const deadline = Date.now() + 20_000;
  while (!output().includes("m2days7hjk3n") && child.exitCode === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  expect(hits).toBeGreaterThanOrEqual(1);
  expect(output()).toContain('"msg":"maintenance feed: new window first seen"');
  expect(output()).toContain('"component":"Merchant Portal"');

  const report = spawnSync(
    process.execPath,
    [MAIN, "report", "--config", join(dir, "slo.yaml"), "--month", "2026-10", "--format", "json"],
    { cwd: dir, encoding: "utf8" },
  );
  expect(report.stderr).toBe("");
  const windows = JSON.parse(report.stdout).maintenance.windows;
  // The declared window with the feed's id wins; the other one comes from the feed, first seen now.
  expect(windows).toEqual([
    expect.not.objectContaining({ source: "feed" }),
    expect.objectContaining({
      id: "m2days7hjk3n",
      source: "feed",
      provider_announced_at: "2026-10-12T00:00:00.000Z",
      qualified: false,
      reason: "late_notice",
      announcement_disputed: true,
    }),
  ]);
  expect(windows[0]).toMatchObject({
    id: "m8days2wqs1l",
    announced_at: "2026-10-01T00:00:00.000Z",
    qualified: true,
  });
  expect(Date.parse(windows[1].first_seen_at)).toBeGreaterThan(Date.parse("2026-11-30T00:00:00Z"));
}, 60_000);
