import type { ProbeSpec, SloConfig, Target } from "../model/config.js";
import { DIAGNOSTIC_KINDS } from "../probes/kinds/diagnostic.js";
import type { SimulatorNetwork } from "../probes/kinds/kind.js";
import { canonicalBaseUrl } from "./values.js";

export type { SimulatorNetwork };

/**
 * The configuration `slo-agent demo` runs: every target pointed at the embedded simulator, with
 * no credentials, so that writes probes are allowed and nothing real is ever called. The
 * diagnostics that name a host of their own ask the simulator's network instead, as their kind
 * says (its `forSimulator`: tls and tcp the TLS listener, dns the name server).
 */
export function retargetForSimulator(
  config: SloConfig,
  baseUrl: string,
  network: SimulatorNetwork,
): SloConfig {
  const base = canonicalBaseUrl(baseUrl);
  const targets = new Map(
    [...config.targets].map(([id, target]): [string, Target] => [
      id,
      { ...target, baseUrl: base, environment: "simulator", auth: { type: "none" } },
    ]),
  );
  const probes = config.probes.map((probe): ProbeSpec => {
    const kind = DIAGNOSTIC_KINDS.find((k) => k.kind === probe.kind);
    const retarget = kind?.forSimulator as ((spec: ProbeSpec, n: SimulatorNetwork) => ProbeSpec) | undefined;
    return retarget ? retarget(probe, network) : probe;
  });
  return { ...config, targets, probes };
}
