import type { CategoryScope, MaintenanceWindow, WindowVersion } from "../model/config.js";
import type { EpochMs } from "../model/time.js";

/**
 * Moved or extended maintenance (contract section 14): when a window's start, end or categories
 * change, the changed part is judged with the time the change was first seen as its
 * announcement. A part of the final window carries the notice of the earliest version from which
 * on every observed version covered it (its time and, at least, the final categories); a part
 * that some later version did not cover was announced only when it came back.
 */
export interface NoticePart {
  readonly start: EpochMs;
  readonly end: EpochMs;
  readonly announcedAt: EpochMs;
}

function covers(scope: CategoryScope, wanted: CategoryScope): boolean {
  if (scope === "all") return true;
  if (wanted === "all") return false;
  return wanted.every((c) => scope.includes(c));
}

/**
 * The final version's [start, end) cut into parts by announcement, in start order, adjacent
 * parts with the same announcement merged. `history` is oldest first; its last entry is the
 * window as it stands. An empty history gives no parts.
 */
export function noticeParts(history: readonly WindowVersion[]): NoticePart[] {
  const final = history.at(-1);
  if (!final || final.end <= final.start) return [];
  const cuts = new Set<EpochMs>([final.start, final.end]);
  for (const v of history) {
    for (const t of [v.start, v.end]) if (t > final.start && t < final.end) cuts.add(t);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const parts: NoticePart[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i]!;
    const end = points[i + 1]!;
    let announcedAt = final.seenAt;
    for (let j = history.length - 1; j >= 0; j--) {
      const v = history[j]!;
      if (v.start > start || v.end < end || !covers(v.categories, final.categories)) break;
      announcedAt = v.seenAt;
    }
    const last = parts.at(-1);
    if (last && last.announcedAt === announcedAt && last.end === start)
      parts[parts.length - 1] = { ...last, end };
    else parts.push({ start, end, announcedAt });
  }
  return parts;
}

/**
 * A window with a history of changes as the windows the policy judges: one per notice part,
 * each with the window's id (so it stays one occasion and one row of excluded requests) and its
 * own announcement. Without a change, the window itself.
 */
export function windowsByNotice(window: MaintenanceWindow): MaintenanceWindow[] {
  const history = window.history ?? [];
  const changed = history.some(
    (v, i) =>
      i > 0 &&
      (v.start !== history[i - 1]!.start ||
        v.end !== history[i - 1]!.end ||
        JSON.stringify(v.categories) !== JSON.stringify(history[i - 1]!.categories)),
  );
  if (!changed) return [window];
  return noticeParts(history).map((part) => ({
    ...window,
    start: part.start,
    end: part.end,
    // Never earlier than the window claims as a whole (a declared window's own announced_at).
    announcedAt: Math.max(part.announcedAt, window.announcedAt),
  }));
}
