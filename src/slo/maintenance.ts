import type { MaintenancePolicy, MaintenanceWindow } from "../model/config.js";
import { DAY_MS, type EpochMs, HOUR_MS } from "../model/time.js";

/** cancelled: the provider called a feed window off; it uses no occasion and no hours. */
export type DisqualifyReason = "cancelled" | "late_notice" | "occasion_cap" | "hours_cap";

/** A maintenance window with the verdict of contract section 1, rules 1–3. */
export interface QualifiedWindow {
  readonly window: MaintenanceWindow;
  /** True when some of it is excluded (possibly cut short by the hours cap). */
  readonly qualified: boolean;
  /** Length of the qualifying part [start, start + qualifiedMs). */
  readonly qualifiedMs: number;
  /** start + qualifiedMs, or null when nothing qualifies. */
  readonly qualifyingEnd: EpochMs | null;
  /** Why the window does not (fully) qualify; null when it qualifies in full. */
  readonly reason: DisqualifyReason | null;
}

/**
 * The calendar year a window is counted in: the UTC year of its start. A window spanning New Year
 * is one occasion of its start year and all of its hours count against that year's cap.
 */
export function maintenanceYearOf(window: Pick<MaintenanceWindow, "start">): number {
  return new Date(window.start).getUTCFullYear();
}

interface YearUse {
  /** Ids of the notice-qualified windows: the parts of a moved window are one occasion. */
  readonly noticeQualified: Set<string>;
  usedMs: number;
  /**
   * Per id, the spans already counted against the hours cap: parts of one window that share a
   * span (its categories announced at different times) use its hours once.
   */
  readonly counted: Map<string, { start: EpochMs; end: EpochMs }[]>;
}

/** How much of [start, end) the spans already counted for the window's id cover. */
function alreadyCounted(use: YearUse, window: MaintenanceWindow): number {
  let ms = 0;
  for (const span of use.counted.get(window.id) ?? []) {
    ms += Math.max(0, Math.min(span.end, window.end) - Math.max(span.start, window.start));
  }
  return ms;
}

/**
 * Applies rules 1–3 per calendar year, in start order: notice, then the occasion cap (counting
 * notice-qualified windows), then the hours cap (a window crossing it qualifies up to the cap).
 * Returns the windows in start order (ties keep their given order).
 */
export function qualifyMaintenanceWindows(
  windows: readonly MaintenanceWindow[],
  policy: MaintenancePolicy,
): QualifiedWindow[] {
  const ordered = windows
    .map((window, index) => ({ window, index }))
    .sort((a, b) => a.window.start - b.window.start || a.index - b.index)
    .map((x) => x.window);
  const years = new Map<number, YearUse>();
  const capMs = policy.maxHoursPerYear * HOUR_MS;
  return ordered.map((window) => {
    if (isCancelled(window)) return rejected(window, "cancelled");
    if (window.announcedAt > window.start - policy.minNoticeDays * DAY_MS) {
      return rejected(window, "late_notice");
    }
    const year = maintenanceYearOf(window);
    const use: YearUse = years.get(year) ?? { noticeQualified: new Set(), usedMs: 0, counted: new Map() };
    years.set(year, use);
    use.noticeQualified.add(window.id);
    if (use.noticeQualified.size > policy.maxOccasionsPerYear) return rejected(window, "occasion_cap");
    const durationMs = Math.max(0, window.end - window.start);
    const shared = Math.min(durationMs, alreadyCounted(use, window));
    const qualifiedMs = Math.min(durationMs, shared + Math.max(0, capMs - use.usedMs));
    use.usedMs += qualifiedMs - Math.min(shared, qualifiedMs);
    const span = { start: window.start, end: window.start + qualifiedMs };
    const spans = use.counted.get(window.id) ?? [];
    if (!spans.some((s) => s.start === span.start && s.end === span.end)) spans.push(span);
    use.counted.set(window.id, spans);
    if (qualifiedMs === 0 && durationMs > 0) return rejected(window, "hours_cap");
    return {
      window,
      qualified: true,
      qualifiedMs,
      qualifyingEnd: window.start + qualifiedMs,
      reason: qualifiedMs < durationMs ? "hours_cap" : null,
    };
  });
}

/** A feed window the provider cancelled: kept for the record, never counted. */
export function isCancelled(window: Pick<MaintenanceWindow, "feed">): boolean {
  return window.feed?.cancelledAt !== undefined && window.feed.cancelledAt !== null;
}

function rejected(window: MaintenanceWindow, reason: DisqualifyReason): QualifiedWindow {
  return { window, qualified: false, qualifiedMs: 0, qualifyingEnd: null, reason };
}

export interface MaintenanceUsage {
  readonly occasions: number;
  readonly hours: number;
}

/**
 * Qualifying maintenance of `year` that started before `until` (the report's year_*_used):
 * qualified windows, and their qualified hours in full, since the cap is consumed per window.
 */
export function maintenanceYearUsage(
  qualified: readonly QualifiedWindow[],
  year: number,
  until: EpochMs,
): MaintenanceUsage {
  const occasions = new Set<string>();
  let ms = 0;
  for (const q of qualified) {
    if (!q.qualified || maintenanceYearOf(q.window) !== year || q.window.start >= until) continue;
    occasions.add(q.window.id);
    ms += q.qualifiedMs;
  }
  return { occasions: occasions.size, hours: ms / HOUR_MS };
}
