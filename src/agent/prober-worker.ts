/**
 * The prober's own thread: probes are scheduled, run and timed here, where nothing else of the
 * agent runs. Scrapes, evidence-store commits, month summaries, reports, alert deliveries and the
 * main thread's garbage collection happen on the main thread's loop and heap, so they can neither
 * stretch a duration measured here nor delay a run; what does stall this loop (its own GC, the
 * process not being scheduled) is watched, and a run that overlapped such a stall is agent_error.
 */
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { systemClock } from "../clock/system.js";
import type { ProbeSpec } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { type RunnerConfig, runQueueReader, warmUpHttpProbes } from "../probes/index.js";
import { AccountingPacer } from "./accounting-pacer.js";
import type { ProberReply, ProberRequest, ProberStart } from "./prober-messages.js";
import { probeHere } from "./probing.js";
import { fromThreadForm } from "./thread-form.js";
import { ownThreadId } from "./thread-priority.js";

/** The run accounting (coverage, skipped runs) goes to the main thread at most this long after it changed. */
const ACCOUNTING_EVERY_MS = 1_000;
/**
 * Results and runs' lateness wait at most this long for the next batch to the main thread. A
 * message costs this thread ~50-60 µs (the copy, and waking the other thread); one a result and
 * one a run's lateness were a quarter of the prober's CPU at 200 probes/s. The evidence store
 * commits in 200 ms batches, so a result waiting 50 ms here is not later in the store.
 */
const BATCH_MS = 50;

const port = parentPort!;
const start = workerData as ProberStart;
const post = (reply: ProberReply) => port.postMessage(reply);
post({ type: "thread", threadId: ownThreadId() });

/** What goes to the main thread in the next batch. */
const outbox = {
  results: [] as ProbeResult[],
  lateness: [] as { probe: string; lateMs: number }[],
  runQueue: [] as number[],
  timer: null as NodeJS.Timeout | null,
};
/** Posts what waits in the outbox; false when nothing did. */
const postOutbox = (): boolean => {
  if (outbox.timer !== null) clearTimeout(outbox.timer);
  outbox.timer = null;
  if (outbox.results.length === 0 && outbox.lateness.length === 0 && outbox.runQueue.length === 0)
    return false;
  post({ type: "batch", results: outbox.results, lateness: outbox.lateness, runQueue: outbox.runQueue });
  outbox.results = [];
  outbox.lateness = [];
  outbox.runQueue = [];
  return true;
};
const sendBatch = () => {
  if (postOutbox()) accounting.batchSent();
};
const batchSoon = () => {
  outbox.timer ??= setTimeout(sendBatch, BATCH_MS);
};

// Made here, on the thread the probes are timed on: it reads this thread's own run-queue wait.
const runQueue = runQueueReader();
if (runQueue === null) {
  post({
    type: "log",
    level: "warn",
    message:
      "this kernel does not report the prober thread's run-queue wait (/proc/thread-self/schedstat): the stall guard sees only the prober loop's lateness, and slo_agent_run_queue_seconds stays empty",
  });
}

const probing = probeHere({
  clock: systemClock,
  config: fromThreadForm<RunnerConfig>(start.config),
  probes: fromThreadForm<ProbeSpec[]>(start.probes),
  controls: fromThreadForm<ProbeSpec[]>(start.controls),
  sink: {
    record: (result) => {
      outbox.results.push(result);
      batchSoon();
    },
  },
  maxStallMs: start.maxStallMs,
  // This thread's own loop: the system clock's scale, in ms.
  loopActiveMs: () => performance.eventLoopUtilization().active,
  log: (level, message, fields) => post({ type: "log", level, message, ...(fields ? { fields } : {}) }),
  onLag: (lagMs) => post({ type: "lag", lagMs }),
  ...(runQueue
    ? {
        runQueueMs: runQueue.waitedMs,
        onRunQueue: (waitedMs: number) => {
          outbox.runQueue.push(waitedMs);
          batchSoon();
        },
      }
    : {}),
  onLateness: (probe, lateMs) => {
    outbox.lateness.push({ probe, lateMs });
    batchSoon();
  },
  onAccountingChange: () => accounting.changed(),
});
// The run accounting, after the results it counts, when it changed, at most once a second.
let stopping = false;
const accounting = new AccountingPacer({
  clock: systemClock,
  everyMs: ACCOUNTING_EVERY_MS,
  changes: () => probing.changes(),
  // The results a coverage figure counts arrive before it.
  send: () => {
    postOutbox();
    post({ type: "accounting", stats: probing.stats(), coverage: probing.coverage() });
  },
});
const account = () => {
  postOutbox();
  accounting.flush();
};
// The first measured run must not pay for cold code (warm-up.ts): the schedules start once the
// HTTP probe's code has run here once, unmeasured.
const warm = warmUpHttpProbes(systemClock).catch((error: unknown) =>
  post({
    type: "log",
    level: "warn",
    message: "the prober's warm-up failed; its first runs may hold cold-start time",
    fields: { error: error instanceof Error ? error.message : String(error) },
  }),
);
// The accounting as the schedules start (every count 0) goes a second later, as it did.
const startProbing = () =>
  void warm.then(() => {
    if (stopping) return;
    probing.start();
    accounting.changed();
  });
if (start.started) startProbing();

port.on("message", (request: ProberRequest) => {
  switch (request.type) {
    case "start":
      startProbing();
      return;
    case "reconcile":
      probing.reconcile(
        fromThreadForm<RunnerConfig>(request.config),
        fromThreadForm<ProbeSpec[]>(request.probes),
      );
      account();
      return;
    case "stop":
      stopping = true;
      accounting.stop();
      void warm
        .then(() => probing.stop())
        .finally(() => {
          runQueue?.close();
          account();
          post({ type: "stopped" });
          port.close();
        });
      return;
  }
});
