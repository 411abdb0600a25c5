import type { Clock, TimerHandle } from "../clock/clock.js";
import {
  createSloMetrics,
  type MetricsServer,
  type SloMetrics,
  startMetricsServer,
} from "../export/index.js";
import type { ProbeSpec, SloConfig } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import type { ResultSink } from "../model/sink.js";
import { DAY_MS } from "../model/time.js";
import { ProbeRunner } from "../probes/index.js";
import { type EvidenceStore, openEvidenceStore } from "../record/index.js";
import { Scheduler } from "../schedule/index.js";
import { RollingWindows } from "../slo/index.js";
import { AGENT_VERSION } from "../version.js";
import type { Logger } from "./log.js";

export interface DaemonOptions {
  readonly config: SloConfig;
  readonly dataDir: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly clock: Clock;
  readonly log: Logger;
  /** How often the SLO gauges, heartbeat and self-metrics are refreshed. Default 5 s. */
  readonly refreshMs?: number;
}

export interface RunningDaemon {
  /** http://HOST:PORT serving /metrics, /healthz and /readyz. */
  readonly url: string;
  readonly store: EvidenceStore;
  readonly metrics: SloMetrics;
  /** Stops probing, waits for running probes, writes everything and closes the store. */
  close(): Promise<void>;
}

/** Longest rolling window (30d, or a 31-day month) plus slack: what a restart replays. */
const REPLAY_MS = 32 * DAY_MS;
const DEFAULT_REFRESH_MS = 5_000;
const PRUNE_EVERY_MS = DAY_MS;

/**
 * The agent: config -> schedule -> probes -> record (evidence store, rolling windows, counters)
 * -> SLO snapshot -> /metrics. On start it replays the stored month into the rolling windows so a
 * restart leaves no gap or reset in the SLO figures.
 */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { config, clock, log } = options;
  const store = openEvidenceStore({
    dataDir: options.dataDir,
    clock,
    retentionDays: config.agent.retentionDays,
    minuteRollupDays: config.agent.minuteRollupDays,
    logger: (line) => log("warn", line),
    signingKeyFile: config.agent.signingKeyFile ?? null,
  });
  const windows = new RollingWindows(config);
  const started = clock.now();
  let replayed = 0;
  for (const result of store.results({ from: started - REPLAY_MS, to: started })) {
    windows.record(result);
    replayed++;
  }
  log("info", `evidence store ${store.path}: replayed ${replayed} results into the rolling windows`);

  const metrics = createSloMetrics({
    config,
    version: AGENT_VERSION,
    ...(config.agent.otlp ? { otlp: config.agent.otlp } : {}),
  });
  const sink: ResultSink = {
    record(result: ProbeResult) {
      store.record(result);
      windows.record(result);
      metrics.recordResult(result);
    },
  };
  const runner = new ProbeRunner({ clock, config, sink, logger: (line: string) => log("warn", line) });
  const scheduler = new Scheduler({
    clock,
    probes: config.probes,
    execute: (spec: ProbeSpec, plannedAt: number) => {
      metrics.recordLateness(spec.id, Math.max(0, clock.now() - plannedAt));
      return runner.execute(spec, plannedAt);
    },
    onError: (spec, error) =>
      log("error", `probe ${spec.id}: ${error instanceof Error ? error.message : error}`),
  });

  let ready = false;
  let server: MetricsServer;
  try {
    server = await startMetricsServer({ ...options.listen, metrics, ready: () => ready });
  } catch (error) {
    store.close();
    await metrics.shutdown();
    throw error;
  }
  // The run starts once the agent can serve: a failed start is not recorded as monitored time.
  store.startRun(started);

  const refresh = () => {
    const now = clock.now();
    windows.prune(now);
    metrics.updateSnapshot(windows.snapshot(now));
    store.heartbeat(now);
    const health = store.health();
    const stats = scheduler.stats();
    metrics.setSelfMetrics({
      coverage: new Map(scheduler.coverage().flatMap((c) => (c.ratio === null ? [] : [[c.probe, c.ratio]]))),
      skippedRuns: new Map(
        stats.map((s) => [
          s.probe,
          {
            overlap: s.skippedOverlap,
            no_slot: s.skippedNoSlot,
            paused: s.paused,
            throttled: s.throttled,
            refused: s.refused,
          },
        ]),
      ),
      storeHealthy: health.writable,
      bufferedResults: health.buffered,
    });
  };
  let lastPrune = started;
  let timer: TimerHandle | null = null;
  const tick = () => {
    refresh();
    if (clock.now() - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = clock.now();
      const outcome = store.prune(lastPrune);
      log("info", `retention: ${JSON.stringify(outcome)}`);
    }
    timer = clock.setTimeout(tick, options.refreshMs ?? DEFAULT_REFRESH_MS);
  };

  scheduler.start();
  tick();
  ready = true;
  log(
    "info",
    `probing ${config.probes.length} probes in ${config.categories.size} categories; metrics on ${server.url}/metrics`,
  );

  return {
    url: server.url,
    store,
    metrics,
    async close() {
      ready = false;
      timer?.cancel();
      await scheduler.stop();
      await runner.close();
      refresh();
      store.endRun(clock.now());
      store.close();
      await server.close();
      await metrics.shutdown();
    },
  };
}
