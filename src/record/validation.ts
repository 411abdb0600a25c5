import { FAILURE_REASONS, type ProbeResult } from "../model/result.js";

const REASONS: ReadonlySet<string> = new Set(FAILURE_REASONS);

/**
 * What is wrong with a result by contract section 3, or null. The store refuses such results so
 * that one bad probe reading can never poison a batch (and with it, every result buffered beside it).
 */
export function resultProblem(result: ProbeResult): string | null {
  if (!Number.isSafeInteger(result.ts))
    return `ts must be a whole number of epoch milliseconds, got ${result.ts}`;
  if (typeof result.probe !== "string" || result.probe === "") return "probe must be a non-empty string";
  if (typeof result.category !== "string" || result.category === "")
    return "category must be a non-empty string";
  const { status, error } = result;
  if (status !== null && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
    return `status must be an integer 100-599 or null, got ${JSON.stringify(status)}`;
  }
  if (error !== null && !REASONS.has(error)) {
    return `error must be null or one of ${FAILURE_REASONS.join(", ")}, got ${JSON.stringify(error)}`;
  }
  if (status !== null && error !== null)
    return `error must be null when status is set (status ${status}, error "${error}")`;
  if (status === null && error === null) return "error must say why when status is null";
  if (!(Number.isFinite(result.durationMs) && result.durationMs >= 0)) {
    return `duration_ms must be a number >= 0, got ${JSON.stringify(result.durationMs)}`;
  }
  if (result.serverMs != null && !Number.isFinite(result.serverMs))
    return "server_ms must be a finite number or null";
  return null;
}
