export {
  type ConnectionTiming,
  connectionTimingOf,
  createTargetDispatcher,
  roundTripOf,
  type TargetDispatcherOptions,
  timedConnector,
} from "./connection.js";
export { controlProbe } from "./controls.js";
export { agentErrorOf, errorCodeOf, failureReasonOf } from "./failure.js";
export { DeadlineReached, type HarnessOutcome, type HarnessRun, RunAborted, runProbe } from "./harness.js";
export { httpProbe, USER_AGENT } from "./http.js";
export {
  MAX_PAUSE_MS,
  type Pause,
  type PauseCause,
  retryAfterOf,
  TargetPoliteness,
} from "./politeness.js";
export type { Observation, Probe, ProbeContext } from "./probe.js";
export { PROBES, probeFor } from "./registry.js";
export { type RunQueueReader, runQueueReader } from "./run-queue.js";
export {
  ProbeRunner,
  type ProbeRunnerOptions,
  type RunnerConfig,
  type RunnerProbeStats,
  type RunOutcome,
} from "./runner.js";
export { type StallGuard, StallWatch } from "./stall.js";
export { type VendorError, vendorErrorOf } from "./vendor-error.js";
export { warmUpHttpProbes } from "./warm-up.js";
