import {
  FAILURE_REASONS,
  isWithoutHttp,
  MAX_DURATION_MS,
  type ProbeResult,
  RESULT_FLAGS,
} from "../model/result.js";
import { unsafeTextProblem } from "../model/text.js";

const REASONS: ReadonlySet<string> = new Set(FAILURE_REASONS);
const FLAGS: ReadonlySet<string> = new Set(RESULT_FLAGS);

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
  if (status === null && error === null && !isWithoutHttp(result))
    return "error must say why when status is null";
  if (
    !(Number.isFinite(result.durationMs) && result.durationMs >= 0 && result.durationMs <= MAX_DURATION_MS)
  ) {
    return `duration_ms must be a number >= 0 and <= ${MAX_DURATION_MS} (one day), got ${JSON.stringify(result.durationMs)}`;
  }
  if (result.source !== undefined && result.source !== "probe" && result.source !== "traffic")
    return `source must be "probe" or "traffic", got ${JSON.stringify(result.source)}`;
  if (result.serverMs != null && !Number.isFinite(result.serverMs))
    return "server_ms must be a finite number or null";
  return textProblem(result) ?? classificationProblem(result) ?? observedProblem(result);
}

const TEXT_FIELDS = [
  ["probe", "probe"],
  ["category", "category"],
  ["errorCode", "error_code"],
  ["correlationId", "correlation_id"],
  ["detail", "detail"],
] as const;

/** A string field that could not be hashed and read back as it came (see model/text.ts). */
function textProblem(result: ProbeResult): string | null {
  for (const [key, name] of TEXT_FIELDS) {
    const value = result[key];
    if (typeof value !== "string") continue;
    const problem = unsafeTextProblem(value);
    if (problem) return `${name} ${problem}; strings must be valid Unicode without control characters`;
  }
  return null;
}

/** A kind's detail: a mapping of names to strings, finite numbers, booleans, null or lists of strings. */
function observedProblem(result: ProbeResult): string | null {
  const { observed } = result;
  if (observed == null) return null;
  if (typeof observed !== "object" || Array.isArray(observed))
    return "observed must be a JSON object or null";
  for (const [key, value] of Object.entries(observed)) {
    const ok =
      value === null ||
      typeof value === "string" ||
      typeof value === "boolean" ||
      (typeof value === "number" && Number.isFinite(value)) ||
      (Array.isArray(value) && value.every((v) => typeof v === "string"));
    if (!ok) return `observed.${key} must be a string, a finite number, a boolean, null or a list of strings`;
    const texts = typeof value === "string" ? [key, value] : Array.isArray(value) ? [key, ...value] : [key];
    for (const text of texts) {
      const problem = unsafeTextProblem(text);
      if (problem) return `observed.${key} ${problem}`;
    }
  }
  return null;
}

/** The optional classification detail: known flags once each, a body error only beside a status. */
function classificationProblem(result: ProbeResult): string | null {
  const { flags, bodyError, detail } = result;
  if (flags !== undefined) {
    if (!Array.isArray(flags)) return `flags must be an array of ${RESULT_FLAGS.join(", ")}`;
    for (const flag of flags) {
      if (!FLAGS.has(flag))
        return `flags may hold only ${RESULT_FLAGS.join(", ")}, got ${JSON.stringify(flag)}`;
    }
    if (new Set(flags).size !== flags.length)
      return `flags must not repeat a flag, got ${JSON.stringify(flags)}`;
  }
  if (bodyError != null) {
    if (!REASONS.has(bodyError)) {
      return `body_error must be null or one of ${FAILURE_REASONS.join(", ")}, got ${JSON.stringify(bodyError)}`;
    }
    // The body can only fail after headers arrived, and then the status stands.
    if (result.status === null)
      return `body_error needs a status (the body failed after the headers arrived)`;
  }
  if (detail != null && typeof detail !== "string")
    return `detail must be a string or null, got ${JSON.stringify(detail)}`;
  return null;
}
