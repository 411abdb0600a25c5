import type { CategoryId, CategoryScope, MaintenanceWindow, WindowVersion } from "../model/config.js";
import type { EpochMs } from "../model/time.js";
import { isCancelled } from "./maintenance.js";

/**
 * Moved or extended maintenance (contract section 14): when a window's start, end or categories
 * change, the changed part is judged with the time the change was first seen as its
 * announcement. A part of the final window -- a stretch of time for some of its categories --
 * carries the notice of the earliest version from which on every observed version covered it;
 * a part that some later version did not cover was announced only when it came back. Widening
 * the categories late therefore keeps the original notice for the categories first announced;
 * only the added ones are announced when the widening was seen.
 *
 * A change takes effect from when it was seen, never before: what a version covered while it
 * was the newest one seen (from its sighting to the next version's) stays maintenance with that
 * version's notice, even when a later version no longer covers it. A provider who takes a
 * category out of a window (or shortens it) after part of it has elapsed, or a merchant who
 * edits a declared window afterwards, changes nothing about the time already past: the elapsed
 * part was announced maintenance as it happened (issue 24).
 */
export interface NoticePart {
  readonly start: EpochMs;
  readonly end: EpochMs;
  readonly announcedAt: EpochMs;
  /** The categories this part's notice holds for. */
  readonly categories: CategoryScope;
}

/** A set of categories, or null for every category there is (when they cannot be listed). */
type CategorySet = ReadonlySet<CategoryId> | null;

function setOf(scope: CategoryScope, known: readonly CategoryId[] | undefined): CategorySet {
  if (scope !== "all") return new Set(scope);
  return known ? new Set(known) : null;
}

/** a ∩ b; undefined when the rest of `a` could not be listed (every category, unlisted, minus some). */
function intersect(a: CategorySet, b: CategorySet): CategorySet | undefined {
  if (a === null) return b === null ? null : undefined;
  if (b === null) return a;
  return new Set([...a].filter((c) => b.has(c)));
}

/** When some categories of a stretch were announced (null: every category). */
interface Announcement {
  readonly announcedAt: EpochMs;
  readonly set: CategorySet;
}

/**
 * The window cut into parts by announcement, in start order (parts of the same stretch in order
 * of announcement), adjacent parts with the same announcement and categories merged: the final
 * version's [start, end), and what each earlier version covered while it was in force (from its
 * sighting to the next version's) that the final one no longer does. `history` is oldest first;
 * its last entry is the window as it stands. `known`: every configured category, so that a
 * window widened to "all" can be split by category; without it such a window is announced whole
 * when the widening was seen. An empty history gives no parts.
 */
export function noticeParts(history: readonly WindowVersion[], known?: readonly CategoryId[]): NoticePart[] {
  if (history.length === 0) return [];
  const cuts = new Set<EpochMs>();
  for (const v of history) if (v.end > v.start) cuts.add(v.start).add(v.end);
  for (const v of history.slice(1)) cuts.add(v.seenAt);
  const points = [...cuts].sort((a, b) => a - b);
  const parts: NoticePart[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i]!;
    const end = points[i + 1]!;
    for (const { announcedAt, categories } of stretchAnnouncements(history, start, end, known)) {
      const same = parts.findLast(
        (p) => p.end === start && p.announcedAt === announcedAt && sameScope(p.categories, categories),
      );
      if (same) parts[parts.indexOf(same)] = { ...same, end };
      else parts.push({ start, end, announcedAt, categories });
    }
  }
  return parts;
}

/**
 * The announcements of [start, end) (a stretch no version's start, end or sighting cuts): the
 * final version's, and, while an earlier version was the newest one seen, that version's; a
 * category both cover keeps the earlier announcement.
 */
function stretchAnnouncements(
  history: readonly WindowVersion[],
  start: EpochMs,
  end: EpochMs,
  known: readonly CategoryId[] | undefined,
): { announcedAt: EpochMs; categories: CategoryScope }[] {
  const covers = (v: WindowVersion) => v.start <= start && end <= v.end;
  const found: Announcement[] = [];
  if (covers(history.at(-1)!)) found.push(...announcementsOf(history, start, end, known));
  const inForce = history.findLastIndex((v) => v.seenAt <= start);
  if (inForce >= 0 && inForce < history.length - 1 && covers(history[inForce]!))
    found.push(...announcementsOf(history.slice(0, inForce + 1), start, end, known));
  return earliestByCategory(found).map(({ announcedAt, set }) => ({
    announcedAt,
    categories: scopeNamed(set, history, known),
  }));
}

/** Per category, its earliest announcement, grouped by announcement in time order. */
function earliestByCategory(found: readonly Announcement[]): Announcement[] {
  const everyAt = Math.min(...found.filter((a) => a.set === null).map((a) => a.announcedAt));
  const earliest = new Map<CategoryId, EpochMs>();
  for (const { announcedAt, set } of found) {
    for (const c of set ?? []) earliest.set(c, Math.min(announcedAt, earliest.get(c) ?? announcedAt));
  }
  const byTime = new Map<EpochMs, Set<CategoryId> | null>();
  if (Number.isFinite(everyAt)) byTime.set(everyAt, null);
  for (const [c, at] of earliest) {
    // Every category, unlisted, is announced at everyAt: a listed one only when it was earlier.
    if (at >= everyAt) continue;
    const set = byTime.get(at) ?? new Set<CategoryId>();
    if (set !== null) byTime.set(at, set.add(c));
  }
  return [...byTime].sort(([a], [b]) => a - b).map(([announcedAt, set]) => ({ announcedAt, set }));
}

