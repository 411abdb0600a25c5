import { AgentAlerting, alertsDocument, firingAlerts } from "../alerts/index.js";
import type { Clock, TimerHandle } from "../clock/clock.js";
import { systemClock } from "../clock/system.js";
import { effectiveConfiguration } from "../config/fingerprint.js";
import {
  createSloMetrics,
  type FiringAlert,
  type MetricsServer,
  type Route,
  reply,
  type SloMetrics,
  startMetricsServer,
} from "../export/index.js";
import {
  DEFAULT_NICE_OTHER_THREADS,
  DEFAULT_STALL_MS,
  recordedProbesOf,
  type SloConfig,
} from "../model/config.js";
import { structurallyEqual } from "../model/equal.js";
import { DIAGNOSTIC_CATEGORY, type ProbeResult } from "../model/result.js";
import { SecretScrubber } from "../model/secret.js";
import type { ResultSink } from "../model/sink.js";
import { DAY_MS, type EpochMs, monthInterval, monthOf } from "../model/time.js";
import { controlIdOf } from "../model/validity.js";
import { controlProbe } from "../probes/index.js";
import { agentSecretValues } from "../probes/scrub.js";
import { type EvidenceStore, LIVE_CACHE_KIB, openEvidenceStore } from "../record/index.js";
import {
  automaticReasonOf,
  BURN_RATE_WINDOWS,
  burnRateWindowMs,
  CONTROL_LOOKBACK_MS,
  ControlTimeline,
  controlSettingsOf,
  isCancelled,
  RollingWindows,
  sharedIdWarning,
  sharedWindowIds,
  TargetReach,
  withFeedWindows,
} from "../slo/index.js";
import { trafficRoute } from "../traffic/endpoint.js";
import { Agent } from "../undici-parts.js";
import { AGENT_VERSION } from "../version.js";
import { CommittedCounts } from "./committed-counts.js";
import { lockDataDir } from "./data-dir-lock.js";
import { ProbeEvents } from "./events.js";
import { type Logger, scrubbingLogger } from "./log.js";
import { MaintenanceFeedPoller } from "./maintenance-feed.js";
import { ProberThread } from "./prober-thread.js";
import { type Probing, type ProbingSetup, probeHere } from "./probing.js";
import { classificationChanged, problemLines, type ReloadOutcome, settleAgentSettings } from "./reload.js";
import { reloadRoute } from "./reload-route.js";
import { scheduleReports } from "./report-schedule.js";
import { pageRoutes } from "./status-route.js";
import { summaryRoute } from "./summary-route.js";
import { TrafficStatus } from "./traffic-status.js";
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
  /** Reads the configuration again (SIGHUP, POST /-/reload); throws a ConfigError when invalid. */
  readonly reloadConfig?: () => Promise<SloConfig>;
}

export interface RunningDaemon {
  /** http://HOST:PORT serving /metrics, /healthz and /readyz. */
  readonly url: string;
  /** http://HOST:PORT of agent.admin_listen (/-/reload, /api/v1/*); null when they are on `url`. */
  readonly adminUrl: string | null;
  readonly store: EvidenceStore;
  readonly metrics: SloMetrics;
  readonly alerting: AgentAlerting;
  /** Reads the configuration again and applies it; an invalid one is refused and the running one kept. */
  reload(trigger: string): Promise<ReloadOutcome>;
  /** Stops probing, waits for running probes, writes everything and closes the store. */
  close(): Promise<void>;
}

/** Longest rolling window (30d, or a 31-day month) plus slack: what a restart replays. */
const REPLAY_MS = 32 * DAY_MS;
const DEFAULT_REFRESH_MS = 5_000;
const PRUNE_EVERY_MS = DAY_MS;

/** The runner's view: the provider's targets and, beside them, one per control. */
/**
 * The configuration now in force, as an input record of the evidence log (canonical, secrets
 * "[secret]", machine-local paths left out): a report's figures follow from it. A store that cannot
 * write it costs a warning; the agent keeps probing.
 */
function recordConfiguration(store: EvidenceStore, config: SloConfig, log: DaemonOptions["log"]): void {
  try {
    store.recordInput("config", effectiveConfiguration(config));
  } catch (error) {
    log("warn", "configuration not recorded in the evidence log", { error: (error as Error).message });
  }
}

