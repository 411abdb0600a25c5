import type {
  Category,
  Exclusion,
  MaintenancePolicy,
  MaintenanceWindow,
  ProbeResult,
  ServiceClass,
} from "../../src/model/index.js";
import type { FiguresConfig } from "../../src/slo/index.js";

/** A small configuration: two classes, three categories, 99.0% and 99.5% targets. */
export const CLASSES: readonly ServiceClass[] = [
  { id: "transaction_critical", title: "Transactions Critical Services", availabilityTarget: 0.99 },
  { id: "additional", title: "Additional Services", availabilityTarget: 0.995 },
];

export const CATEGORIES: readonly Category[] = [
  {
    id: "payment_request",
    title: "Payment Request",
    serviceClass: "transaction_critical",
    latencyP99Ms: 1500,
  },
  { id: "settlements", title: "Settlements", serviceClass: "transaction_critical", latencyP99Ms: 3000 },
  { id: "webhooks", title: "Webhooks", serviceClass: "additional", latencyP99Ms: 800 },
];

export const POLICY: MaintenancePolicy = { minNoticeDays: 7, maxOccasionsPerYear: 5, maxHoursPerYear: 15 };

export function configWith(
  windows: readonly MaintenanceWindow[] = [],
  exclusions: readonly Exclusion[] = [],
  policy: MaintenancePolicy = POLICY,
): FiguresConfig {
  return {
    serviceClasses: new Map(CLASSES.map((c) => [c.id, c])),
    categories: new Map(CATEGORIES.map((c) => [c.id, c])),
    maintenance: { policy, windows },
    exclusions,
  };
}

export const at = (iso: string): number => Date.parse(iso);

/** A result with the fields the arithmetic reads; the rest fixed. */
export function result(
  ts: number | string,
  status: number | null,
  durationMs = 100,
  category = "payment_request",
  error: ProbeResult["error"] = status === null ? "connect" : null,
): ProbeResult {
  return {
    ts: typeof ts === "string" ? at(ts) : ts,
    probe: `${category}-probe`,
    category,
    status,
    durationMs,
    error,
    errorCode: null,
    correlationId: null,
  };
}

export function window(
  id: string,
  start: string,
  end: string,
  announcedAt: string,
  categories: MaintenanceWindow["categories"] = "all",
): MaintenanceWindow {
  return { id, start: at(start), end: at(end), announcedAt: at(announcedAt), categories };
}
