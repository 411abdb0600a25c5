import type { ProbeResult } from "../model/result.js";
import type { Coverage, ProbeRunStats } from "../schedule/index.js";

/** What the prober's thread starts with (workerData); targets and specs are in thread form. */
export interface ProberStart {
  readonly config: unknown;
  readonly probes: unknown;
  readonly controls: unknown;
  readonly maxStallMs: number;
  /** Start scheduling at once (a thread started again after one died). */
  readonly started: boolean;
}

/** Main thread -> prober thread. */
export type ProberRequest =
  | { readonly type: "start" }
  | { readonly type: "reconcile"; readonly config: unknown; readonly probes: unknown }
  | { readonly type: "stop" };

/** Prober thread -> main thread. */
export type ProberReply =
  | {
      /** Results recorded and runs' lateness since the last batch (prober-worker.ts's Outbox). */
      readonly type: "batch";
      readonly results: ProbeResult[];
      readonly lateness: { readonly probe: string; readonly lateMs: number }[];
      /** Each run's run-queue wait (ms), where the kernel tells it. */
      readonly runQueue: number[];
    }
  | { readonly type: "accounting"; readonly stats: ProbeRunStats[]; readonly coverage: Coverage[] }
  | { readonly type: "lag"; readonly lagMs: number }
  /** The prober thread's id (Linux), sent once as it starts: the other threads' priority is set from it. */
  | { readonly type: "thread"; readonly threadId: number | null }
  | {
      readonly type: "log";
      readonly level: "info" | "warn" | "error";
      readonly message: string;
      readonly fields?: Record<string, unknown>;
    }
  | { readonly type: "stopped" };
