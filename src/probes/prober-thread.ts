import { Worker } from "node:worker_threads";
import type { ProbeSpec, Target } from "../model/config.js";
import type { ResultSink } from "../model/sink.js";
import type { EpochMs } from "../model/time.js";
import type { ProberReply, ProberRequest, ProberStart } from "./prober-messages.js";
import type { RunnerConfig, RunOutcome } from "./runner.js";
import { toThreadForm } from "./thread-form.js";

/** What the daemon asks of a prober, in its own thread (ProberThread) or in this one (ProbeRunner). */
export interface Prober {
  execute(spec: ProbeSpec, plannedAt: EpochMs): Promise<RunOutcome>;
  reconfigure(config: RunnerConfig, sameTarget: (a: Target, b: Target) => boolean): void;
  close(): Promise<void>;
}

export interface ProberThreadOptions {
  readonly config: RunnerConfig;
  readonly sink: ResultSink;
  readonly maxStallMs: number;
  /** One line per notable event; never given a secret. */
  readonly logger?: (message: string) => void;
  /** Every stall of the prober's loop past its watch's tick, in ms (slo_agent_stall_seconds). */
  readonly onLag?: (lagMs: number) => void;
}

interface Pending {
  resolve(outcome: RunOutcome): void;
  reject(error: Error): void;
}

/**
 * The probe runner in a worker thread of its own (prober-worker.ts): execute() hands a run over
 * and resolves with its outcome once its result is in the sink. A thread that dies fails the runs
 * it held and is started again for the next one.
 */
export class ProberThread implements Prober {
  readonly #options: ProberThreadOptions;
  #config: RunnerConfig;
  #worker: Worker | null = null;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closing: Promise<void> | null = null;

  constructor(options: ProberThreadOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#worker = this.#start();
  }

  execute(spec: ProbeSpec, plannedAt: EpochMs): Promise<RunOutcome> {
    if (this.#closing) return Promise.resolve("refused");
    this.#worker ??= this.#start();
    const worker = this.#worker;
    const id = this.#nextId++;
    return new Promise<RunOutcome>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#send(worker, { type: "run", id, spec: toThreadForm(spec), plannedAt });
    });
  }

  /** The thread compares targets itself (structurallyEqual): a function cannot cross to it. */
  reconfigure(config: RunnerConfig): void {
    this.#config = config;
    if (this.#worker) this.#send(this.#worker, { type: "reconfigure", config: toThreadForm(config) });
  }

  /** Aborts runs still going (recorded as `aborted`), closes the connections and ends the thread. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      // A thread that does not end on its own (a socket that will not close) is ended.
      const force = setTimeout(() => void worker.terminate(), 10_000);
      worker.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
      this.#send(worker, { type: "close" });
    });
  }

  #send(worker: Worker, request: ProberRequest): void {
    worker.postMessage(request);
  }

  #start(): Worker {
    const start: ProberStart = { config: toThreadForm(this.#config), maxStallMs: this.#options.maxStallMs };
    const worker = startWorker(start);
    worker.on("message", (reply: ProberReply) => this.#receive(reply));
    worker.on("error", (error) => this.#options.logger?.(`prober thread failed: ${error.message}`));
    worker.on("exit", (code) => {
      if (this.#worker === worker) this.#worker = null;
      const lost = [...this.#pending.values()];
      this.#pending.clear();
      for (const run of lost) run.reject(new Error(`the prober thread exited (code ${code})`));
    });
    return worker;
  }

  #receive(reply: ProberReply): void {
    switch (reply.type) {
      case "result":
        try {
          this.#options.sink.record(reply.result);
        } catch (error) {
          this.#options.logger?.(
            `probe ${reply.result.probe}: result not recorded: ${error instanceof Error ? error.message : error}`,
          );
        }
        return;
      case "done":
        this.#pending.get(reply.id)?.resolve(reply.outcome);
        this.#pending.delete(reply.id);
        return;
      case "failed":
        this.#pending.get(reply.id)?.reject(new Error(reply.error));
        this.#pending.delete(reply.id);
        return;
      case "log":
        this.#options.logger?.(reply.line);
        return;
      case "lag":
        this.#options.onLag?.(reply.lagMs);
        return;
      case "closed":
        return;
    }
  }
}

function startWorker(start: ProberStart): Worker {
  if (!import.meta.url.endsWith(".ts")) {
    return new Worker(new URL("./prober-worker.js", import.meta.url), { workerData: start });
  }
  // Run from source (tsx, vitest): Node 20 loads a worker's entry before any --import hook, so
  // the worker registers tsx itself and then imports the TypeScript source.
  const tsx = import.meta.resolve?.("tsx/esm/api") ?? "tsx/esm/api";
  const source = new URL("./prober-worker.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: start });
}
