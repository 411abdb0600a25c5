/**
 * slo-agent side by side with blackbox_exporter (Debian's package, when installed): the same
 * loopback target answering after 20 ms, the same probe rates, each tool's own CPU and RSS read
 * from /proc. blackbox_exporter is driven the way Prometheus drives it (GET /probe), from a
 * process of its own; it opens a fresh connection for every probe, so it is compared with the
 * agent both reusing connections (its default, keep_alive: true) and opening fresh ones.
 * Figures, not assertions.
 */
import { emit, percentile, round } from "./figures.js";
import { type AgentLoad, startAgent } from "./peers/agent.js";
import { monthSummaries, pipelinedFlood, scrapeStorm, seedMonthSoFar } from "./peers/agent-load.js";
import { blackboxBinary, startBlackbox } from "./peers/blackbox.js";
import { startDesignFloor } from "./peers/design-floor.js";
import { driveProbes } from "./peers/driver.js";
import { type FloorRun, startFloorClient } from "./peers/floor.js";
import { cpuSeconds, rssMb, sleep } from "./peers/process-stats.js";
import { type DelayedTarget, startDelayedTarget } from "./peers/target.js";

const SERVER_DELAY_MS = 20;

/** Seconds of warm-up, of measurement at a rate, of the idle profile and before reading RSS. */
interface Timing {
  readonly warmS: number;
  readonly measureS: number;
  readonly idleS: number;
  /** Before the idle profile is measured: one probe interval, so that every probe has run once. */
  readonly idleWarmS: number;
  readonly rssS: number;
}

// 15 s of warm-up: the agent's first ~12 s hold V8 compiling its hot paths and sizing its heaps on
// both threads, bursts that fill both cores for 20-35 ms and put the 50/s p99 at 1.7-2.7x the
// floor when they fell in the measurement (2026-12-07, bench/bounds.md). Every tool here is
// measured after its start-up: a daemon's first seconds are not its steady state.
// Measured 20 s at a rate, 60 s idle: each figure is the median of three runs (`--runs 3`).
// The idle profile's warm-up is one probe interval (30 s): with 5 s, the first run of most of the
// 13 probes (their code compiled, first checkpoint, first window refreshes) fell in the measured
// minute: the agent's idle cost read 1.4x its steady state, the design floor's 2.2x (2026-12-07,
// bench/bounds.md).
const FULL: Timing = { warmS: 15, measureS: 20, idleS: 60, idleWarmS: 30, rssS: 30 };
const QUICK: Timing = { warmS: 3, measureS: 8, idleS: 30, idleWarmS: 10, rssS: 20 };

function overhead(durations: readonly number[], delayMs: number) {
  const over = durations.map((d) => d - delayMs);
  return { p50: round(percentile(over, 50)), p99: round(percentile(over, 99)) };
}

/** The agent at `rate` probes a second (that many probes every 1 s): CPU per probe and overhead. */
async function agentAtRate(target: DelayedTarget, rate: number, keepAlive: boolean, t: Timing) {
  const load: AgentLoad = { origin: target.origin, probes: rate, everySeconds: 1, keepAlive };
  const agent = await startAgent(load);
  try {
    await sleep(t.warmS * 1000);
    const from = Date.now();
    const cpuBefore = cpuSeconds(agent.pid);
    await sleep(t.measureS * 1000);
    const cpu = cpuSeconds(agent.pid) - cpuBefore;
    const to = Date.now();
    const rss = rssMb(agent.pid);
    await agent.stop();
    const durations = agent.durationsBetween(from, to);
    return {
      probes: durations.length,
      cpuMsPerProbe: (cpu * 1000) / Math.max(1, durations.length),
      rss,
      ...overhead(durations, target.delayMs),
    };
  } finally {
    await agent.stop();
    agent.cleanup();
  }
}

