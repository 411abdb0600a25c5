import type { MaintenancePolicy, SloConfig } from "../model/config.js";
import type { ConfigProblem } from "./problems.js";
import type { YamlSource } from "./source.js";

/**
 * The SLA's published maintenance terms (seeds/klarna-service-level.txt: 7 days' notice, at most 5
 * occasions and 15 hours a year), which are also maintenance.policy's defaults (wire.ts).
 */
export const SLA_MAINTENANCE_TERMS: MaintenancePolicy = {
  minNoticeDays: 7,
  maxOccasionsPerYear: 5,
  maxHoursPerYear: 15,
};

/** The fields of `policy` looser than the SLA's terms, each with the term it loosens ("7 days' notice"). */
export function looserTerms(policy: MaintenancePolicy): { field: string; term: string }[] {
  const sla = SLA_MAINTENANCE_TERMS;
  const looser: [string, boolean, string][] = [
    ["min_notice_days", policy.minNoticeDays < sla.minNoticeDays, `${sla.minNoticeDays} days' notice`],
    [
      "max_occasions_per_year",
      policy.maxOccasionsPerYear > sla.maxOccasionsPerYear,
      `${sla.maxOccasionsPerYear} occasions a year`,
    ],
    [
      "max_hours_per_year",
      policy.maxHoursPerYear > sla.maxHoursPerYear,
      `${sla.maxHoursPerYear} hours a year`,
    ],
  ];
  return looser.filter(([, isLooser]) => isLooser).map(([field, , term]) => ({ field, term }));
}

/** A policy looser than the SLA's terms lets maintenance qualify that the SLA would count as downtime. */
export function policyLooserThanSla(slo: YamlSource, config: SloConfig): ConfigProblem[] {
  return looserTerms(config.maintenance.policy).map(({ field, term }) =>
    slo.problem(
      ["maintenance", "policy", field],
      `looser than the SLA's published terms (${term}): maintenance the SLA counts as downtime would be excluded; a change within a month judges only from the next month (docs/sla-arithmetic.md)`,
    ),
  );
}