/**
 * A part's categories as the window names them: the final version's own scope when it is that
 * set, "all" when it is every category and some version said "all", else the categories sorted.
 */
function scopeNamed(
  set: CategorySet,
  history: readonly WindowVersion[],
  known: readonly CategoryId[] | undefined,
): CategoryScope {
  if (set === null) return "all";
  const final = history.at(-1)!.categories;
  const whole = setOf(final, known);
  if (whole !== null && whole.size > 0 && whole.size === set.size && [...set].every((c) => whole.has(c)))
    return final;
  if (known && set.size === known.length && history.some((v) => v.categories === "all")) return "all";
  return [...set].sort();
}

/** Per category of the final version, when [start, end) was first announced for it, grouped. */
function announcementsOf(
  history: readonly WindowVersion[],
  start: EpochMs,
  end: EpochMs,
  known: readonly CategoryId[] | undefined,
): Announcement[] {
  const final = history.at(-1)!;
  let covered: CategorySet = setOf(final.categories, known);
  let announcedAt = final.seenAt;
  /** Categories announced at each seenAt, earliest last; null: every category. */
  const byTime = new Map<EpochMs, CategorySet>([[announcedAt, covered]]);
  for (let j = history.length - 2; j >= 0; j--) {
    const v = history[j]!;
    if (v.start > start || v.end < end) break;
    const still = intersect(covered, setOf(v.categories, known));
    if (still === undefined || (still !== null && still.size === 0)) break;
    // Those still covered were announced earlier: move them from the later announcement.
    const later = byTime.get(announcedAt)!;
    byTime.set(announcedAt, later === null ? null : new Set([...later].filter((c) => !still?.has(c))));
    if (later === null) byTime.delete(announcedAt);
    announcedAt = v.seenAt;
    byTime.set(announcedAt, still);
    covered = still;
  }
  return [...byTime]
    .filter(([, set]) => set === null || set.size > 0)
    .map(([announcedAt, set]) => ({ announcedAt, set }));
}

function sameScope(a: CategoryScope, b: CategoryScope): boolean {
  return a === b || (a !== "all" && b !== "all" && a.join(",") === b.join(","));
}

/**
 * A window with a history of changes as the windows the policy judges: one per notice part,
 * each with the window's id (so it stays one occasion and one row of excluded requests) and its
 * own announcement. Without a change, the window itself.
 */
export function windowsByNotice(
  window: MaintenanceWindow,
  known?: readonly CategoryId[],
): MaintenanceWindow[] {
  const history = window.history ?? [];
  const changed = history.some(
    (v, i) =>
      i > 0 &&
      (v.start !== history[i - 1]!.start ||
        v.end !== history[i - 1]!.end ||
        JSON.stringify(v.categories) !== JSON.stringify(history[i - 1]!.categories)),
  );
  // Never announced before its first version was seen (a declared window added by a reload).
  if (!changed) return [{ ...window, announcedAt: Math.max(window.announcedAt, history[0]?.seenAt ?? 0) }];
  const parts = noticeParts(history, known);
  const cancelled = isCancelled(window);
  // Called off before any of it elapsed: the window as it stands, kept for the record (never counted).
  if (cancelled && parts.length === 0) return [window];
  return parts.map((part) => ({
    ...window,
    start: part.start,
    end: part.end,
    categories: part.categories,
    // Never earlier than the window claims as a whole (a declared window's own announced_at).
    announcedAt: Math.max(part.announcedAt, window.announcedAt),
    // A cancelled window's parts are what elapsed before the cancellation was read: judged by notice.
    ...(cancelled && window.feed ? { feed: { ...window.feed, cancelledAt: null } } : {}),
  }));
}

/**
 * A declared window the log's configurations held that the configuration given now does not (a
 * reload deleted it, or only the slo.yaml given to the report lacks it): judged from its logged
 * versions, covering no category from the deletion on (from `now` when no record deleted it), so
 * the time it was in force stays maintenance; nothing when none of it elapsed in force.
 */
export function removedWindow(
  id: string,
  logged: readonly WindowVersion[],
  now: EpochMs,
  known?: readonly CategoryId[],
): MaintenanceWindow[] {
  const last = logged.findLast((v) => !coversNothing(v.categories));
  if (last === undefined) return [];
  const history = coversNothing(logged.at(-1)!.categories)
    ? logged
    : [...logged, { seenAt: now, start: last.start, end: last.end, categories: [] }];
  return windowsByNotice(
    {
      id,
      start: last.start,
      end: last.end,
      announcedAt: logged[0]!.seenAt,
      categories: last.categories,
      description: "removed from the configuration",
      history,
    },
    known,
  );
}

/** A scope of no category: a window version cancelled, deleted or left with no mapped component. */
export function coversNothing(scope: CategoryScope): boolean {
  return scope !== "all" && scope.length === 0;
}