async function blackboxAtRate(binary: string, target: DelayedTarget, rate: number, seconds: number) {
  const blackbox = await startBlackbox(binary);
  try {
    // Warm-up: a second of probes, so that start-up costs are not counted.
    await driveProbes(blackbox.probeUrl(target.origin), rate, 1);
    const before = cpuSeconds(blackbox.pid);
    const outcome = await driveProbes(blackbox.probeUrl(target.origin), rate, seconds);
    const cpu = cpuSeconds(blackbox.pid) - before;
    const probes = outcome.durationsMs.length;
    return {
      probes,
      failed: outcome.failed,
      cpuMsPerProbe: (cpu * 1000) / Math.max(1, probes),
      rss: rssMb(blackbox.pid),
      ...overhead(outcome.durationsMs, target.delayMs),
    };
  } finally {
    await blackbox.stop();
  }
}

type StartFloor = (origin: string, probes: number, everySeconds: number, keepAlive: boolean) => FloorRun;

/**
 * A floor: bare undici in a Node.js process of its own, sending the same requests at the same
 * rate and spread (bench/peers/floor.ts), or the design floor, which also probes from a thread of
 * its own and writes signed evidence (bench/peers/design-floor.ts). CPU ms per request, and CPU ms
 * per wall second.
 */
async function floorAt(
  target: DelayedTarget,
  probes: number,
  everySeconds: number,
  keepAlive: boolean,
  warmS: number,
  seconds: number,
  start: StartFloor = startFloorClient,
) {
  const floor = start(target.origin, probes, everySeconds, keepAlive);
  try {
    await sleep(warmS * 1000);
    const before = cpuSeconds(floor.pid);
    const sentBefore = (await floor.sample()).sent;
    await sleep(seconds * 1000);
    const cpu = cpuSeconds(floor.pid) - before;
    const measured = await floor.sample();
    const sent = measured.sent - sentBefore;
    return {
      msPerProbe: (cpu * 1000) / Math.max(1, sent),
      msPerSecond: (cpu * 1000) / seconds,
      rss: rssMb(floor.pid),
      ...overhead(measured.durationsMs, target.delayMs),
    };
  } finally {
    await floor.stop();
  }
}

/**
 * The shipped profile's load: 13 probes (one a category) every 30 s; CPU ms per wall second.
 * `scrapeEveryS`: Prometheus scrapes /metrics that often meanwhile (issue 30 item 2).
 */
async function agentIdle(target: DelayedTarget, t: Timing, scrapeEveryS?: number) {
  const seconds = t.idleS;
  const agent = await startAgent({ origin: target.origin, probes: 13, everySeconds: 30, keepAlive: true });
  try {
    await sleep(t.idleWarmS * 1000);
    const before = cpuSeconds(agent.pid);
    if (scrapeEveryS === undefined) await sleep(seconds * 1000);
    else
      for (let elapsed = 0; elapsed < seconds; elapsed += scrapeEveryS) {
        await (await fetch(`${agent.url}/metrics`)).text();
        await sleep(scrapeEveryS * 1000);
      }
    return { cpuMsPerSecond: ((cpuSeconds(agent.pid) - before) * 1000) / seconds, rss: rssMb(agent.pid) };
  } finally {
    await agent.stop();
    agent.cleanup();
  }
}

/** blackbox_exporter probing the 13 categories every `everyS` (each probe is a scrape of /probe). */
async function blackboxIdle(binary: string, target: DelayedTarget, t: Timing, everyS = 30) {
  const seconds = t.idleS;
  const blackbox = await startBlackbox(binary);
  try {
    // The same warm-up as the agent's: probed as it will be measured.
    await driveProbes(blackbox.probeUrl(target.origin), 13 / everyS, t.idleWarmS);
    const before = cpuSeconds(blackbox.pid);
    await driveProbes(blackbox.probeUrl(target.origin), 13 / everyS, seconds);
    return {
      cpuMsPerSecond: ((cpuSeconds(blackbox.pid) - before) * 1000) / seconds,
      rss: rssMb(blackbox.pid),
    };
  } finally {
    await blackbox.stop();
  }
}

/** The container's entry point (Dockerfile): V8 sized for memory rather than speed. */
const SMALL_HEAP = ["--optimize-for-size"];

/**
 * RSS after `seconds` with `probes` probes every 30 s, before and after five scrapes (one a
 * second), and how long /metrics takes then (the median of the five, from request to last byte).
 * `nodeOptions`: none given, the agent starts as `npx slo-agent run` does (its shebang's options).
 */
