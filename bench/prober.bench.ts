/**
 * The prober's own cost per run, in this process, beside bare undici (issue 30): sequential runs
 * against a loopback target in a child process answering at once: no schedule, no other thread and
 * no wall-clock tail in the figures (CPU time is still inflated on a loaded machine; compare.bench.ts
 * has the whole agent's figures beside blackbox_exporter). `npm run bench -- prober`. Figures:
 * - CPU µs per run (process.cpuUsage, kernel time of the loopback TCP included) and young GCs per
 *   1,000 runs, for ProbeRunner.execute (the prober thread's path: politeness gate, harness,
 *   exchange, classification, scrubbing) and for undici's request() with the same Agent options;
 * - the agent's time from the run's start to its request being handed to the socket, and from its
 *   response headers to its result being recorded (p50/p99, µs).
 * Medians of three alternating rounds. Figures, not assertions.
 */
import { spawn } from "node:child_process";
import { subscribe } from "node:diagnostics_channel";
import { once } from "node:events";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import { systemClock } from "../src/clock/system.js";
import type { HttpProbeSpec } from "../src/model/config.js";
import { ProbeRunner, runQueueReader, StallWatch } from "../src/probes/index.js";
import { httpSpec, target as loopbackTarget } from "../test/probes/loopback.js";
import { emit, percentile, round } from "./figures.js";

const SERVER = `
const http = require("node:http");
const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end('{"status":"ok"}');
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
`;

interface Round {
  readonly cpuUs: number;
  readonly gcsPer1000: number;
  readonly startToWriteUs: number[];
  readonly headersToRecordedUs: number[];
}

type Runs = { one: () => Promise<{ t0: number; recordedAt: number }>; close: () => Promise<void> };

let writtenAt = 0;
let headersAt = 0;

/** `runs` sequential runs of `one` after 500 unmeasured ones. */
async function measure(runs: number, one: () => Promise<{ t0: number; recordedAt: number }>): Promise<Round> {
  for (let i = 0; i < 500; i++) await one();
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().filter((e) => (e as { detail?: { kind?: number } }).detail?.kind === 1).length;
  });
  observer.observe({ entryTypes: ["gc"] });
  const startToWriteUs: number[] = [];
  const headersToRecordedUs: number[] = [];
  const before = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const { t0, recordedAt } = await one();
    startToWriteUs.push((writtenAt - t0) * 1000);
    headersToRecordedUs.push((recordedAt - headersAt) * 1000);
  }
  const cpu = process.cpuUsage(before);
  await new Promise((r) => setTimeout(r, 20));
  observer.disconnect();
  return {
    cpuUs: (cpu.user + cpu.system) / runs,
    gcsPer1000: (gcs * 1000) / runs,
    startToWriteUs,
    headersToRecordedUs,
  };
}

function agentRuns(origin: string, keepAlive: boolean): Runs {
  const target = loopbackTarget(origin, { id: "bench", keepAlive });
  let recordedAt = 0;
  // As the prober thread has it (prober-worker.ts): the thread's run-queue wait read at each run's
  // start and response headers, where the kernel tells it.
  const runQueue = runQueueReader();
  const stalls = new StallWatch({
    clock: systemClock,
    maxStallMs: 50,
    loopActiveMs: () => performance.eventLoopUtilization().active,
    betweenRunsAsleep: true,
    ...(runQueue ? { runQueueMs: runQueue.waitedMs, onRunQueue: () => {} } : {}),
  }).start();
  const runner = new ProbeRunner({
    clock: systemClock,
    config: { targets: new Map([[target.id, target]]) },
    sink: {
      record: () => {
        recordedAt = performance.now();
      },
    },
    stalls,
  });
  const specs: HttpProbeSpec[] = Array.from({ length: 50 }, (_, i) =>
    httpSpec(`/bench/${i}`, { id: `bench-${i}`, target: "bench", timeoutMs: 10_000 }),
  );
  let i = 0;
  return {
    one: async () => {
      const t0 = performance.now();
      await runner.execute(specs[i++ % specs.length]!, Date.now());
      return { t0, recordedAt };
    },
    close: async () => {
      stalls.stop();
      runQueue?.close();
      await runner.close();
    },
  };
}

function floorRuns(origin: string, keepAlive: boolean): Runs {
  const agent = new Agent({ pipelining: keepAlive ? 1 : 0, keepAliveTimeout: 30_000 });
  let i = 0;
  return {
    one: async () => {
      const t0 = performance.now();
      const response = await request(`${origin}/bench/${i++ % 50}`, { dispatcher: agent, reset: !keepAlive });
      await response.body.text();
      return { t0, recordedAt: performance.now() };
    },
    close: () => agent.close(),
  };
}

export async function run(options: { quick?: boolean } = {}): Promise<void> {
  const runs = options.quick ? 1_000 : 4_000;
  subscribe("undici:client:sendHeaders", () => {
    writtenAt = performance.now();
  });
  subscribe("undici:request:headers", () => {
    headersAt = performance.now();
  });
  const child = spawn(process.execPath, ["-e", SERVER], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
    const origin = `http://127.0.0.1:${chunk.toString().trim()}`;
    for (const keepAlive of [true, false]) {
      const agent: Round[] = [];
      const floor: Round[] = [];
      for (let round = 0; round < 3; round++) {
        for (const [make, into] of [
          [agentRuns, agent],
          [floorRuns, floor],
        ] as const) {
          const runner = make(origin, keepAlive);
          try {
            into.push(await measure(runs, runner.one));
          } finally {
            await runner.close();
          }
        }
      }
      const median = (rounds: Round[], pick: (r: Round) => number | null) =>
        percentile(
          rounds.map(pick).filter((v) => v !== null),
          50,
        ) ?? Number.NaN;
      const agentCpu = median(agent, (r) => r.cpuUs);
      const floorCpu = median(floor, (r) => r.cpuUs);
      emit({
        bench: "prober.per_run",
        connections: keepAlive ? "reused" : "fresh",
        runs_per_round: runs,
        agent_cpu_us: round(agentCpu, 1),
        floor_cpu_us: round(floorCpu, 1),
        agent_over_floor: round(agentCpu / floorCpu, 2),
        agent_young_gcs_per_1000: round(
          median(agent, (r) => r.gcsPer1000),
          1,
        ),
        floor_young_gcs_per_1000: round(
          median(floor, (r) => r.gcsPer1000),
          1,
        ),
        agent_start_to_write_p50_us: round(
          median(agent, (r) => percentile(r.startToWriteUs, 50)),
          1,
        ),
        agent_start_to_write_p99_us: round(
          median(agent, (r) => percentile(r.startToWriteUs, 99)),
          1,
        ),
        agent_headers_to_recorded_p50_us: round(
          median(agent, (r) => percentile(r.headersToRecordedUs, 50)),
          1,
        ),
        agent_headers_to_recorded_p99_us: round(
          median(agent, (r) => percentile(r.headersToRecordedUs, 99)),
          1,
        ),
      });
    }
  } finally {
    child.kill();
  }
}
