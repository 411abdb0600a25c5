import type { Meter } from "@opentelemetry/api";
import type { AgentIdentity, ProbeResult } from "../model/result.js";
import { isServed } from "../model/result.js";
import { identityLabels, LABEL, METRIC } from "./names.js";

/**
 * How a stored merchant request came out: served (2xx-4xx), failed (5xx or no response), or
 * client_side (its own client failed it: merchant_side, excluded).
 */
export type TrafficOutcome = "served" | "failed" | "client_side";

export interface TrafficMetrics {
  /** Counts merchant requests once they are committed to the evidence store. */
  committed(results: readonly ProbeResult[]): void;
  /** Counts merchant requests refused (429: the sender must retry) or lost before storing. */
  dropped(count: number): void;
}

export function trafficOutcomeOf(result: Pick<ProbeResult, "status" | "flags">): TrafficOutcome {
  if (result.flags?.includes("client_side")) return "client_side";
  return isServed(result.status) ? "served" : "failed";
}

/** slo_traffic_requests_total{category,outcome} and slo_traffic_dropped_total (contract section 19). */
export function registerTrafficMetrics(meter: Meter, identity: AgentIdentity): TrafficMetrics {
  const agent = identityLabels(identity);
  const requests = meter.createCounter(METRIC.trafficRequests, {
    description:
      "Merchant requests (OpenTelemetry CLIENT spans matching traffic.routes) stored as evidence, by outcome (served: 2xx-4xx, failed: 5xx or no response, client_side: failed inside the merchant's client)",
  });
  const dropped = meter.createCounter(METRIC.trafficDropped, {
    description:
      "Merchant requests not stored: refused with 429 while the evidence store's write queue was full (the sender retries them) or otherwise lost",
  });
  const labels = new Map<string, Record<string, string>>();
  return {
    committed(results) {
      for (const result of results) {
        if (result.source !== "traffic") continue;
        const outcome = trafficOutcomeOf(result);
        const key = `${result.category}\u0000${outcome}`;
        let attributes = labels.get(key);
        if (!attributes) {
          attributes = { ...agent, [LABEL.category]: result.category, [LABEL.outcome]: outcome };
          labels.set(key, attributes);
        }
        requests.add(1, attributes);
      }
    },
    dropped(count) {
      if (count > 0) dropped.add(count, agent);
    },
  };
}