async function agentRss(target: DelayedTarget, probes: number, seconds: number, nodeOptions?: string[]) {
  const load = {
    origin: target.origin,
    probes,
    everySeconds: 30,
    keepAlive: true,
    ...(nodeOptions ? { nodeOptions } : {}),
  };
  const agent = await startAgent(load);
  try {
    await sleep(seconds * 1000);
    const before = rssMb(agent.pid);
    const renders: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await (await fetch(`${agent.url}/metrics`)).text();
      renders.push(performance.now() - t);
      await sleep(1000);
    }
    return { rssBefore: before, rss: rssMb(agent.pid), metricsMs: percentile(renders, 50) };
  } finally {
    await agent.stop();
    agent.cleanup();
  }
}

/** A day of the shipped profile: 13 probes every 30 s, and a Prometheus scrape every 15 s. */
const DAY_RUNS = 13 * 2 * 60 * 24;
const DAY_SCRAPES = 4 * 60 * 24;
/** Runs a second of the compressed day: 37,440 runs in ~2 min. */
const SOAK_RATE = 300;

/**
 * Issue 30 item 3, growth over a day: a day's work of the shipped profile (37,440 runs and 5,760
 * scrapes) done at 300 runs a second with the scrapes spread evenly over the same ~2 min. RSS
 * after the warm-up, at each tenth of the day, its peak and at the end. Growth is from the first
 * tenth to the end: the first seconds of that load size V8's heaps for it (118 -> 200 MB in 20 s,
 * flat from there for two days' work in a trial run), which is not growth over the day. What a
 * compressed day does not hold is state kept
 * per minute of wall time (the rolling windows' buckets: a day has 1,440 minutes), which
 * bench/bounds.md bounds from the windows' own figures.
 */
async function soakFigures(target: DelayedTarget, t: Timing) {
  const agent = await startAgent({
    origin: target.origin,
    probes: SOAK_RATE,
    everySeconds: 1,
    keepAlive: true,
  });
  try {
    await sleep(t.warmS * 1000);
    const warm = rssMb(agent.pid);
    let peak = warm;
    const ms = (DAY_RUNS / SOAK_RATE) * 1000;
    const from = Date.now();
    let scrapes = 0;
    // RSS at each tenth of the day: a plateau is a heap sized for the load, a slope a leak.
    const tenths: number[] = [];
    for (let elapsed = 0; elapsed < ms; elapsed = Date.now() - from) {
      const due = Math.min(DAY_SCRAPES, Math.floor((elapsed / ms) * DAY_SCRAPES));
      for (; scrapes < due; scrapes++) await (await fetch(`${agent.url}/metrics`)).text();
      const rss = rssMb(agent.pid);
      peak = Math.max(peak, rss);
      if (elapsed >= ((tenths.length + 1) * ms) / 10) tenths.push(round(rss, 0)!);
      await sleep(20);
    }
    for (; scrapes < DAY_SCRAPES; scrapes++) await (await fetch(`${agent.url}/metrics`)).text();
    const to = Date.now();
    const end = rssMb(agent.pid);
    await agent.stop();
    emit({
      bench: "compare.soak",
      runs: agent.durationsBetween(from, to).length,
      scrapes,
      seconds: round((to - from) / 1000, 0),
      rss_warm_mb: round(warm, 1),
      rss_peak_mb: round(Math.max(peak, end), 1),
      rss_end_mb: round(end, 1),
      growth_pct: tenths.length > 0 ? round(((end - tenths[0]!) / tenths[0]!) * 100, 1) : null,
      rss_by_tenth_mb: tenths,
    });
  } finally {
    await agent.stop();
    agent.cleanup();
  }
}

const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || b === 0 ? null : round(a / b, 2);

/**
 * COMPARE_PARTS=cpu,load (any of cpu, idle, rss, soak, load, start) runs only those parts; all by default.
 * cpu: CPU per probe and overhead p50/p99 beside blackbox_exporter; idle: the shipped profile's
 * idle cost; rss: RSS at 13, 1,000 and 10,000 probes; soak: RSS over a day's work; load: a 1 ms target's recorded latency
 * under the agent's own load (issue 24); start: spawn to listening and to the first probe.
 */
