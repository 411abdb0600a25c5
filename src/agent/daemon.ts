import { Agent } from "undici";
import { AgentAlerting } from "../alerts/index.js";
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
import { controlProbe, ProbeRunner } from "../probes/index.js";
import { type EvidenceStore, openEvidenceStore } from "../record/index.js";
import { Scheduler } from "../schedule/index.js";
import { automaticReasonOf, burnRateWindowMs, ControlTimeline, RollingWindows } from "../slo/index.js";
import { AGENT_VERSION } from "../version.js";
import type { Logger } from "./log.js";
import { ValidityTracker } from "./validity.js";

export interface DaemonOptions {
  readonly config: SloConfig;
  readonly dataDir: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly clock: Clock;
  readonly log: Logger;
  /** How often the SLO gauges, heartbeat and self-metrics are refreshed (and alerts evaluated). Default 5 s. */
  readonly refreshMs?: number;
  /** Uniform in [0, 1), for the jitter of alert delivery retries. Default Math.random. */
  readonly random?: () => number;
}

export interface RunningDaemon {
  /** http://HOST:PORT serving /metrics, /healthz and /readyz. */
  readonly url: string;
  readonly store: EvidenceStore;
  readonly metrics: SloMetrics;
  readonly alerting: AgentAlerting;
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
  });
  const windows = new RollingWindows(config);
  const started = clock.now();
  let replayed = 0;
  // In ts order every control result before a request is known: the report's classification.
  const replayControls = new ControlTimeline(config.controls ?? []);
  for (const result of store.results({ from: started - REPLAY_MS, to: started })) {
    replayControls.add(result);
    windows.record(result, automaticReasonOf(result, replayControls) !== null);
    replayed++;
  }
  log("info", `evidence store ${store.path}: replayed ${replayed} results into the rolling windows`);

  const metrics = createSloMetrics({
    config,
    version: AGENT_VERSION,
    ...(config.agent.otlp ? { otlp: { ...config.agent.otlp, log } } : {}),
  });
  const validity = new ValidityTracker({
    config,
    clock,
    log,
    decided: (result, reason) => {
      windows.record(result, reason !== null);
      metrics.recordResult(result, reason);
    },
  });
  const sink: ResultSink = {
    record(result: ProbeResult) {
      store.record(result);
      validity.record(result);
    },
  };
  const controls = (config.controls ?? []).map(controlProbe);
  const runnerConfig = {
    ...config,
    targets: new Map([...config.targets, ...controls.map((c) => [c.target.id, c.target] as const)]),
  };
  const runner = new ProbeRunner({
    clock,
    config: runnerConfig,
    sink,
    logger: (line: string) => log("warn", line),
  });
  // Controls run on a scheduler of their own: they are not the provider's probes, so they stay
  // out of its coverage and self-metrics.
  const controlScheduler = new Scheduler({
    clock,
    probes: controls.map((c) => c.spec),
    execute: (spec: ProbeSpec, plannedAt: number) => runner.execute(spec, plannedAt),
    onError: (spec, error) =>
      log("error", `control ${spec.id}: ${error instanceof Error ? error.message : error}`),
  });
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

  let agentUrl = "";
  const alertDispatcher = new Agent({ connections: 4 });
  const alerting = new AgentAlerting({
    config,
    clock,
    ledger: store.notifications,
    dispatcher: alertDispatcher,
    random: options.random ?? Math.random,
    log,
    generatorUrl: () => `${agentUrl}/alerts`,
  });
  metrics.setAlertSource(() => {
    const view = alerting.view();
    const firing = view.alerts.filter((a) => a.state === "firing" && a.inhibitedBy === null);
    return { firing: firing.map((a) => a.labels), deliveries: view.deliveries, queueDepth: view.queueDepth };
  });

  let ready = false;
  let server: MetricsServer;
  try {
    server = await startMetricsServer({
      ...options.listen,
      metrics,
      ready: () => ready,
      alerts: () => alertsDocument(alerting),
    });
  } catch (error) {
    await alertDispatcher.close();
    store.close();
    await metrics.shutdown();
    throw error;
  }
  // The run starts once the agent can serve: a failed start is not recorded as monitored time.
  store.startRun(started);
  agentUrl = server.url;
  alerting.start();

  const refresh = () => {
    const now = clock.now();
    windows.prune(now);
    validity.flush(now);
    const probes = validity.validity();
    const snapshot = { ...windows.snapshot(now), validity: probes };
    metrics.updateSnapshot(snapshot);
    metrics.updateValidity(probes);
    store.heartbeat(now);
    const health = store.health();
    const stats = scheduler.stats();
    const coverage = scheduler.coverage();
    try {
      alerting.evaluate({
        snapshot,
        coverage: coverageByCategory(config, coverage),
        burnRate: (category, window) => windows.burnRateOver(category, burnRateWindowMs(window), now),
      });
    } catch (error) {
      log("error", `alerts: evaluation failed: ${error instanceof Error ? error.message : error}`);
    }
    metrics.setSelfMetrics({
      coverage: new Map(coverage.flatMap((c) => (c.ratio === null ? [] : [[c.probe, c.ratio]]))),
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
  controlScheduler.start();
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
    alerting,
    async close() {
      ready = false;
      timer?.cancel();
      await Promise.all([scheduler.stop(), controlScheduler.stop()]);
      await runner.close();
      // What still waits for its controls is decided with what is known: no more will come.
      validity.flush(Number.POSITIVE_INFINITY);
      refresh();
      await alerting.close();
      await alertDispatcher.close();
      store.endRun(clock.now());
      store.close();
      await server.close();
      await metrics.shutdown();
    },
  };
}

/** The lowest coverage of a category's probes: the category is as well covered as its worst probe. */
function coverageByCategory(
  config: SloConfig,
  coverage: readonly { readonly probe: string; readonly ratio: number | null }[],
): Map<string, number> {
  const categoryOf = new Map(config.probes.map((p) => [p.id, p.category]));
  const byCategory = new Map<string, number>();
  for (const { probe, ratio } of coverage) {
    const category = categoryOf.get(probe);
    if (category === undefined || ratio === null) continue;
    byCategory.set(category, Math.min(ratio, byCategory.get(category) ?? 1));
  }
  return byCategory;
}

/** The /alerts document: every listed alert, then each receiver's queue and delivery counts. */
function alertsDocument(alerting: AgentAlerting): unknown {
  const view = alerting.view();
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    alerts: view.alerts.map((a) => ({
      labels: a.labels,
      annotations: a.annotations,
      state: a.state,
      activeAt: iso(a.activeAt),
      firedAt: iso(a.firedAt),
      resolvedAt: iso(a.resolvedAt),
      inhibitedBy: a.inhibitedBy,
    })),
    receivers: [...view.queueDepth].map(([id, queued]) => ({
      id,
      queued,
      delivered: view.deliveries.get(id)?.success ?? 0,
      failed: view.deliveries.get(id)?.failure ?? 0,
    })),
  };
}
