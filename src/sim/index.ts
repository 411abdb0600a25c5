/** The simulated Klarna API: used by `slo-agent demo`, the probe and end-to-end tests, and benchmarks. */
export type { ErrorFormat } from "./error-body.js";
export { OUTCOMES, type Outcome } from "./faults.js";
export { type SimulatedNetwork, startSimulatedNetwork } from "./network.js";
export { SIM_CATEGORIES, type SimCategory, UNMATCHED } from "./routes.js";
export {
  type BurstFault,
  EMPTY_SCENARIO,
  type Faults,
  type LatencyFault,
  type RateLimitFault,
  type Scenario,
  type SlowBodyFault,
} from "./scenario.js";
export { loadScenario, parseScenario, SHIPPED_SCENARIOS_DIR, shippedScenario } from "./scenario-file.js";
export { type RunningSimulator, type SimulatorOptions, startSimulator } from "./server.js";
export type { StatsReport } from "./stats.js";