function partsToRun(): Set<string> {
  const named = process.env.COMPARE_PARTS?.split(",").filter((p) => p !== "");
  const known = ["cpu", "idle", "rss", "soak", "load", "start"];
  const unknown = (named ?? []).filter((p) => !known.includes(p));
  if (unknown.length > 0)
    throw new Error(`COMPARE_PARTS: unknown part ${unknown.join(", ")}; known: ${known.join(", ")}`);
  return new Set(named && named.length > 0 ? named : known);
}

/** COMPARE_RATES=50 (probes a second, comma-separated) for the cpu part; 50 and 200 by default. */
function ratesToRun(): number[] {
  const named = process.env.COMPARE_RATES?.split(",").filter((r) => r !== "");
  if (!named || named.length === 0) return [50, 200];
  const rates = named.map(Number);
  if (rates.some((r) => !Number.isInteger(r) || r <= 0))
    throw new Error(`COMPARE_RATES: not whole positive rates: ${named.join(",")}`);
  return rates;
}

/**
 * Start to first probe: from spawning the agent as `npx slo-agent run` does (the shipped
 * profile's 13 categories, a probe each every second, so a probe is due every ~77 ms) to its
 * "listening on" line and to the start of the first probe the store holds. The median of three.
 */
async function startFigures(target: DelayedTarget) {
  const listening: number[] = [];
  const firstProbe: number[] = [];
  for (let i = 0; i < 3; i++) {
    const agent = await startAgent({ origin: target.origin, probes: 13, everySeconds: 1, keepAlive: true });
    try {
      await sleep(3_000);
      listening.push(agent.listeningMs);
      const first = agent.firstProbeMs();
      if (first !== null) firstProbe.push(first);
    } finally {
      await agent.stop();
      agent.cleanup();
    }
  }
  emit({
    bench: "compare.start",
    runs: listening.length,
    listening_ms: round(percentile(listening, 50)),
    first_probe_ms: firstProbe.length > 0 ? round(percentile(firstProbe, 50)) : null,
  });
}

