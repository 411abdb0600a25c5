/**
 * Probe engine figures (JSON lines, no assertions):
 * - probes.throughput: probes per second sustained by one agent process (one core) against a
 *   loopback server in a child process, with scheduling lateness p50/p99 and skipped runs;
 * - probes.duration_vs_server: the agent's duration (to the end of headers) and its edge-normalised
 *   serverMs against the server's own `Server-Timing: app;dur=X`, p50/p99 of the differences.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { systemClock } from "../src/clock/system.js";
import type { HttpProbeSpec, SloConfig, Target } from "../src/model/config.js";
import { createTargetDispatcher, ProbeRunner, runProbe } from "../src/probes/index.js";
import { Scheduler } from "../src/schedule/index.js";
import { httpSpec, target as loopbackTarget } from "../test/probes/loopback.js";
import { emit, percentile, round } from "./figures.js";

const SERVER = `
const http = require("node:http");
const { performance } = require("node:perf_hooks");
const server = http.createServer((req, res) => {
  const t0 = performance.now();
  // A little work, so that the server's own time is not zero.
  let x = 0; for (let i = 0; i < 20000 + Math.floor(Math.random() * 20000); i++) x += i;
  const dur = performance.now() - t0;
  res.writeHead(200, { "content-type": "application/json", "server-timing": "app;dur=" + dur.toFixed(3) });
  res.end(JSON.stringify({ ok: x > 0 }));
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
`;

async function startServer(): Promise<{ origin: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
  return { origin: `http://127.0.0.1:${chunk.toString().trim()}`, child };
}

function targetOf(origin: string): Target {
  return loopbackTarget(origin, { id: "bench" });
}

function specOf(id: string, intervalMs: number): HttpProbeSpec {
  return httpSpec("/payments/v1/sessions/x", {
    id,
    target: "bench",
    schedule: { kind: "every", intervalMs },
    timeoutMs: 10_000,
    source: { file: "bench", line: 1 },
  });
}

async function throughput(origin: string, ratePerSecond: number, seconds: number): Promise<void> {
  const target = targetOf(origin);
  const probes = Array.from({ length: ratePerSecond }, (_, i) => specOf(`p${i}`, 1_000));
  const config = { targets: new Map([[target.id, target]]), probes } as unknown as SloConfig;
  let recorded = 0;
  let failed = 0;
  const runner = new ProbeRunner({
    clock: systemClock,
    config,
    sink: {
      record: (r) => {
        recorded++;
        if (r.status !== 200) failed++;
      },
    },
  });
  const lateness: number[] = [];
  const scheduler = new Scheduler({
    clock: systemClock,
    probes,
    maxConcurrent: 256,
    execute: (spec, plannedAt) => {
      lateness.push(systemClock.now() - plannedAt);
      return runner.execute(spec, plannedAt);
    },
  });
  const cpu = process.cpuUsage();
  const started = performance.now();
  scheduler.start();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
  await scheduler.stop();
  const elapsedS = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await runner.close();
  const stats = scheduler.stats();
  emit({
    bench: "probes.throughput",
    planned_per_s: ratePerSecond,
    performed_per_s: round(recorded / elapsedS),
    non_200: failed,
    lateness_p50_ms: round(percentile(lateness, 50)),
    lateness_p99_ms: round(percentile(lateness, 99)),
    skipped: stats.reduce((n, s) => n + s.skippedOverlap + s.skippedNoSlot, 0),
    cpu_share_of_one_core: round((used.user + used.system) / 1e6 / elapsedS),
  });
}

async function durationVsServer(origin: string, requests: number): Promise<void> {
  const target = targetOf(origin);
  const dispatcher = createTargetDispatcher(target, { clock: systemClock });
  const durationDiff: number[] = [];
  const serverDiff: number[] = [];
  let fallback: number | null = null;
  for (let i = 0; i < requests; i++) {
    const outcome = await runProbe({
      spec: specOf("d", 1_000),
      target,
      dispatcher,
      clock: systemClock,
      fallbackRoundTripMs: fallback,
    });
    fallback = outcome.roundTripMs ?? fallback;
    const dur = Number(/dur=([\d.]+)/.exec(outcome.headers["server-timing"] ?? "")?.[1]);
    if (!Number.isFinite(dur) || outcome.result.status !== 200) continue;
    durationDiff.push(outcome.result.durationMs - dur);
    if (outcome.result.serverMs != null) serverDiff.push(outcome.result.serverMs - dur);
  }
  await dispatcher.close();
  emit({
    bench: "probes.duration_vs_server",
    requests: durationDiff.length,
    duration_minus_server_p50_ms: round(percentile(durationDiff, 50)),
    duration_minus_server_p99_ms: round(percentile(durationDiff, 99)),
    server_ms_minus_server_p50_ms: round(percentile(serverDiff, 50)),
    server_ms_minus_server_p99_ms: round(percentile(serverDiff, 99)),
  });
}

export async function run(options: { quick?: boolean } = {}): Promise<void> {
  const { origin, child } = await startServer();
  try {
    for (const rate of [100, 1_000, 5_000]) await throughput(origin, rate, options.quick ? 3 : 6);
    await durationVsServer(origin, options.quick ? 500 : 2_000);
  } finally {
    child.kill();
  }
}
