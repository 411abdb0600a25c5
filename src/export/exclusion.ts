import type { SloConfig } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";
import { ExclusionIndex, qualifyMaintenanceWindows } from "../slo/index.js";

/**
 * Whether a result is excluded from R and SR: inside the qualifying part of a maintenance window
 * or inside a declared exclusion covering its category (contract section 1).
 */
export function exclusionTest(config: SloConfig): (result: Pick<ProbeResult, "ts" | "category">) => boolean {
  const index = new ExclusionIndex(
    qualifyMaintenanceWindows(config.maintenance.windows, config.maintenance.policy),
    config.exclusions,
  );
  return (result) => index.excludedBy(result.category, result.ts) !== null;
}
