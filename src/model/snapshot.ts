import type { CategoryId, ServiceClassId } from "./config.js";
import type { EpochMs } from "./time.js";
import type { ProbeValidity } from "./validity.js";

/** The rolling windows the daemon reports (contract section 5, label `window`). */
export const SLO_WINDOWS = ["5m", "30m", "1h", "6h", "1d", "3d", "30d", "month"] as const;
export type SloWindow = (typeof SLO_WINDOWS)[number];

/** Figures of one category over one window; null where there was no traffic. */
export interface WindowFigures {
  readonly window: SloWindow;
  readonly requests: number;
  readonly served: number;
  readonly excluded: number;
  /** SR/R as a ratio in [0, 1]. */
  readonly availability: number | null;
  readonly latencyP99Ms: number | null;
  /** (1 - SR/R) / (1 - target). */
  readonly burnRate: number | null;
}

export interface CategorySnapshot {
  readonly category: CategoryId;
  readonly serviceClass: ServiceClassId;
  readonly availabilityTarget: number;
  readonly latencyObjectiveMs: number;
  readonly windows: readonly WindowFigures[];
  /** Of the calendar month so far; null with no traffic. */
  readonly errorBudgetRemaining: number | null;
  readonly breach: { readonly availability: boolean; readonly latency: boolean };
  readonly maintenanceActive: boolean;
}

/** What the SLO math hands to the exporters and alerting at one instant. */
export interface SloSnapshot {
  readonly at: EpochMs;
  readonly categories: readonly CategorySnapshot[];
  /**
   * Each provider probe's current measurement validity (merchant_side, agent_error, auth_failed,
   * unexpected_status); absent where no daemon tracks it.
   */
  readonly validity?: readonly ProbeValidity[];
}
