import type { SloConfig } from "../../model/config.js";
import { latencyMsOf } from "../../model/result.js";
import { exclusionsOf } from "../../slo/index.js";
import type { ExclusionJudge, LatencyOf } from "../rollups.js";
import type { KnownIds } from "./ndjson.js";

/** The configured probes' ids and, with `traffic:`, the routes' (a merchant request's record names its route). */
export function knownIdsOf(config: SloConfig): KnownIds {
  const routes = config.traffic?.routes ?? [];
  return {
    probes: new Map([
      ...config.probes.map((p) => [p.id, p.category] as const),
      ...routes.map((r) => [r.probe, r.category] as const),
    ]),
    categories: new Set(config.categories.keys()),
  };
}

/** Rollups count an imported timeout at max(duration_ms, the probe's timeout_ms) (contract section 1, amended). */
export function latencyOfConfig(config: SloConfig): LatencyOf {
  const timeouts = new Map(config.probes.map((p) => [p.id, p.timeoutMs]));
  return (result) => latencyMsOf(result, timeouts.get(result.probe));
}

/** Rollups count excluded results apart, judged by the configured maintenance and exclusions. */
export function exclusionJudgeOf(config: SloConfig): ExclusionJudge {
  const { index } = exclusionsOf(config);
  return (result) => index.excludedBy(result.category, result.ts) !== null;
}
