/**
 * Child process of long-run.test.ts: the daemon's result path (evidence store, rolling windows,
 * metrics with their /metrics server), wired as src/agent/daemon.ts wires them, fed RESULTS
 * results on a fake clock. Prints one JSON line per checkpoint: results so far, simulated days,
 * heap and RSS after a forced gc.
 * Usage: node --expose-gc --import tsx long-run-child.ts DATA_DIR RESULTS WARM_UP
 */
import { join } from "node:path";
import { FakeClock } from "../../src/clock/fake.js";
import { loadConfig } from "../../src/config/index.js";
import { createSloMetrics, startMetricsServer } from "../../src/export/index.js";
import { DAY_MS } from "../../src/model/time.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { RollingWindows } from "../../src/slo/index.js";
import { generateResults } from "../record/results.js";

const [dataDir, totalArg, warmUpArg] = process.argv.slice(2);
const total = Number(totalArg);
const warmUp = Number(warmUpArg);
/** Every probe of the shipped profile every 2 minutes: 600k results span about 64 days. */
const INTERVAL_MS = 120_000;
const START = Date.UTC(2026, 6, 1);
const BATCH_SPAN_MS = 30 * 60_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

const { config } = await loadConfig(join(import.meta.dirname, "../../slo.yaml"), { env: {} });
const clock = new FakeClock(START);
const store = openEvidenceStore({ dataDir: dataDir!, clock, logger: () => {} });
const windows = new RollingWindows(config);
const metrics = await createSloMetrics({ config, version: "long-run" });
const server = await startMetricsServer({ host: "127.0.0.1", port: 0, metrics, ready: () => true });
store.startRun(clock.now());

const checkpoint = async (done: number) => {
  // The server closes idle keep-alive sockets after 5 s; a checkpoint after a long stretch of
  // recording can race that close on the reused socket, so a reset is tried once more.
  const scrape = await fetch(`${server.url}/metrics`).catch(() => fetch(`${server.url}/metrics`));
  const bytes = (await scrape.text()).length;
  gc();
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  const days = (clock.now() - START) / DAY_MS;
  process.stdout.write(
    `${JSON.stringify({ done, days: Math.round(days), rss, heapUsed, scrapeBytes: bytes })}\n`,
  );
};

const results = generateResults(START, total, INTERVAL_MS);
let done = 0;
const step = Math.max(1, Math.floor(warmUp / 4));
for (const result of results) {
  // The clock follows the results in half-hour steps; due timers (the store's batch writes) fire
  // as it passes them, so a batch holds about 200 results, as the bench's batch writes do.
  if (result.ts > clock.now() + BATCH_SPAN_MS) clock.advance(result.ts - clock.now());
  store.record(result);
  windows.record(result);
  metrics.recordResult(result);
  done++;
  if (done % 25_000 === 0) {
    // The daemon's refresh: prune the windows, publish the snapshot, heartbeat.
    windows.prune(clock.now());
    metrics.updateSnapshot(windows.snapshot(clock.now()));
    store.heartbeat(clock.now());
  }
  if (done % step === 0) await checkpoint(done);
}
clock.advance(1_000);
await checkpoint(done);
store.endRun(clock.now());
store.close();
await server.close();
await metrics.shutdown();