export async function run(options: { quick?: boolean } = {}): Promise<void> {
  const t = options.quick ? QUICK : FULL;
  const parts = partsToRun();
  const blackbox = blackboxBinary();
  const target = await startDelayedTarget(SERVER_DELAY_MS);
  try {
    for (const rate of parts.has("cpu") ? ratesToRun() : []) {
      const reuse = await agentAtRate(target, rate, true, t);
      const fresh = await agentAtRate(target, rate, false, t);
      const peer = blackbox ? await blackboxAtRate(blackbox.path, target, rate, t.measureS) : null;
      const floorReuse = await floorAt(target, rate, 1, true, t.warmS, t.measureS);
      const floorFresh = await floorAt(target, rate, 1, false, t.warmS, t.measureS);
      const designReuse = await floorAt(target, rate, 1, true, t.warmS, t.measureS, startDesignFloor);
      const designFresh = await floorAt(target, rate, 1, false, t.warmS, t.measureS, startDesignFloor);
      emit({
        bench: "compare.design_floor",
        rate_per_s: rate,
        design_reuse_ms: round(designReuse.msPerProbe),
        design_fresh_ms: round(designFresh.msPerProbe),
        design_over_floor_reuse: ratio(designReuse.msPerProbe, floorReuse.msPerProbe),
        design_over_floor_fresh: ratio(designFresh.msPerProbe, floorFresh.msPerProbe),
        agent_over_design_reuse: ratio(reuse.cpuMsPerProbe, designReuse.msPerProbe),
        agent_over_design_fresh: ratio(fresh.cpuMsPerProbe, designFresh.msPerProbe),
      });
      emit({
        bench: "compare.floor",
        rate_per_s: rate,
        undici_reuse_ms: round(floorReuse.msPerProbe),
        undici_fresh_ms: round(floorFresh.msPerProbe),
        agent_over_floor_reuse: ratio(reuse.cpuMsPerProbe, floorReuse.msPerProbe),
        agent_over_floor_fresh: ratio(fresh.cpuMsPerProbe, floorFresh.msPerProbe),
        floor_over_blackbox_reuse: ratio(floorReuse.msPerProbe, peer?.cpuMsPerProbe ?? null),
        floor_over_blackbox_fresh: ratio(floorFresh.msPerProbe, peer?.cpuMsPerProbe ?? null),
      });
      emit({
        bench: "compare.cpu_per_probe",
        rate_per_s: rate,
        agent_reuse_ms: round(reuse.cpuMsPerProbe),
        agent_fresh_ms: round(fresh.cpuMsPerProbe),
        blackbox_ms: round(peer?.cpuMsPerProbe ?? null),
        ratio_reuse: ratio(reuse.cpuMsPerProbe, peer?.cpuMsPerProbe ?? null),
        ratio_fresh: ratio(fresh.cpuMsPerProbe, peer?.cpuMsPerProbe ?? null),
        agent_probes: reuse.probes + fresh.probes,
        blackbox_probes: peer?.probes ?? null,
        blackbox_failed: peer?.failed ?? null,
      });
      emit({
        bench: "compare.overhead",
        rate_per_s: rate,
        agent_reuse_p50_ms: reuse.p50,
        agent_reuse_p99_ms: reuse.p99,
        agent_fresh_p50_ms: fresh.p50,
        agent_fresh_p99_ms: fresh.p99,
        blackbox_p50_ms: peer?.p50 ?? null,
        blackbox_p99_ms: peer?.p99 ?? null,
        undici_reuse_p99_ms: floorReuse.p99,
        undici_fresh_p99_ms: floorFresh.p99,
        ratio_p99_reuse: ratio(reuse.p99, peer?.p99 ?? null),
        ratio_p99_fresh: ratio(fresh.p99, peer?.p99 ?? null),
      });
    }
    if (parts.has("idle")) await idleFigures(blackbox, target, t);
    if (parts.has("rss")) await rssFigures(target, t);
    if (parts.has("soak")) await soakFigures(target, t);
    if (parts.has("load")) await loadFigures(t);
    if (parts.has("start")) await startFigures(target);
    emit({ bench: "compare.peer", blackbox_exporter: blackbox?.version ?? "not installed" });
  } finally {
    target.stop();
  }
}

async function idleFigures(blackbox: ReturnType<typeof blackboxBinary>, target: DelayedTarget, t: Timing) {
  const idle = await agentIdle(target, t);
  const peerIdle = blackbox ? await blackboxIdle(blackbox.path, target, t) : null;
  const floorIdle = await floorAt(target, 13, 30, true, t.idleWarmS, t.idleS);
  const designIdle = await floorAt(target, 13, 30, true, t.idleWarmS, t.idleS, startDesignFloor);
  emit({
    bench: "compare.idle",
    probes: 13,
    every_s: 30,
    agent_cpu_ms_per_s: round(idle.cpuMsPerSecond),
    blackbox_cpu_ms_per_s: round(peerIdle?.cpuMsPerSecond ?? null),
    ratio: ratio(idle.cpuMsPerSecond, peerIdle?.cpuMsPerSecond ?? null),
    agent_rss_mb: round(idle.rss, 1),
    blackbox_rss_mb: round(peerIdle?.rss ?? null, 1),
    undici_floor_cpu_ms_per_s: round(floorIdle.msPerSecond),
    undici_floor_rss_mb: round(floorIdle.rss, 1),
    design_floor_cpu_ms_per_s: round(designIdle.msPerSecond),
    design_floor_rss_mb: round(designIdle.rss, 1),
    design_floor_over_blackbox: ratio(designIdle.msPerSecond, peerIdle?.cpuMsPerSecond ?? null),
  });
  // Issue 30 item 2: Prometheus scraping every 15 s. The agent serves /metrics that often beside its
  // own 13 probes every 30 s; blackbox_exporter probes the 13 categories at each scrape.
  const scraped = await agentIdle(target, t, SCRAPE_EVERY_S);
  const peerScraped = blackbox ? await blackboxIdle(blackbox.path, target, t, SCRAPE_EVERY_S) : null;
  emit({
    bench: "compare.idle_scraped",
    probes: 13,
    every_s: 30,
    scrape_every_s: SCRAPE_EVERY_S,
    agent_cpu_ms_per_s: round(scraped.cpuMsPerSecond),
    blackbox_cpu_ms_per_s: round(peerScraped?.cpuMsPerSecond ?? null),
    ratio: ratio(scraped.cpuMsPerSecond, peerScraped?.cpuMsPerSecond ?? null),
  });
}

