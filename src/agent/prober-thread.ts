import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import type { ProbeSpec } from "../model/config.js";
import { sameProbe } from "../model/equal.js";
import type { ProbeResult } from "../model/result.js";
import { packagePath } from "../package-root.js";
import type { RunnerConfig } from "../probes/index.js";
import type { Coverage, ProbeRunStats, ReconcileOutcome } from "../schedule/index.js";
import type { ProberReply, ProberRequest, ProberStart } from "./prober-messages.js";
import type { Probing, ProbingSetup } from "./probing.js";
import { toThreadForm } from "./thread-form.js";
import { lowerOtherThreads } from "./thread-priority.js";

/** How long stop() waits for the thread to finish its runs before ending it. */
const STOP_GRACE_MS = 15_000;
/** A thread that dies this soon after it started is started again only after this long. */
const RESTART_AFTER_MS = 5_000;

/**
 * The probing in a worker thread of its own (prober-worker.ts). Results arrive in the sink as the
 * thread records them; the run accounting as the thread last sent it (each second it changed). A thread
 * that dies is started again with the configuration in force.
 */
export class ProberThread implements Probing {
  readonly #setup: Omit<ProbingSetup, "clock">;
  #config: RunnerConfig;
  #probes: readonly ProbeSpec[];
  #worker: Worker;
  #started = false;
  #stopping = false;
  #stats: ProbeRunStats[] = [];
  #coverage: Coverage[] = [];
  #accountings = 0;
  #stopped: (() => void) | null = null;
  #spawnedAt = 0;
  /** The current thread has not exited. */
  #alive = false;

  constructor(setup: Omit<ProbingSetup, "clock">) {
    this.#setup = setup;
    this.#config = setup.config;
    this.#probes = setup.probes;
    this.#worker = this.#spawn();
  }

  start(): void {
    this.#started = true;
    this.#send({ type: "start" });
  }

  stats(): ProbeRunStats[] {
    return this.#stats;
  }

  coverage(): Coverage[] {
    return this.#coverage;
  }

  /** The accountings received: each one the thread sent because its own had changed. */
  changes(): number {
    return this.#accountings;
  }

  /** The outcome is worked out here, as the thread's scheduler works it out (same rule, same specs). */
  reconcile(config: RunnerConfig, probes: readonly ProbeSpec[]): ReconcileOutcome {
    const outcome = reconcileOutcome(this.#probes, probes);
    this.#config = config;
    this.#probes = probes;
    this.#send({ type: "reconcile", config: toThreadForm(config), probes: toThreadForm(probes) });
    return outcome;
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const worker = this.#worker;
    if (!this.#alive) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
      worker.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
      this.#stopped = resolve;
      this.#send({ type: "stop" });
    });
  }

  #send(request: ProberRequest): void {
    this.#worker.postMessage(request);
  }

  #spawn(): Worker {
    const start: ProberStart = {
      config: toThreadForm(this.#config),
      probes: toThreadForm(this.#probes),
      controls: toThreadForm(this.#setup.controls),
      maxStallMs: this.#setup.maxStallMs,
      started: this.#started,
    };
    this.#spawnedAt = performance.now();
    this.#alive = true;
    const worker = startWorker(start);
    worker.on("message", (reply: ProberReply) => this.#receive(reply));
    worker.on("error", (error) =>
      this.#setup.log("error", "the prober thread failed", { error: error.message }),
    );
    worker.on("exit", (code) => {
      if (worker === this.#worker) this.#alive = false;
      if (this.#stopping || worker !== this.#worker) return;
      this.#setup.log("error", "the prober thread ended; starting it again", { code });
      // One that dies at once (a bug at start) is not restarted in a tight loop.
      const wait = performance.now() - this.#spawnedAt < RESTART_AFTER_MS ? RESTART_AFTER_MS : 0;
      setTimeout(() => {
        if (!this.#stopping) this.#worker = this.#spawn();
      }, wait);
    });
    return worker;
  }

  #receive(reply: ProberReply): void {
    switch (reply.type) {
      case "batch":
        for (const { probe, lateMs } of reply.lateness) this.#setup.onLateness(probe, lateMs);
        for (const waitedMs of reply.runQueue) this.#setup.onRunQueue?.(waitedMs);
        for (const result of reply.results) this.#record(result);
        return;
      case "accounting":
        this.#accountings++;
        this.#stats = reply.stats;
        this.#coverage = reply.coverage;
        return;
      case "lag":
        this.#setup.onLag(reply.lagMs);
        return;
      case "thread":
        this.#prioritise(reply.threadId);
        return;
      case "log":
        this.#setup.log(reply.level, reply.message, reply.fields);
        return;
      case "stopped":
        // Everything it sent before this has arrived: nothing is lost by ending it now.
        void this.#worker.terminate();
        this.#stopped?.();
        return;
    }
  }

  /** The rest of the agent below the prober in the kernel's eyes (agent.nice_other_threads). */
  #prioritise(threadId: number | null): void {
    const by = this.#setup.niceOtherThreads ?? 0;
    if (by === 0) return;
    const outcome =
      threadId === null
        ? { ok: false as const, reason: "this kernel does not name the prober's thread (/proc/thread-self)" }
        : lowerOtherThreads(threadId, by);
    if (!outcome.ok) {
      this.#setup.log(
        "warn",
        "could not lower the priority of the agent's threads other than the prober's: the agent's own load can reach probe timings on a busy host (the stall guard still takes off what it sees)",
        { reason: outcome.reason },
      );
      return;
    }
    if (outcome.othersNice <= outcome.proberNice) {
      this.#setup.log(
        "warn",
        "the prober thread runs at the same priority as the agent's other threads (it was started again, and they are at the lowest already): restart the agent to give it back its lead",
        { nice: outcome.proberNice },
      );
      return;
    }
    this.#setup.log("info", "the agent's other threads run at a lower CPU priority than the prober's", {
      prober_nice: outcome.proberNice,
      others_nice: outcome.othersNice,
      threads: outcome.threads,
    });
  }

  #record(result: ProbeResult): void {
    try {
      this.#setup.sink.record(result);
    } catch (error) {
      this.#setup.log("warn", `probe ${result.probe}: result not recorded`, {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/** What Scheduler.reconcile reports for the same change (kept, added, changed, removed). */
function reconcileOutcome(before: readonly ProbeSpec[], after: readonly ProbeSpec[]): ReconcileOutcome {
  const old = new Map(before.map((p) => [p.id, p]));
  const outcome: ReconcileOutcome = { kept: [], added: [], changed: [], removed: [] };
  for (const spec of after) {
    const was = old.get(spec.id);
    old.delete(spec.id);
    if (!was) outcome.added.push(spec.id);
    else if (sameProbe(was, spec)) outcome.kept.push(spec.id);
    else outcome.changed.push(spec.id);
  }
  outcome.removed.push(...old.keys());
  return outcome;
}

function startWorker(start: ProberStart): Worker {
  if (!import.meta.url.endsWith(".ts")) {
    // The built worker entry (scripts/build.mjs bundles it beside the CLI).
    return new Worker(packagePath("dist", "agent", "prober-worker.js"), { workerData: start });
  }
  // Run from source (tsx, vitest): Node 20 loads a worker's entry before any --import hook, so
  // the worker registers tsx itself and then imports the TypeScript source.
  const tsx = import.meta.resolve?.("tsx/esm/api") ?? "tsx/esm/api";
  const source = new URL("./prober-worker.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: start });
}
