import type { Clock } from "../clock/clock.js";
import { retargetForSimulator } from "../config/index.js";
import type { ProbeSpec, SloConfig } from "../model/config.js";
import { packagePath } from "../package-root.js";
import {
  type RunningSimulator,
  type Scenario,
  type SimulatedNetwork,
  startSimulatedNetwork,
  startSimulator,
} from "../sim/index.js";
import { type RunningDaemon, startDaemon } from "./daemon.js";
import type { Logger } from "./log.js";

/** The Klarna profile shipped with the package (slo.yaml beside package.json). */
export const SHIPPED_PROFILE = packagePath("slo.yaml");

export interface DemoOptions {
  readonly config: SloConfig;
  readonly dataDir: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly scenario: Scenario;
  /** Overrides every probe's schedule (a short demo or test wants data fast). */
  readonly everyMs: number | null;
  readonly clock: Clock;
  readonly log: Logger;
  /** How often the SLO gauges are refreshed (default: the daemon's). */
  readonly refreshMs?: number;
  /** Reads the configuration again on a reload; the demo points it at the simulator again. */
  readonly reloadConfig?: () => Promise<SloConfig>;
}

export interface RunningDemo {
  readonly daemon: RunningDaemon;
  readonly simulator: RunningSimulator;
  /** The TLS listener and DNS server the demo's tls, tcp and dns probes ask. */
  readonly network: SimulatedNetwork;
  close(): Promise<void>;
}

/**
 * The daemon with every target pointed at an embedded simulated Klarna API on loopback, and the
 * tls, tcp and dns probes at the simulator's TLS listener and name server: nothing outside is asked.
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const simulator = await startSimulator({ host: "127.0.0.1", port: 0, scenario: options.scenario });
  let network: SimulatedNetwork;
  try {
    network = await startSimulatedNetwork(options.clock);
  } catch (error) {
    await simulator.close();
    throw error;
  }
  const demoConfig = (loaded: SloConfig): SloConfig => {
    const retargeted = retargetForSimulator(loaded, simulator.url, network);
    return options.everyMs === null ? retargeted : withInterval(retargeted, options.everyMs);
  };
  const { reloadConfig } = options;
  try {
    const daemon = await startDaemon({
      ...options,
      config: demoConfig(options.config),
      ...(reloadConfig ? { reloadConfig: async () => demoConfig(await reloadConfig()) } : {}),
    });
    return {
      daemon,
      simulator,
      network,
      async close() {
        await daemon.close();
        await network.close();
        await simulator.close();
      },
    };
  } catch (error) {
    await network.close();
    await simulator.close();
    throw error;
  }
}

function withInterval(config: SloConfig, intervalMs: number): SloConfig {
  const probes = config.probes.map(
    (probe): ProbeSpec => ({ ...probe, schedule: { kind: "every", intervalMs } }),
  );
  return { ...config, probes };
}
