import {
  type FailureReason,
  type Observed,
  type ProbeResult,
  RESULT_FLAGS,
  type ResultFlag,
} from "../../model/result.js";
import { isoTimestamp, phasesOfWire } from "../evidence/canonical.js";
import { resultProblem } from "../validation.js";

/** The probes and categories a configuration declares, to check imported ids against. */
export interface KnownIds {
  /** Probe id -> its category. */
  readonly probes: ReadonlyMap<string, string>;
  readonly categories: ReadonlySet<string>;
}

export type ParsedLine = { readonly result: ProbeResult } | { readonly problem: string };

const REQUIRED = ["ts", "probe", "category", "status", "duration_ms", "error"] as const;
const OPTIONAL = [
  "error_code",
  "correlation_id",
  "phases",
  "server_ms",
  "flags",
  "body_error",
  "detail",
  "agent",
  "region",
  "source",
  "observed",
] as const;
const FIELDS: ReadonlySet<string> = new Set([...REQUIRED, ...OPTIONAL]);
const PHASE_FIELDS = ["dns_ms", "connect_ms", "tls_ms", "request_sent_ms", "ttfb_ms", "body_end_ms"] as const;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * One NDJSON line of contract section 3 (plus the optional `phases`, `server_ms`, `flags`,
 * `body_error`, `detail`, `agent`, `region` and `source` the store keeps), checked strictly: unknown fields, wrong types and impossible combinations are refused.
 * `known` null accepts any probe and category id (--allow-unknown).
 */
export function parseResultLine(text: string, known: KnownIds | null): ParsedLine {
  let wire: unknown;
  try {
    wire = JSON.parse(text);
  } catch (error) {
    return { problem: `not valid JSON (${(error as Error).message})` };
  }
  if (wire === null || typeof wire !== "object" || Array.isArray(wire)) {
    return { problem: "must be a JSON object, one result per line" };
  }
  const fields = wire as Record<string, unknown>;
  const problems: string[] = [];
  shapeProblems(fields, problems);
  if (problems.length > 0) return { problem: problems.join("; ") };
  const result = resultOfWire(fields);
  const semantic = resultProblem(result) ?? idProblem(result, known);
  return semantic ? { problem: semantic } : { result };
}

function shapeProblems(fields: Record<string, unknown>, problems: string[]): void {
  for (const key of Object.keys(fields)) if (!FIELDS.has(key)) problems.push(`unknown field "${key}"`);
  for (const key of REQUIRED) if (!(key in fields)) problems.push(`missing field "${key}"`);
  const { ts, probe, category, status, duration_ms, error } = fields;
  if (ts !== undefined && !isIsoMs(ts)) {
    problems.push(
      `ts must be ISO-8601 UTC with milliseconds like 2026-10-01T00:00:30.000Z, got ${JSON.stringify(ts)}`,
    );
  }
  if (probe !== undefined && (typeof probe !== "string" || probe === ""))
    problems.push("probe must be a non-empty string");
  if (category !== undefined && (typeof category !== "string" || category === "")) {
    problems.push("category must be a non-empty string");
  }
  if (status !== undefined && status !== null && typeof status !== "number") {
    problems.push(`status must be an integer 100-599 or null, got ${JSON.stringify(status)}`);
  }
  if (duration_ms !== undefined && typeof duration_ms !== "number") {
    problems.push(`duration_ms must be a number >= 0, got ${JSON.stringify(duration_ms)}`);
  }
  if (error !== undefined && error !== null && typeof error !== "string") {
    problems.push(`error must be null or a failure reason, got ${JSON.stringify(error)}`);
  }
  for (const key of ["agent", "region"] as const) {
    const value = fields[key];
    if (value !== undefined && value !== null && !(typeof value === "string" && value !== "")) {
      problems.push(`${key} must be a non-empty string or null, got ${JSON.stringify(value)}`);
    }
  }
  const { source } = fields;
  if (source !== undefined && source !== "probe" && source !== "traffic") {
    problems.push(`source must be "probe" or "traffic", got ${JSON.stringify(source)}`);
  }
  for (const key of ["error_code", "correlation_id", "detail"] as const) {
    const value = fields[key];
    if (value !== undefined && value !== null && typeof value !== "string")
      problems.push(`${key} must be a string or null`);
  }
  if (fields.server_ms !== undefined && fields.server_ms !== null && typeof fields.server_ms !== "number") {
    problems.push("server_ms must be a number or null");
  }
  if (
    fields.body_error !== undefined &&
    fields.body_error !== null &&
    typeof fields.body_error !== "string"
  ) {
    problems.push(`body_error must be null or a failure reason, got ${JSON.stringify(fields.body_error)}`);
  }
  const { flags } = fields;
  if (flags !== undefined && !(Array.isArray(flags) && flags.every((f) => typeof f === "string"))) {
    problems.push(`flags must be an array of ${RESULT_FLAGS.join(", ")}, got ${JSON.stringify(flags)}`);
  }
  phaseProblems(fields.phases, problems);
}

