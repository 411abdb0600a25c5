import { categoryInScope, type SloConfig } from "../model/config.js";
import type { ProbeResult } from "../model/result.js";

/** Whether a result falls inside a declared exclusion covering its category. */
export function exclusionTest(config: SloConfig): (result: Pick<ProbeResult, "ts" | "category">) => boolean {
  // TODO(issue 4): qualifying maintenance windows through src/slo once it lands.
  return (result) =>
    config.exclusions.some(
      (e) => result.ts >= e.start && result.ts < e.end && categoryInScope(e.categories, result.category),
    );
}
