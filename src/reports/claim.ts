import { createHash } from "node:crypto";
import { statementBytes } from "../record/index.js";
import type { Incident, MonthlyReport } from "./model.js";
import { byImpact } from "./wording.js";

/** One missed objective with its figures. */
export interface ClaimedMiss {
  /** "category:availability", "category:latency" or "service_class:availability". */
  readonly objective: string;
  readonly title: string;
  readonly measured: number | null;
  readonly target: number;
  readonly unit: "%" | "ms";
}

/** A letter to the provider claiming the service credits of a month (report --claim). */
export interface Claim {
  readonly provider: string;
  /** The sender (sla.merchant); null when not configured. */
  readonly merchant: { readonly name: string; readonly contact: string } | null;
  /** The letter's date: the day the report was generated (UTC), YYYY-MM-DD. */
  readonly date: string;
  /** The agreement's reference (sla.contract_ref); null when not configured. */
  readonly contract_ref: string | null;
  /** The fee the credit percentages apply to (sla.monthly_fee); null without one. */
  readonly monthly_fee: { readonly amount: number; readonly currency: string } | null;
  /** The sum of the classes' credit_amount; null without a fee or credit tiers. */
  readonly total_credit_amount: number | null;
  readonly month: string;
  readonly period: { readonly start: string; readonly end: string };
  readonly preliminary: boolean;
  readonly missed: readonly ClaimedMiss[];
  /** Per service class; null when no credit tiers are configured (sla.credits). */
  readonly credits:
    | readonly {
        readonly service_class: string;
        readonly title: string;
        readonly credit_pct: number | null;
        readonly credit_amount: number | null;
      }[]
    | null;
  /** The failure periods of every category that missed an objective, worst first. */
  readonly incidents: readonly Incident[];
  readonly evidence: {
    readonly records: number;
    readonly chain_sha256: string;
    /** SHA-256 of the signed statement's RFC 8785 bytes; null when unsigned. */
    readonly statement_sha256: string | null;
    readonly key_id: string | null;
  };
}

/** Whether a claim can be written: not when nothing was missed. */
export function hasClaim(report: MonthlyReport): boolean {
  return report.summary.missed.length > 0;
}

/** The claim of a month that missed something, from the report's figures only. */
export function claimOf(report: MonthlyReport): Claim {
  const missed: ClaimedMiss[] = [];
  for (const c of report.categories) {
    if (c.availability_met === false)
      missed.push({
        objective: `${c.category}:availability`,
        title: c.title,
        measured: c.availability_pct,
        target: c.availability_target_pct,
        unit: "%",
      });
    if (c.latency_met === false)
      missed.push({
        objective: `${c.category}:latency`,
        title: c.title,
        measured: c.latency_p99_ms,
        target: c.latency_objective_ms,
        unit: "ms",
      });
  }
  for (const s of report.service_classes) {
    if (s.availability_met === false)
      missed.push({
        objective: `${s.service_class}:availability`,
        title: s.title,
        measured: s.availability_pct,
        target: s.availability_target_pct,
        unit: "%",
      });
  }
  const missing = new Set(
    report.categories
      .filter((c) => c.availability_met === false || c.latency_met === false)
      .map((c) => c.category),
  );
  const configured = report.service_classes.some((s) => s.credit_pct !== null);
  const { statement, signature } = report.evidence;
  const fee = report.context.monthly_fee ?? null;
  const amounts = report.service_classes.map((s) => s.credit_amount ?? null);
  return {
    provider: report.context.provider,
    merchant: report.context.merchant ?? null,
    date: report.generated_at.slice(0, 10),
    contract_ref: report.context.contract_ref ?? null,
    monthly_fee: fee,
    total_credit_amount:
      configured && fee !== null
        ? Math.round(amounts.reduce<number>((sum, a) => sum + (a ?? 0) * 100, 0)) / 100
        : null,
    month: report.month,
    period: report.period,
    preliminary: report.preliminary,
    missed,
    credits: configured
      ? report.service_classes.map((s) => ({
          service_class: s.service_class,
          title: s.title,
          credit_pct: s.credit_pct,
          credit_amount: s.credit_amount ?? null,
        }))
      : null,
    incidents: report.incidents.filter((i) => missing.has(i.category)).sort(byImpact),
    evidence: {
      records: report.evidence.records,
      chain_sha256: report.evidence.sha256,
      statement_sha256: statement
        ? createHash("sha256").update(statementBytes(statement)).digest("hex")
        : null,
      key_id: signature?.key_id ?? null,
    },
  };
}