function phaseProblems(phases: unknown, problems: string[]): void {
  if (phases === undefined || phases === null) return;
  if (typeof phases !== "object" || Array.isArray(phases)) {
    problems.push("phases must be an object or null");
    return;
  }
  const allowed: ReadonlySet<string> = new Set(PHASE_FIELDS);
  for (const [key, value] of Object.entries(phases)) {
    if (!allowed.has(key)) problems.push(`unknown field "phases.${key}"`);
    else if (value !== null && !(typeof value === "number" && Number.isFinite(value) && value >= 0)) {
      problems.push(`phases.${key} must be a number >= 0 or null`);
    }
  }
}

function isIsoMs(value: unknown): value is string {
  if (typeof value !== "string" || !ISO_MS.test(value)) return false;
  const ms = Date.parse(value);
  // Formatting back rejects dates that do not exist, like 2026-02-30 (which Date.parse rolls over).
  return Number.isFinite(ms) && isoTimestamp(ms) === value;
}

function resultOfWire(fields: Record<string, unknown>): ProbeResult {
  return {
    ts: Date.parse(fields.ts as string),
    probe: fields.probe as string,
    category: fields.category as string,
    status: fields.status as number | null,
    durationMs: fields.duration_ms as number,
    error: fields.error as ProbeResult["error"],
    errorCode: (fields.error_code as string | null | undefined) ?? null,
    correlationId: (fields.correlation_id as string | null | undefined) ?? null,
    phases: phasesOfWire(fields.phases as Record<string, number | null> | null | undefined),
    serverMs: (fields.server_ms as number | null | undefined) ?? null,
    flags: (fields.flags as ResultFlag[] | undefined) ?? [],
    bodyError: (fields.body_error as FailureReason | null | undefined) ?? null,
    detail: (fields.detail as string | null | undefined) ?? null,
    ...identityOfWire(fields),
    // "probe" is the default and is not kept: a probe's record hashes as it did before sources.
    ...(fields.source === "traffic" ? { source: "traffic" as const } : {}),
    // Its shape is checked with the rest of the result (resultProblem).
    ...(fields.observed != null ? { observed: fields.observed as Observed } : {}),
  };
}

/** `agent` and `region` only when the line gives them: a line without is the importing agent's own. */
function identityOfWire(fields: Record<string, unknown>): Pick<ProbeResult, "agent" | "region"> {
  const identity: { agent?: string; region?: string } = {};
  if (typeof fields.agent === "string") identity.agent = fields.agent;
  if (typeof fields.region === "string") identity.region = fields.region;
  return identity;
}

function idProblem(result: ProbeResult, known: KnownIds | null): string | null {
  if (known === null) return null;
  const probeCategory = known.probes.get(result.probe);
  if (probeCategory === undefined)
    return `unknown probe "${result.probe}" (pass --allow-unknown to import it anyway)`;
  if (!known.categories.has(result.category)) {
    return `unknown category "${result.category}" (pass --allow-unknown to import it anyway)`;
  }
  if (probeCategory !== result.category) {
    return `probe "${result.probe}" belongs to category "${probeCategory}", not "${result.category}"`;
  }
  return null;
}