/** How often Prometheus scrapes in the idle profile with scrapes (its common default). */
const SCRAPE_EVERY_S = 15;

async function rssFigures(target: DelayedTarget, t: Timing) {
  for (const probes of [13, 1_000, 10_000]) {
    const { rss, rssBefore, metricsMs } = await agentRss(target, probes, t.rssS);
    const small = await agentRss(target, probes, t.rssS, SMALL_HEAP);
    emit({
      bench: "compare.rss",
      probes,
      every_s: 30,
      agent_rss_before_scrapes_mb: round(rssBefore, 1),
      agent_rss_mb: round(rss, 1),
      metrics_render_ms: round(metricsMs),
      agent_rss_optimize_for_size_mb: round(small.rss, 1),
    });
  }
}

/** The agent's own loads of issue 24, each beside 50 probes a second of a target answering in 1 ms. */
const AGENT_LOADS: Record<
  string,
  { token?: string; seed?: boolean; make: (url: string, s: number) => Promise<unknown> }
> = {
  none: { make: (_url, s) => sleep(s * 1000) },
  pipelined_flood: { make: (url, s) => pipelinedFlood(url, s) },
  scrapers_200: { make: (url, s) => scrapeStorm(url, 200, s) },
  month_summary: {
    token: "bench-api-token-0123456789",
    seed: true,
    make: (url, s) => monthSummaries(url, "bench-api-token-0123456789", s),
  },
};

/**
 * The recorded latency of a target answering in 1 ms (in a process of its own) while the agent is
 * loaded as in issue 24: the contract's target is a recorded p99 under 25 ms and nothing booked on
 * the provider (no failure, no objective missed). agent_error: results the stall guard took off
 * the provider's figures. RSS: before the load and its peak while it ran.
 */
async function loadFigures(t: Timing) {
  const target = await startDelayedTarget(1);
  try {
    for (const [name, load] of Object.entries(AGENT_LOADS)) {
      const agent = await startAgent({
        origin: target.origin,
        probes: 50,
        everySeconds: 1,
        keepAlive: true,
        ...(load.token ? { apiToken: load.token } : {}),
        ...(load.seed ? { prepare: seedMonthSoFar } : {}),
      });
      try {
        await sleep(t.warmS * 1000);
        const rssBefore = rssMb(agent.pid);
        let rssPeak = rssBefore;
        const sampling = setInterval(() => {
          rssPeak = Math.max(rssPeak, rssMb(agent.pid));
        }, 250);
        const from = Date.now();
        await load.make(agent.url, t.measureS).finally(() => clearInterval(sampling));
        const to = Date.now();
        // Stopped (SIGTERM flushes the store): a loaded main thread may not have committed them yet.
        await agent.stop();
        const results = agent.resultsBetween(from, to);
        const booked = results.filter((r) => !r.agentError);
        const served = booked.filter((r) => r.status === 200).map((r) => r.durationMs);
        emit({
          bench: "compare.agent_load",
          load: name,
          probes_per_s: 50,
          runs_per_s: round(results.length / ((to - from) / 1000), 1),
          recorded_p50_ms: round(percentile(served, 50)),
          recorded_p99_ms: round(percentile(served, 99)),
          recorded_max_ms: round(served.length === 0 ? null : Math.max(...served)),
          agent_error: results.length - booked.length,
          provider_failures: booked.length - served.length,
          rss_before_mb: round(rssBefore, 1),
          rss_peak_mb: round(rssPeak, 1),
        });
      } finally {
        await agent.stop();
        agent.cleanup();
      }
    }
  } finally {
    target.stop();
  }
}
