import type { SloConfig, Target } from "../model/config.js";
import { canonicalBaseUrl } from "./values.js";

/** Where the simulator's network stands in for the provider's (src/sim/network.ts). */
export interface SimulatorNetwork {
  readonly tls: { readonly host: string; readonly port: number; readonly caFile: string };
  readonly dnsServer: string;
}

/**
 * The configuration `slo-agent demo` runs: every target pointed at the embedded simulator, with
 * no credentials, so that writes probes are allowed and nothing real is ever called. The
 * diagnostics that name a host of their own ask the simulator's network instead: tls and tcp its
 * TLS listener (its certificate's CA trusted), dns its name server for the same name.
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
  const { host, port, caFile } = network.tls;
  const probes = config.probes.map((probe) => {
    if (probe.kind === "tls") return { ...probe, host, port, caFile };
    if (probe.kind === "tcp") return { ...probe, host, port };
    if (probe.kind === "dns") return { ...probe, server: network.dnsServer };
    return probe;
  });
  return { ...config, targets, probes };
}