/**
 * Whether each probe's target has answered under its configuration, judged from the evidence log
 * (src/slo/target-reach.ts) for a stream of results from `from` on: the configuration records and
 * the stored answers before `from`. A restart therefore forgets nothing.
 */
function targetReachFrom(store: EvidenceStore, from: number): TargetReach {
  const records = store.configRecords({ from: Number.MIN_SAFE_INTEGER, to: Number.MAX_SAFE_INTEGER });
  return new TargetReach(
    records,
    from,
    (probe, lo, hi) => store.answeredBetween(probe, lo, hi),
    (address, before) => store.answeredFrom(address, before),
  );
}

/**
 * Ids of the declared windows whose start, end or categories the reload changed: the changed
 * part is judged as announced by this reload (contract section 14), whatever announced_at says.
 */
function movedWindows(before: SloConfig, after: SloConfig): string[] {
  const shape = (w: SloConfig["maintenance"]["windows"][number]) =>
    JSON.stringify([w.start, w.end, w.categories]);
  const old = new Map(before.maintenance.windows.map((w) => [w.id, shape(w)]));
  return after.maintenance.windows
    .filter((w) => old.has(w.id) && old.get(w.id) !== shape(w))
    .map((w) => w.id);
}

/** Ids of the declared windows a reload adds with an announced_at before `now`: they count from now. */
function backdatedNewWindows(before: SloConfig, after: SloConfig, now: EpochMs): string[] {
  const old = new Set(before.maintenance.windows.map((w) => w.id));
  return after.maintenance.windows.filter((w) => !old.has(w.id) && w.announcedAt < now).map((w) => w.id);
}

function runnerConfigOf(config: SloConfig): SloConfig {
  const controls = (config.controls ?? []).map(controlProbe);
  return {
    ...config,
    targets: new Map([...config.targets, ...controls.map((c) => [c.target.id, c.target] as const)]),
  };
}

