import type {
  Category,
  CategoryScope,
  DeclaredNotice,
  Exclusion,
  MaintenanceWindow,
  ServiceClass,
  SloConfig,
} from "../model/config.js";
import { type Interval, isoUtc } from "../model/time.js";
import {
  availabilityPct,
  meetsAvailabilityTarget,
  pooledTally,
  type Tally,
  targetPct,
} from "./availability.js";
import { errorBudget } from "./budget.js";
import { meetsLatencyObjective } from "./histogram.js";
import type { QualifiedWindow } from "./maintenance.js";
import { maintenanceYearUsage } from "./maintenance.js";
import type { CategoryTally, LatencySource } from "./tally.js";

/**
 * The pieces of the monthly report (contract section 4) in its snake_case wire form, so the
 * report serialises them as they are. Extra keys beyond the contract are marked as such.
 */
export interface CategoryFigures {
  readonly category: string;
  readonly title: string;
  readonly service_class: string;
  /** R: non-excluded requests. */
  readonly requests: number;
  /** SR: of those, answered 200–499. */
  readonly successful: number;
  readonly excluded: number;
  readonly availability_pct: number | null;
  readonly availability_target_pct: number;
  readonly availability_met: boolean | null;
  readonly latency_p99_ms: number | null;
  /** Beyond section 4: "exact" (nearest rank of the raw durations) or "histogram" (HDR, raw records pruned). */
  readonly latency_source: LatencySource;
  readonly latency_objective_ms: number;
  /** p99 <= objective, strictly (contract section 1, amended); null without a p99. */
  readonly latency_met: boolean | null;
  /** (1 - target) * R. */
  readonly error_budget_requests: number;
  /** (R - SR) / error_budget_requests; null when the budget is 0. */
  readonly error_budget_used_ratio: number | null;
}

export interface ServiceClassFigures {
  readonly service_class: string;
  readonly title: string;
  /** Pooled over the class's categories (not a mean of means). */
  readonly requests: number;
  readonly successful: number;
  /** Beyond the contract: pooled excluded requests. */
  readonly excluded: number;
  readonly availability_pct: number | null;
  readonly availability_target_pct: number;
  readonly availability_met: boolean | null;
}

export interface MaintenanceWindowFigures {
  readonly id: string;
  readonly start: string;
  readonly end: string;
  readonly announced_at: string;
  readonly categories: readonly string[];
  readonly qualified: boolean;
  /** Qualified hours of the whole window (a window spanning months is not split). */
  readonly qualified_hours: number;
  readonly reason: QualifiedWindow["reason"];
  /** Beyond the contract: requests of the month it excluded; null when computed from rollups. */
  readonly excluded_requests: number | null;
  /** Windows from the maintenance feed: "feed" (declared windows have no source). */
  readonly source?: "feed";
  /** Feed windows: the provider's created_at (announced_at is first_seen_at, the provable notice). */
  readonly provider_announced_at?: string;
  /** Feed windows: when the agent first read the window in the feed. */
  readonly first_seen_at?: string;
  /** Feed windows: the two times are further apart than the feed interval. */
  readonly announcement_disputed?: boolean;
  /** Feed windows the provider cancelled: when the agent first read them so (reason "cancelled"). */
  readonly cancelled_at?: string;
  /**
   * Every version of the window as observed, oldest first (contract section 14); empty for a
   * declared window when the log holds no configuration record. A window changed late is listed once per notice part, each with its own
   * announced_at, and every part carries the whole history.
   */
  readonly history: readonly WindowVersionFigures[];
  /**
   * Declared windows whose announced_at the evidence log does not bear out (DeclaredNotice): the
   * announced_at the configuration declares, and why announced_at differs or stands unverified.
   */
  readonly declared_announced_at?: string;
  readonly declared_notice?: DeclaredNotice["check"];
}

export interface WindowVersionFigures {
  readonly seen_at: string;
  readonly start: string;
  readonly end: string;
  readonly categories: readonly string[];
}

export interface MaintenanceFigures {
  /** Windows that overlap the month, in start order. */
  readonly windows: readonly MaintenanceWindowFigures[];
  readonly year_occasions_used: number;
  readonly year_hours_used: number;
  readonly policy: {
    readonly min_notice_days: number;
    readonly max_occasions_per_year: number;
    readonly max_hours_per_year: number;
  };
  /** Policies loaded within the month after the one that judges it (they judge from the next month). */
  readonly policy_changes?: readonly {
    readonly loaded_at: string;
    readonly min_notice_days: number;
    readonly max_occasions_per_year: number;
    readonly max_hours_per_year: number;
  }[];
}

function feedFigures(window: MaintenanceWindow) {
  const feed = window.feed;
  if (!feed) return {};
  return {
    source: "feed" as const,
    provider_announced_at: isoUtc(feed.providerAnnouncedAt),
    first_seen_at: isoUtc(feed.firstSeenAt),
    announcement_disputed: Math.abs(feed.firstSeenAt - feed.providerAnnouncedAt) > feed.everyMs,
    ...(feed.cancelledAt ? { cancelled_at: isoUtc(feed.cancelledAt) } : {}),
  };
}

