/**
 * A scenario: the faults the simulator injects, as a `default` block that applies to every
 * category and per-category blocks laid over it key by key. Durations are in milliseconds here;
 * the YAML form (scenario-schema.ts) uses the units its key names say.
 */
import type { ErrorFormat } from "./error-body.js";
import type { SimCategory } from "./routes.js";

export interface LatencyFault {
  readonly medianMs: number;
  /** Shape of the log-normal around the median (sigma of the underlying normal). */
  readonly sigma: number;
  readonly tailProbability: number;
  readonly tailMs: number;
}

export interface BurstFault {
  readonly everyMs: number;
  readonly durationMs: number;
  readonly status: number;
}

export interface SlowBodyFault {
  readonly bytesPerSecond: number;
  /** The body is padded with trailing whitespace to this size; null keeps its own size. */
  readonly bytes: number | null;
}

export interface RateLimitFault {
  readonly limit: number;
  readonly windowMs: number;
}

/** Every key is optional: an absent key is no fault of that kind. */
export interface Faults {
  readonly latency?: LatencyFault;
  readonly errorRate?: number;
  readonly errorStatus?: number;
  readonly clientErrorRate?: number;
  readonly clientErrorStatus?: number;
  readonly burst?: BurstFault;
  readonly hangProbability?: number;
  readonly resetProbability?: number;
  readonly resetMidBodyProbability?: number;
  readonly slowBody?: SlowBodyFault;
  readonly maintenance?: boolean;
  readonly rateLimit?: RateLimitFault;
  readonly errorFormat?: ErrorFormat;
}

export interface Scenario {
  readonly name: string;
  readonly description?: string;
  readonly default: Faults;
  readonly categories: Readonly<Partial<Record<SimCategory, Faults>>>;
}

export const EMPTY_SCENARIO: Scenario = { name: "empty", default: {}, categories: {} };

/** Later blocks win key by key; a nested block (latency, burst, ...) is replaced whole. */
export function layerFaults(...blocks: readonly (Faults | undefined)[]): Faults {
  const merged: Record<string, unknown> = {};
  for (const block of blocks) {
    for (const [key, value] of Object.entries(block ?? {})) {
      if (value !== undefined) merged[key] = value;
    }
  }
  return merged as Faults;
}

export function faultsFor(scenario: Scenario, category: SimCategory): Faults {
  return layerFaults(scenario.default, scenario.categories[category]);
}
