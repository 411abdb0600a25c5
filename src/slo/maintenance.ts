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
  /** The occasion it is counted as (the first window's id); null when it is not notice-qualified. */
  readonly occasion: string | null;
  /** The hours (ms) it adds to the year's use: its qualifying part less what its occasion counted already. */
  readonly chargedMs: number;
}

/**
 * The calendar year a window is counted in: the UTC year of its start. A window spanning New Year
 * is one occasion of its start year and all of its hours count against that year's cap.
 */
export function maintenanceYearOf(window: Pick<MaintenanceWindow, "start">): number {
  return new Date(window.start).getUTCFullYear();
}

/**
 * One occasion of a year (contract section 1, rule 4): the notice-qualified windows that share an
 * id (the parts of a moved window) or overlap in time and category (a declared window vouching for
 * the feed's, say) are one maintenance, whatever ids they carry.
 */
interface Occasion {
  readonly key: string;
  readonly ids: Set<string>;
  /** The notice-qualified windows' whole spans and categories: what a later window may overlap. */
  readonly extents: { start: EpochMs; end: EpochMs; categories: MaintenanceWindow["categories"] }[];
  /** The spans already counted against the hours cap: their union is counted once. */
  readonly counted: { start: EpochMs; end: EpochMs }[];
}

interface YearUse {
  readonly occasions: Occasion[];
  usedMs: number;
}

function shareCategory(a: MaintenanceWindow["categories"], b: MaintenanceWindow["categories"]): boolean {
  if (a === "all") return b === "all" || b.length > 0;
  if (b === "all") return a.length > 0;
  return a.some((c) => b.includes(c));
}

/** The occasion `window` belongs to: one holding its id, else one it overlaps in time and category. */
function occasionOf(use: YearUse, window: MaintenanceWindow): Occasion {
  const found =
    use.occasions.find((o) => o.ids.has(window.id)) ??
    use.occasions.find((o) =>
      o.extents.some(
        (e) => e.start < window.end && e.end > window.start && shareCategory(e.categories, window.categories),
      ),
    );
  if (found) return found;
  const occasion: Occasion = { key: window.id, ids: new Set(), extents: [], counted: [] };
  use.occasions.push(occasion);
  return occasion;
}

/** How much of [start, end) the union of `spans` covers. */
export function coveredMs(
  spans: readonly { start: EpochMs; end: EpochMs }[],
  start: EpochMs,
  end: EpochMs,
): number {
  const cut = spans
    .map((s) => ({ start: Math.max(s.start, start), end: Math.min(s.end, end) }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start);
  let ms = 0;
  let reached = start;
  for (const s of cut) {
    if (s.end <= reached) continue;
    ms += s.end - Math.max(s.start, reached);
    reached = s.end;
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
    const use: YearUse = years.get(year) ?? { occasions: [], usedMs: 0 };
    years.set(year, use);
    const occasion = occasionOf(use, window);
    occasion.ids.add(window.id);
    occasion.extents.push({ start: window.start, end: window.end, categories: window.categories });
    if (use.occasions.indexOf(occasion) >= policy.maxOccasionsPerYear) {
      return rejected(window, "occasion_cap", occasion.key);
    }
    const durationMs = Math.max(0, window.end - window.start);
    const shared = coveredMs(occasion.counted, window.start, window.end);
    const qualifiedMs = Math.min(durationMs, shared + Math.max(0, capMs - use.usedMs));
    const span = { start: window.start, end: window.start + qualifiedMs };
    const chargedMs = qualifiedMs - coveredMs(occasion.counted, span.start, span.end);
    use.usedMs += chargedMs;
    if (qualifiedMs > 0) occasion.counted.push(span);
    if (qualifiedMs === 0 && durationMs > 0) return rejected(window, "hours_cap", occasion.key);
    return {
      window,
      qualified: true,
      qualifiedMs,
      qualifyingEnd: window.start + qualifiedMs,
      reason: qualifiedMs < durationMs ? "hours_cap" : null,
      occasion: occasion.key,
      chargedMs,
    };
  });
}

/** A feed window the provider cancelled: kept for the record, never counted. */
export function isCancelled(window: Pick<MaintenanceWindow, "feed">): boolean {
  return window.feed?.cancelledAt !== undefined && window.feed.cancelledAt !== null;
}

function rejected(
  window: MaintenanceWindow,
  reason: DisqualifyReason,
  occasion: string | null = null,
): QualifiedWindow {
  return { window, qualified: false, qualifiedMs: 0, qualifyingEnd: null, reason, occasion, chargedMs: 0 };
}

export interface MaintenanceUsage {
  readonly occasions: number;
  readonly hours: number;
}

/**
 * Qualifying maintenance of `year` that started before `until` (the report's year_*_used): its
 * occasions (windows overlapping in time and category are one), and the hours they charged to the
 * cap -- the union of an occasion's qualifying time, never the same hour twice.
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
    occasions.add(q.occasion ?? q.window.id);
    ms += q.chargedMs;
  }
  return { occasions: occasions.size, hours: ms / HOUR_MS };
}