export interface ExclusionFigures {
  readonly id: string;
  readonly start: string;
  readonly end: string;
  readonly reason: string;
  readonly categories: readonly string[];
  /** Beyond the contract: requests of the month it excluded; null when computed from rollups. */
  readonly excluded_requests: number | null;
}

export function scopeList(scope: CategoryScope): readonly string[] {
  return scope === "all" ? ["all"] : [...scope];
}

export function categoryFigures(
  category: Category,
  cls: ServiceClass,
  tally: CategoryTally,
): CategoryFigures {
  const { counts } = tally;
  const target = cls.availabilityTarget;
  const availability = availabilityPct(counts);
  const { ms: p99, source } = tally.p99();
  const budget = errorBudget({ target, requests: counts.requests, served: counts.served });
  return {
    category: category.id,
    title: category.title,
    service_class: cls.id,
    requests: counts.requests,
    successful: counts.served,
    excluded: counts.excluded,
    availability_pct: availability,
    availability_target_pct: targetPct(target),
    availability_met: meetsAvailabilityTarget(counts, target),
    latency_p99_ms: p99,
    latency_source: source,
    latency_objective_ms: category.latencyP99Ms,
    latency_met: meetsLatencyObjective(p99, category.latencyP99Ms, source),
    error_budget_requests: budget.budgetRequests,
    error_budget_used_ratio: budget.usedRatio,
  };
}

export function serviceClassFigures(
  cls: ServiceClass,
  members: readonly CategoryFigures[],
): ServiceClassFigures {
  const pooled: Tally = pooledTally(members.map((m) => ({ requests: m.requests, served: m.successful })));
  const availability = availabilityPct(pooled);
  return {
    service_class: cls.id,
    title: cls.title,
    requests: pooled.requests,
    successful: pooled.served,
    excluded: members.reduce((sum, m) => sum + m.excluded, 0),
    availability_pct: availability,
    availability_target_pct: targetPct(cls.availabilityTarget),
    availability_met: meetsAvailabilityTarget(pooled, cls.availabilityTarget),
  };
}

/**
 * How many requests an interval excluded -- given a part of a maintenance window, that part alone
 * (an unqualified part excludes none); null when unknown (figures computed from rollups).
 */
export type ExcludedCount = (
  kind: "maintenance" | "exclusion",
  id: string,
  part?: QualifiedWindow,
) => number | null;

export function maintenanceFigures(
  qualified: readonly QualifiedWindow[],
  maintenance: SloConfig["maintenance"],
  month: Interval,
  excludedCount: ExcludedCount,
): MaintenanceFigures {
  const policy = maintenance.policy;
  const changes = maintenance.policyLog?.changes ?? [];
  const year = new Date(month.start).getUTCFullYear();
  const usage = maintenanceYearUsage(qualified, year, month.end);
  return {
    windows: qualified
      .filter((q) => q.window.start < month.end && q.window.end > month.start)
      .map((q) => ({
        id: q.window.id,
        start: isoUtc(q.window.start),
        end: isoUtc(q.window.end),
        announced_at: isoUtc(q.window.announcedAt),
        categories: scopeList(q.window.categories),
        qualified: q.qualified,
        qualified_hours: q.qualifiedMs / 3_600_000,
        reason: q.reason,
        excluded_requests: excludedCount("maintenance", q.window.id, q),
        ...feedFigures(q.window),
        ...(q.window.declaredNotice
          ? {
              declared_announced_at: isoUtc(q.window.declaredNotice.declaredAt),
              declared_notice: q.window.declaredNotice.check,
            }
          : {}),
        history: (q.window.history ?? []).map((v) => ({
          seen_at: isoUtc(v.seenAt),
          start: isoUtc(v.start),
          end: isoUtc(v.end),
          categories: scopeList(v.categories),
        })),
      })),
    year_occasions_used: usage.occasions,
    year_hours_used: usage.hours,
    policy: {
      min_notice_days: policy.minNoticeDays,
      max_occasions_per_year: policy.maxOccasionsPerYear,
      max_hours_per_year: policy.maxHoursPerYear,
    },
    ...(changes.length > 0
      ? {
          policy_changes: changes.map((v) => ({
            loaded_at: isoUtc(v.loadedAt),
            min_notice_days: v.policy.minNoticeDays,
            max_occasions_per_year: v.policy.maxOccasionsPerYear,
            max_hours_per_year: v.policy.maxHoursPerYear,
          })),
        }
      : {}),
  };
}

/** Every declared exclusion that overlaps the month, in start order. */
export function exclusionFigures(
  exclusions: readonly Exclusion[],
  month: Interval,
  excludedCount: ExcludedCount,
): ExclusionFigures[] {
  return exclusions
    .filter((e) => e.start < month.end && e.end > month.start)
    .sort((a, b) => a.start - b.start)
    .map((e) => ({
      id: e.id,
      start: isoUtc(e.start),
      end: isoUtc(e.end),
      reason: e.reason,
      categories: scopeList(e.categories),
      excluded_requests: excludedCount("exclusion", e.id),
    }));
}
