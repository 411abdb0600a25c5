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
  // The diagnostics that name a host of their own ask the simulator's instead: nothing real is called.
  const sim = new URL(base);
  const probes = config.probes.map((probe) => {
    if (probe.kind === "tcp") return { ...probe, host: sim.hostname, port: Number(sim.port) };
    if (probe.kind === "dns") return { ...probe, name: sim.hostname, server: null };
    return probe;
  });
  return { ...config, targets, probes };
}
