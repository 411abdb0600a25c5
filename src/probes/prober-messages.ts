import type { ProbeResult } from "../model/result.js";
import type { RunOutcome } from "./runner.js";

/** What the prober's thread starts with (workerData); config and specs are in thread form. */
export interface ProberStart {
  readonly config: unknown;
  readonly maxStallMs: number;
}

/** Main thread -> prober thread. */
export type ProberRequest =
  | { readonly type: "run"; readonly id: number; readonly spec: unknown; readonly plannedAt: number }
  | { readonly type: "reconfigure"; readonly config: unknown }
  | { readonly type: "close" };

/** Prober thread -> main thread. A run's result always arrives before its `done`. */
export type ProberReply =
  | { readonly type: "result"; readonly result: ProbeResult }
  | { readonly type: "done"; readonly id: number; readonly outcome: RunOutcome }
  | { readonly type: "failed"; readonly id: number; readonly error: string }
  | { readonly type: "log"; readonly line: string }
  | { readonly type: "lag"; readonly lagMs: number }
  | { readonly type: "closed" };
