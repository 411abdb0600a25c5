import type { SloConfig, Target } from "../model/config.js";
import { canonicalBaseUrl } from "./values.js";

/**
 * The configuration `slo-agent demo` runs: every target pointed at the embedded simulator, with
 * no credentials, so that writes probes are allowed and nothing real is ever called.
 */
export function retargetForSimulator(config: SloConfig, baseUrl: string): SloConfig {
  const base = canonicalBaseUrl(baseUrl);
  const targets = new Map(
    [...config.targets].map(([id, target]): [string, Target] => [
      id,
      { ...target, baseUrl: base, environment: "simulator", auth: { type: "none" } },
    ]),
  );
  return { ...config, targets };
}