/**
 * The agent: config -> schedule -> probes -> record (evidence store, rolling windows, counters)
 * -> SLO snapshot -> /metrics, /status and alerts. On start it replays the stored month into the
 * rolling windows so a restart leaves no gap or reset in the SLO figures.
 */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { clock } = options;
  let config = options.config;
  // Every secret of the configuration in force, out of every line the agent logs (rebuilt on reload).
  let secrets = new SecretScrubber(agentSecretValues(config));
  const log = scrubbingLogger(options.log, () => secrets);
  const lock = lockDataDir(options.dataDir, clock.now());
  let store: EvidenceStore;
  try {
    store = openEvidenceStore({
      dataDir: options.dataDir,
      clock,
      retentionDays: config.agent.retentionDays,
      minuteRollupDays: config.agent.minuteRollupDays,
      logger: (line, level) => log(level ?? "warn", line),
      signingKeyFile: config.agent.signingKeyFile ?? null,
      identity: { agent: config.agent.id, region: config.agent.region },
      liveCacheKiB: LIVE_CACHE_KIB,
    });
  } catch (error) {
    lock.release();
    throw error;
  }
  const started = clock.now();
  warnClockBehind(store, started, log);
  recordConfiguration(store, config, log);
  // Declared maintenance (each window by the notice of its versions in the log's configuration
  // records) plus the feed's windows, as the evidence store has them now.
  // A declared window with a feed window's id: both stand; said once per id, when first met.
  const sharedWarned = new Set<string>();
  const effective = (from: SloConfig): SloConfig => {
    const feed = store.feedWindows.all();
    for (const id of sharedWindowIds(from.maintenance.windows, feed)) {
      if (sharedWarned.has(id)) continue;
      sharedWarned.add(id);
      log("warn", sharedIdWarning(id), { window: id });
    }
    return withFeedWindows(from, feed, { ...store.declaredWindowVersions(), now: clock.now() });
  };
  /** The control settings the log holds from `since` on (the one in force then first); `given`'s without any. */
  const controlSettingsSince = (since: EpochMs, given: SloConfig) =>
    controlSettingsOf(
      store.configRecords({ from: since - CONTROL_LOOKBACK_MS, to: Number.MAX_SAFE_INTEGER }),
      given,
    );
  const replay = (from: SloConfig, now: number): RollingWindows => {
    const rebuilt = new RollingWindows(effective(from));
    let replayed = 0;
    // In ts order every control result before a request is known: the report's classification.
    // Each result by the control settings in force when it was sent (the log's configuration records).
    const controls = ControlTimeline.ofSettings(controlSettingsSince(now - REPLAY_MS, from));
    const reach = targetReachFrom(store, now - REPLAY_MS);
    for (const result of store.results({ from: now - REPLAY_MS, to: now })) {
      controls.add(result);
      // The live windows and alerts follow the probes; merchant requests are in the report.
      if (result.source === "traffic") continue;
      const unreached = controlIdOf(result) === null && reach.observe(result);
      rebuilt.record(result, automaticReasonOf(result, controls, unreached) !== null);
      replayed++;
    }
    log("info", "rolling windows replayed from the evidence store", { store: store.path, results: replayed });
    return rebuilt;
  };
  let windows = replay(config, started);
  // /status: the month to date's merchant requests, from the store, then as they are committed.
  const trafficStatus = new TrafficStatus();
  trafficStatus.add(store.results({ from: monthInterval(monthOf(started)).start, to: started }), started);

  const metrics = await createSloMetrics({
    // Its outcome="excluded" follows the windows the figures use (declared by notice, and the feed's).
    config: effective(config),
    version: AGENT_VERSION,
    runtimeMetrics: true,
    ...(config.agent.otlp
      ? { otlp: { ...config.agent.otlp, log, environmentValues: config.environmentValues ?? [] } }
      : {}),
  });
  const events = new ProbeEvents({
    clock,
    log,
    // A flow step's results name the step (flow/step): its target is the flow's.
    targetOf: (probe) =>
      config.probes.find((p) => recordedProbesOf(p).some((r) => r.probe === probe))?.target ?? undefined,
  });
  const counts = new CommittedCounts((result, reason) => metrics.recordResult(result, reason));
  store.onCommitted((batch) => {
    const results = batch.map((c) => c.result);
    // Merchant requests (contract section 19) have their own counters and no probe to validate.
    const traffic = results.filter((r) => r.source === "traffic");
    if (traffic.length > 0) {
      metrics.traffic.committed(traffic);
      trafficStatus.add(traffic, clock.now());
    }
    counts.committed(
      traffic.length > 0 ? results.filter((r) => r.source !== "traffic") : results,
      clock.now(),
    );
  });
  // Live results come after everything stored (the store stamps them with this clock).
  const reach = targetReachFrom(store, started);
  const validity = new ValidityTracker({
    config,
    controlSettings: controlSettingsSince(
      Math.min(started, monthInterval(monthOf(started)).start) - CONTROL_LOOKBACK_MS,
      config,
    ),
    clock,
    log,
    reach,
    decided: (result, reason) => {
      windows.record(result, reason !== null);
      counts.decided(result, reason, clock.now());
    },
  });
  // The stored results of the last day: whether each control was a healthy, consistent witness
  // before a restart is judged as the report judges it, not afresh (src/slo/controls.ts). The
  // provider's answers matter too (the consistency rule), so every category is read.
  // From a day before the month too: /status shows the month's merchant-side minutes as the report does.
  if ((config.controls ?? []).length > 0) {
    const from = Math.min(
      started - CONTROL_LOOKBACK_MS,
      monthInterval(monthOf(started)).start - CONTROL_LOOKBACK_MS,
    );
    validity.rememberResults(store.results({ from, to: started }), targetReachFrom(store, from));
  }
  // The latest run of each tls, dns and tcp probe, for their alerts (they are in no SLA figure).
  const diagnostics = new Map<string, ProbeResult>();
  const sink: ResultSink = {
    record(result: ProbeResult) {
      if (result.category === DIAGNOSTIC_CATEGORY) diagnostics.set(result.probe, result);
      events.observe(result);
      store.record(result);
      validity.record(result);
    },
  };
  const probing = startProbing(clock, {
    config: runnerConfigOf(config),
    probes: config.probes,
    controls: (config.controls ?? []).map((c) => controlProbe(c).spec),
    sink,
    maxStallMs: config.agent.maxStallMs ?? DEFAULT_STALL_MS,
    niceOtherThreads: config.agent.niceOtherThreads ?? DEFAULT_NICE_OTHER_THREADS,
    log: (level, message, fields) => log(level, message, fields),
    onLag: (lagMs) => metrics.recordStall(lagMs),
    onRunQueue: (waitedMs) => metrics.recordRunQueue(waitedMs),
    onLateness: (probe, lateMs) => metrics.recordLateness(probe, lateMs),
  });

  let agentUrl = "";
  const alertDispatcher = new Agent({ connections: 4 });
  const feedDispatcher = new Agent({ connections: 1 });
  const startFeed = (from: SloConfig): MaintenanceFeedPoller | null => {
    const feed = from.maintenance.feed;
    if (!feed) return null;
    const poller = new MaintenanceFeedPoller({
      feed,
      clock,
      dispatcher: feedDispatcher,
      ledger: store.feedWindows,
      log,
      // New or moved windows change which requests are excluded: rebuild the rolling windows.
      changed: () => {
        windows = replay(config, clock.now());
        metrics.reconfigure(effective(config));
      },
    });
    poller.start();
    return poller;
  };
  let feedPoller: MaintenanceFeedPoller | null = null;
  const alerting = new AgentAlerting({
    config,
    clock,
    ledger: store.notifications,
    dispatcher: alertDispatcher,
    random: options.random ?? Math.random,
    log,
    generatorUrl: () => `${agentUrl}/alerts`,
  });
  const reports = scheduleReports({
    dataDir: options.dataDir,
    store,
    config: () => config,
    alerting,
    clock,
    log,
    onSuccess: (at) => metrics.setReportSuccess(at),
  });
  metrics.setAlertSource(() => {
    const view = alerting.view();
    const firing = view.alerts.filter((a) => a.state === "firing" && a.inhibitedBy === null);
    return { firing: firing.map((a) => a.labels), deliveries: view.deliveries, queueDepth: view.queueDepth };
  });

  let ready = false;
  let server: MetricsServer;
  let admin: MetricsServer | null = null;
  const adminRoutes = [
    reloadRoute(
      () => config.agent.adminToken,
      (trigger) => reload(trigger),
    ),
    summaryRoute({ config: () => config, store, now: () => clock.now() }),
  ];
  const adminListen = config.agent.adminListen;
  const allowedHosts = config.agent.allowedHosts;
  const common = {
    metrics,
    ready: () => ready,
    alerts: () => alertsDocument(alerting),
    ...(allowedHosts === undefined ? {} : { allowedHosts }),
  };
  try {
    server = await startMetricsServer({
      ...options.listen,
      ...common,
      routes: [
        // With agent.admin_listen, the admin and read API are not on the public listener at all.
        ...(adminListen === undefined ? adminRoutes : elsewhere(["/-/reload", "/api/v1/"])),
        // Always routed: a reload that adds `traffic:` starts serving it, one that removes it stops
        // (404, as for any path not served), and a new token or new routes apply at once.
        trafficRoute({
          settings: () => (config.traffic ? { traffic: config.traffic, targets: config.targets } : null),
          sink: store,
          dropped: (n) => metrics.traffic.dropped(n),
          now: () => clock.now(),
        }),
        ...pageRoutes(() => ({
          snapshot: windows.snapshot(clock.now()),
          titles: new Map([...config.categories.values()].map((c) => [c.id, c.title])),
          maintenance: effective(config).maintenance.windows.filter((w) => !isCancelled(w)),
          alerts: firingAlerts(alerting) satisfies readonly FiringAlert[],
          failures: events.recentFailures(),
          evidence: { refusal: store.signingRefusal(), rollback: store.rollbackDetected() },
          diagnostics: [...diagnostics.values()].filter((r) => config.probes.some((p) => p.id === r.probe)),
          merchantSideMinutes: validity.merchantSideMinutes(),
          validity: validity.validity(),
          ...(config.traffic ? { traffic: trafficStatus.counts(clock.now()) } : {}),
          burnRate: (category, window) => {
            const known = BURN_RATE_WINDOWS.find((w) => w.window === window);
            return known === undefined ? null : windows.burnRateOver(category, known.ms, clock.now());
          },
          version: AGENT_VERSION,
        })),
      ],
    });
    if (adminListen !== undefined) {
      try {
        admin = await startMetricsServer({ ...adminListen, ...common, routes: adminRoutes });
      } catch (error) {
        await server.close();
        throw error;
      }
    }
  } catch (error) {
    // The prober's thread would keep the process alive: a failed start must end it.
    await probing.stop();
    await alertDispatcher.close();
    await feedDispatcher.close();
    store.close();
    lock.release();
    await metrics.shutdown();
    throw error;
  }
  // The run starts once the agent can serve: a failed start is not recorded as monitored time.
  store.startRun(started);
  agentUrl = server.url;
  alerting.start();
  feedPoller = startFeed(config);

  const refresh = () => {
    const now = clock.now();
    windows.prune(now);
    validity.flush(now);
    counts.prune(now);
    const probes = validity.validity();
    const snapshot = { ...windows.snapshot(now), validity: probes };
    metrics.updateSnapshot(snapshot);
    metrics.updateValidity(probes);
    store.heartbeat(now);
    // An idle agent writes no batch for a while: the rollback guard runs here too (two lookups).
    store.checkSignedHead();
    const health = store.health();
    events.storeHealth(health.writable, health.buffered);
    const stats = probing.stats();
    const coverage = probing.coverage();
    try {
      alerting.evaluate({
        snapshot,
        coverage: coverageByCategory(config, coverage),
        burnRate: (category, window) => windows.burnRateOver(category, burnRateWindowMs(window), now),
        measuredSince: windows.firstRecordedAt(),
        diagnostics: [...diagnostics.values()],
        evidenceRefusal: store.signingRefusal(),
      });
    } catch (error) {
      log("error", "alerts: evaluation failed", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    reports.tick(config.reportSchedule, now);
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
      signingRefused: store.signingRefusal() !== null,
      feedReadable: feedPoller?.readable ?? null,
      feedEntriesLeftOut: feedPoller?.leftOut ?? null,
    });
  };
  let lastPrune = started;
  let timer: TimerHandle | null = null;
  const tick = () => {
    refresh();
    if (clock.now() - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = clock.now();
      const outcome = store.prune(lastPrune);
      log("info", "retention pruned the evidence store", { ...outcome });
    }
    timer = clock.setTimeout(tick, options.refreshMs ?? DEFAULT_REFRESH_MS);
  };

  probing.start();
  tick();
  ready = true;
  log("info", "agent started", {
    probes: config.probes.length,
    categories: config.categories.size,
    controls: config.controls?.length ?? 0,
    metrics: `${server.url}/metrics`,
    version: AGENT_VERSION,
  });

  // Reloads run one at a time, in the order asked.
  let reloading: Promise<unknown> = Promise.resolve();
  const reload = (trigger: string): Promise<ReloadOutcome> => {
    const next = reloading.then(() => applyReload(trigger));
    reloading = next.catch(() => {});
    return next;
  };
  const applyReload = async (trigger: string): Promise<ReloadOutcome> => {
    if (!options.reloadConfig)
      return { ok: false, problems: ["this agent was started without a configuration file"] };
    let loaded: SloConfig;
    try {
      loaded = await options.reloadConfig();
    } catch (error) {
      const problems = problemLines(error);
      for (const problem of problems) log("error", "configuration problem", { problem });
      log("warn", "configuration reload refused; the running configuration is kept", {
        trigger,
        problems: problems.length,
      });
      return { ok: false, problems };
    }
    const { agent, needRestart } = settleAgentSettings(config.agent, loaded.agent);
    // Controls run on a scheduler and timeline fixed at start: the running ones, and their quorum,
    // are kept (and so recorded: the log holds what judged each result, contract section 14).
    if (!structurallyEqual(config.controls ?? [], loaded.controls ?? [])) needRestart.push("controls");
    if (config.controlsQuorum !== loaded.controlsQuorum) needRestart.push("controls_quorum");
    const { controlsQuorum: _loadedQuorum, ...rest } = loaded;
    const next: SloConfig = {
      ...rest,
      agent,
      controls: config.controls ?? [],
      ...(config.controlsQuorum === undefined ? {} : { controlsQuorum: config.controlsQuorum }),
    };
    try {
      // First: an alert receiver it cannot use refuses the reload before anything has changed.
      alerting.reconfigure(next);
    } catch (error) {
      const problems = problemLines(error);
      log("warn", "configuration reload refused; the running configuration is kept", { trigger, problems });
      return { ok: false, problems };
    }
    // Recorded first: a declared window moved by this reload is judged from this record's time.
    recordConfiguration(store, next, log);
    validity.reconfigure(next);
    const windowsRecomputed = classificationChanged(config, next);
    if (windowsRecomputed) windows = replay(next, clock.now());
    metrics.reconfigure(effective(next));
    const outcome = probing.reconcile(runnerConfigOf(next), next.probes);
    const feedChanged = !structurallyEqual(config.maintenance.feed, next.maintenance.feed);
    const moved = movedWindows(config, next);
    const added = backdatedNewWindows(config, next, clock.now());
    const policyChanged = !structurallyEqual(config.maintenance.policy, next.maintenance.policy);
    config = next;
    secrets = new SecretScrubber(agentSecretValues(next));
    // Results sent from now on are judged under the new configuration's target identities.
    const latest = store.configRecords({ from: Number.MAX_SAFE_INTEGER, to: Number.MAX_SAFE_INTEGER }).at(-1);
    if (latest) reach.configured(latest);
    if (feedChanged) {
      // The old feed is no longer read: a stretch of failures it was in ends here.
      await feedPoller?.close({ stopped: true });
      feedPoller = startFeed(next);
    }
    refresh();
    for (const key of needRestart)
      log("warn", "configuration key changed; it takes effect at the next start", { key });
    log("info", "configuration reloaded", {
      trigger,
      kept: outcome.kept.length,
      added: outcome.added,
      changed: outcome.changed,
      removed: outcome.removed,
      windows_recomputed: windowsRecomputed,
    });
    if (moved.length > 0)
      log("warn", "declared maintenance moved: the changed part counts as announced now", { windows: moved });
    if (added.length > 0)
      log("warn", "declared maintenance added: it counts as announced now, not from its announced_at", {
        windows: added,
      });
    if (policyChanged)
      log(
        "warn",
        "maintenance policy changed: it judges from the next month, this month keeps the policy in force when it began",
      );
    return { ok: true, ...outcome, windowsRecomputed, needRestart };
  };

  return {
    url: server.url,
    adminUrl: admin?.url ?? null,
    store,
    metrics,
    alerting,
    reload,
    async close() {
      ready = false;
      timer?.cancel();
      await Promise.all([probing.stop(), feedPoller?.close()]);
      // What still waits for its controls is decided with what is known: no more will come.
      validity.flush(Number.POSITIVE_INFINITY);
      refresh();
      await reports.idle();
      await alerting.close();
      await alertDispatcher.close();
      await feedDispatcher.close();
      store.endRun(clock.now());
      store.close();
      lock.release();
      await server.close();
      await admin?.close();
      await metrics.shutdown();
    },
  };
}

