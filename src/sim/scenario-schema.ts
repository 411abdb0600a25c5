/**
 * The scenario's YAML/JSON wire form (snake_case, units in the key names), strict about unknown
 * keys so that a typo never silently disables a fault, and its conversion to and from Scenario.
 */
import { z } from "zod";
import { SIM_CATEGORIES } from "./routes.js";
import type { Faults, Scenario } from "./scenario.js";

const probability = z.number().min(0).max(1);
/** `key:` with nothing after it in YAML is null: read it as an empty block. */
const block = <T extends z.ZodType>(schema: T) => z.preprocess((value) => value ?? {}, schema);

const latencyWire = z
  .strictObject({
    median_ms: z.number().min(0),
    sigma: z.number().min(0).max(3).default(0.25),
    tail_probability: probability.default(0),
    tail_ms: z.number().min(0).default(0),
  })
  .refine((l) => l.tail_probability === 0 || l.tail_ms > 0, {
    message: "tail_ms must be > 0 when tail_probability is set",
    path: ["tail_ms"],
  });

const burstWire = z
  .strictObject({
    every_s: z.number().positive(),
    duration_s: z.number().positive(),
    status: z.int().min(500).max(599).default(503),
  })
  .refine((b) => b.duration_s <= b.every_s, {
    message: "duration_s must not exceed every_s",
    path: ["duration_s"],
  });

export const faultsWire = z.strictObject({
  latency: latencyWire.optional(),
  error_rate: probability.optional(),
  error_status: z.int().min(500).max(599).optional(),
  client_error_rate: probability.optional(),
  client_error_status: z.int().min(400).max(499).optional(),
  burst: burstWire.optional(),
  hang_probability: probability.optional(),
  reset_probability: probability.optional(),
  reset_mid_body_probability: probability.optional(),
  slow_body: z
    .strictObject({ bytes_per_second: z.number().positive(), bytes: z.int().positive().optional() })
    .optional(),
  maintenance: z.boolean().optional(),
  rate_limit: z.strictObject({ limit: z.int().min(1), window_s: z.number().positive() }).optional(),
  error_format: z.enum(["v1", "v2"]).optional(),
});
export type FaultsWire = z.infer<typeof faultsWire>;

export const scenarioWire = z.strictObject({
  version: z.literal(1).default(1),
  name: z.string().min(1).default("unnamed"),
  description: z.string().optional(),
  default: block(faultsWire),
  categories: block(z.partialRecord(z.enum(SIM_CATEGORIES), block(faultsWire))),
});
export type ScenarioWire = z.infer<typeof scenarioWire>;

export const FAULT_BLOCK = block(faultsWire);

export function faultsFromWire(w: FaultsWire): Faults {
  const faults: Faults = {
    latency: w.latency && {
      medianMs: w.latency.median_ms,
      sigma: w.latency.sigma,
      tailProbability: w.latency.tail_probability,
      tailMs: w.latency.tail_ms,
    },
    errorRate: w.error_rate,
    errorStatus: w.error_status,
    clientErrorRate: w.client_error_rate,
    clientErrorStatus: w.client_error_status,
    burst: w.burst && {
      everyMs: w.burst.every_s * 1000,
      durationMs: w.burst.duration_s * 1000,
      status: w.burst.status,
    },
    hangProbability: w.hang_probability,
    resetProbability: w.reset_probability,
    resetMidBodyProbability: w.reset_mid_body_probability,
    slowBody: w.slow_body && {
      bytesPerSecond: w.slow_body.bytes_per_second,
      bytes: w.slow_body.bytes ?? null,
    },
    maintenance: w.maintenance,
    rateLimit: w.rate_limit && { limit: w.rate_limit.limit, windowMs: w.rate_limit.window_s * 1000 },
    errorFormat: w.error_format,
  };
  return withoutAbsent(faults);
}

export function faultsToWire(f: Faults): FaultsWire {
  const wire: FaultsWire = {
    latency: f.latency && {
      median_ms: f.latency.medianMs,
      sigma: f.latency.sigma,
      tail_probability: f.latency.tailProbability,
      tail_ms: f.latency.tailMs,
    },
    error_rate: f.errorRate,
    error_status: f.errorStatus,
    client_error_rate: f.clientErrorRate,
    client_error_status: f.clientErrorStatus,
    burst: f.burst && {
      every_s: f.burst.everyMs / 1000,
      duration_s: f.burst.durationMs / 1000,
      status: f.burst.status,
    },
    hang_probability: f.hangProbability,
    reset_probability: f.resetProbability,
    reset_mid_body_probability: f.resetMidBodyProbability,
    slow_body: f.slowBody && {
      bytes_per_second: f.slowBody.bytesPerSecond,
      ...(f.slowBody.bytes === null ? {} : { bytes: f.slowBody.bytes }),
    },
    maintenance: f.maintenance,
    rate_limit: f.rateLimit && { limit: f.rateLimit.limit, window_s: f.rateLimit.windowMs / 1000 },
    error_format: f.errorFormat,
  };
  return withoutAbsent(wire);
}

export function scenarioFromWire(w: ScenarioWire): Scenario {
  const categories = Object.fromEntries(
    Object.entries(w.categories).map(([id, faults]) => [id, faultsFromWire(faults ?? {})]),
  );
  return withoutAbsent({
    name: w.name,
    description: w.description,
    default: faultsFromWire(w.default),
    categories,
  });
}

/** The wire form of a scenario: what GET /__sim/scenario answers and PUT accepts back. */
export function scenarioToWire(s: Scenario): ScenarioWire {
  const categories = Object.fromEntries(
    Object.entries(s.categories).map(([id, faults]) => [id, faultsToWire(faults ?? {})]),
  );
  return withoutAbsent({
    version: 1 as const,
    name: s.name,
    description: s.description,
    default: faultsToWire(s.default),
    categories,
  });
}

/** Drops keys whose value is undefined, so that layering and JSON output see only what was set. */
function withoutAbsent<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
