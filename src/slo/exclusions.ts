import { type CategoryId, categoryInScope, type Exclusion } from "../model/config.js";
import type { EpochMs } from "../model/time.js";
import type { QualifiedWindow } from "./maintenance.js";

export interface ExcludedBy {
  readonly kind: "maintenance" | "exclusion";
  readonly id: string;
  /** The qualified part of a maintenance window that excluded it (a window changed late has several). */
  readonly part?: QualifiedWindow;
}

interface ExcludingInterval extends ExcludedBy {
  readonly start: EpochMs;
  /** Exclusive. */
  readonly end: EpochMs;
  readonly scope: Exclusion["categories"];
}

/**
 * Decides whether a request is excluded (contract section 1, rule 5 and exclusions): inside the
 * qualifying part of a qualified window, or inside a declared exclusion, covering its category.
 * Maintenance is checked first, so a request inside both is attributed to the maintenance window.
 */
export class ExclusionIndex {
  readonly #maintenance: readonly ExcludingInterval[];
  readonly #exclusions: readonly ExcludingInterval[];
  readonly #byCategory = new Map<CategoryId, readonly ExcludingInterval[]>();

  constructor(qualified: readonly QualifiedWindow[], exclusions: readonly Exclusion[]) {
    this.#maintenance = qualified
      .filter((q) => q.qualified && q.qualifiedMs > 0)
      .map((q) => ({
        kind: "maintenance",
        id: q.window.id,
        part: q,
        start: q.window.start,
        end: q.window.start + q.qualifiedMs,
        scope: q.window.categories,
      }));
    this.#exclusions = exclusions
      .filter((e) => e.end > e.start)
      .map((e) => ({ kind: "exclusion", id: e.id, start: e.start, end: e.end, scope: e.categories }));
  }

  excludedBy(category: CategoryId, ts: EpochMs): ExcludedBy | null {
    for (const interval of this.#intervalsOf(category)) {
      if (ts >= interval.start && ts < interval.end) {
        const { kind, id, part } = interval;
        return part ? { kind, id, part } : { kind, id };
      }
    }
    return null;
  }

  /** Whether qualifying maintenance covers the category at ts (its requests are being excluded). */
  activeMaintenance(category: CategoryId, ts: EpochMs): boolean {
    return this.excludedBy(category, ts)?.kind === "maintenance";
  }

  #intervalsOf(category: CategoryId): readonly ExcludingInterval[] {
    let intervals = this.#byCategory.get(category);
    if (!intervals) {
      intervals = [...this.#maintenance, ...this.#exclusions].filter((i) =>
        categoryInScope(i.scope, category),
      );
      this.#byCategory.set(category, intervals);
    }
    return intervals;
  }
}