/** How far this host's clock may be behind the newest record of the log before the agent says so. */
const CLOCK_BEHIND_WARN_MS = 60_000;

/**
 * A clock set back (by hand, a broken NTP sync, a VM restored from a snapshot) dates what the agent
 * records now before what its log already holds. Nothing is lost and no figure gains from it: an
 * input counts from the newest one before it (input-log.ts SEEN_INPUTS) and reports count and
 * flag back-dated results. The operator is told at once, with the size of the gap.
 */
function warnClockBehind(store: EvidenceStore, now: EpochMs, log: DaemonOptions["log"]): void {
  const newest = store.newestRecordedTs();
  if (newest === null || newest - now <= CLOCK_BEHIND_WARN_MS) return;
  log(
    "warn",
    "this host's clock is behind the newest record of the evidence log: what the agent records now is dated before it (reports flag back-dated results, and inputs count from the newest record before them); set the clock right (NTP) and restart",
    {
      clock: new Date(now).toISOString(),
      newest_record: new Date(newest).toISOString(),
      behind_s: Math.round((newest - now) / 1000),
    },
  );
}

/**
 * The probing: on the system clock, a thread of its own (prober-thread.ts), so nothing the main
 * thread does can delay a run or stretch a measured duration; on any other clock (a test's),
 * which cannot cross to a thread, on this thread under the same stall guard.
 */
function startProbing(clock: Clock, setup: Omit<ProbingSetup, "clock">): Probing {
  return clock === systemClock ? new ProberThread(setup) : probeHere({ ...setup, clock });
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

/** Paths served on agent.admin_listen instead: 404 on the public listener, whatever the method. */
function elsewhere(paths: readonly string[]): Route[] {
  return paths.flatMap((path) =>
    (["GET", "POST"] as const).map(
      (method): Route => ({
        path,
        prefix: path.endsWith("/"),
        method,
        handle(request, response) {
          request.resume();
          reply(response, 404, "not found: served on agent.admin_listen\n");
        },
      }),
    ),
  );
}
