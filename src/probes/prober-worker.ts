/**
 * The prober's own thread: probes are run and timed here, where nothing else of the agent runs.
 * Scrapes, evidence-store commits, month summaries, reports, alert deliveries and the main
 * thread's garbage collection happen on the main thread's loop and heap, so they cannot stretch a
 * duration measured here; what does stall this loop (its own GC, the process not being
 * scheduled) is watched, and a run that overlapped such a stall is agent_error (stall.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { systemClock } from "../clock/system.js";
import type { ProbeSpec } from "../model/config.js";
import { structurallyEqual } from "../model/equal.js";
import type { ProbeResult } from "../model/result.js";
import type { ProberReply, ProberRequest, ProberStart } from "./prober-messages.js";
import { ProbeRunner, type RunnerConfig } from "./runner.js";
import { StallWatch } from "./stall.js";
import { fromThreadForm } from "./thread-form.js";

const port = parentPort!;
const start = workerData as ProberStart;
const post = (reply: ProberReply) => port.postMessage(reply);

const stalls = new StallWatch({
  clock: systemClock,
  maxStallMs: start.maxStallMs,
  onLag: (lagMs) => post({ type: "lag", lagMs }),
}).start();
const runner = new ProbeRunner({
  clock: systemClock,
  config: fromThreadForm<RunnerConfig>(start.config),
  sink: { record: (result: ProbeResult) => post({ type: "result", result }) },
  logger: (line) => post({ type: "log", line }),
  stalls,
});

port.on("message", (request: ProberRequest) => {
  switch (request.type) {
    case "run":
      runner.execute(fromThreadForm<ProbeSpec>(request.spec), request.plannedAt).then(
        (outcome) => post({ type: "done", id: request.id, outcome }),
        (error: unknown) =>
          post({
            type: "failed",
            id: request.id,
            error: error instanceof Error ? error.message : String(error),
          }),
      );
      return;
    case "reconfigure":
      runner.reconfigure(fromThreadForm<RunnerConfig>(request.config), structurallyEqual);
      return;
    case "close":
      stalls.stop();
      void runner.close().finally(() => {
        post({ type: "closed" });
        port.close();
      });
      return;
  }
});
