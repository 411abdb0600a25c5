import type { CategoryId, ProbeExpectation, ProbeId } from "./config.js";
import type { ProbeResult } from "./result.js";

/**
 * Measurement validity (contract section 8): which results say nothing about the provider.
 * Control results are stored in the same evidence chain under a reserved category that no
 * configured category can be (category ids never start with "@"), so every report, rollup and
 * rolling window of the provider's categories leaves them out without a special case.
 */
export const CONTROL_CATEGORY: CategoryId = "@control";
const CONTROL_PREFIX = "control:";

export function controlProbeId(controlId: string): ProbeId {
  return `${CONTROL_PREFIX}${controlId}`;
}

/** The control id of a control result, or null for a provider result. */
export function controlIdOf(result: Pick<ProbeResult, "probe" | "category">): string | null {
  if (result.category !== CONTROL_CATEGORY || !result.probe.startsWith(CONTROL_PREFIX)) return null;
  return result.probe.slice(CONTROL_PREFIX.length);
}

/** Why a result is excluded automatically: not the provider's fault by the evidence. */
export const AUTOMATIC_REASONS = ["merchant_side", "agent_error", "target_unreached"] as const;
export type AutomaticReason = (typeof AUTOMATIC_REASONS)[number];

/**
 * What makes a measurement say less than it seems: a response that measures nothing useful (it
 * still counts per the SLA formula), provider failures beside controls that were failing but
 * were no witnesses (never healthy before, or flapping), which therefore count as the provider's,
 * or failures of a probe whose target never answered under its configuration (target_unreached,
 * excluded: a closed port or a wrong host name measures the configuration, not the provider).
 */
export const MEASUREMENT_PROBLEMS = [
  "auth_failed",
  "unexpected_status",
  "control_unhealthy",
  "control_flapping",
  "target_unreached",
] as const;
export type MeasurementProblem = (typeof MEASUREMENT_PROBLEMS)[number];
/** The measurement problems that the controls' own state causes (src/slo/controls.ts). */
export type ControlProblem = Extract<MeasurementProblem, "control_unhealthy" | "control_flapping">;

/**
 * Whether a response is outside what the probe should get: 401/403 that it does not expect are
 * auth_failed; any other status below 500 outside `expect.status` is unexpected_status. No
 * response and 5xx: null (failures, judged by the SLA formula and the controls instead).
 */
export function measurementProblemOf(
  status: number | null,
  expectation: ProbeExpectation | null | undefined,
): Extract<MeasurementProblem, "auth_failed" | "unexpected_status"> | null {
  // No response, or a 5xx: the provider failing, which the SLA formula already counts.
  if (status === null || status >= 500) return null;
  if (expectation?.status.includes(status)) return null;
  if (status === 401 || status === 403) return "auth_failed";
  if (expectation && !expectation.status.includes(status)) return "unexpected_status";
  return null;
}

/** Current measurement validity of one probe, for exporters and alerting (issue 15). */
export interface ProbeValidity {
  readonly probe: ProbeId;
  readonly category: CategoryId;
  /** Its latest failures were merchant_side: the controls were failing too. */
  readonly merchantSide: boolean;
  /** Its latest result failed inside the agent (agent_error). */
  readonly agentErrors: boolean;
  /** Its latest response was a 401/403 it does not expect. */
  readonly authFailed: boolean;
  /** Its latest response was another status outside `expect.status`. */
  readonly unexpectedStatus: boolean;
  /** Its target has not answered once under its current configuration (target_unreached). */
  readonly targetUnreached?: boolean;
}

/** slo_probe_valid: the probe's latest result measured the provider as configured. */
export function isProbeValid(v: ProbeValidity): boolean {
  return !(v.agentErrors || v.authFailed || v.unexpectedStatus || v.targetUnreached);
}
