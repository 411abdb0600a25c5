export { type LoadedConfig, type LoadOptions, loadConfig } from "./load.js";
export { ConfigError, type ConfigProblem, formatProblem, formatWarning } from "./problems.js";
export { retargetForSimulator } from "./simulator.js";
export { SloFileWire } from "./wire.js";
