import type {
  CategoryScope,
  FeedWindow,
  MaintenanceFeed,
  MaintenanceWindow,
  SloConfig,
} from "../model/config.js";
import { windowsByNotice } from "./moved-maintenance.js";

export interface ComponentScope {
  /** The categories the components cover; null when none of them is mapped. */
  readonly scope: CategoryScope | null;
  /** Component names the configuration does not map. */
  readonly unmapped: readonly string[];
}

/**
 * The categories a feed window covers, from the names of its components. Without a mapping every
 * window covers all categories; with one, only mapped components count.
 */
export function scopeOfComponents(feed: MaintenanceFeed, components: readonly string[]): ComponentScope {
  if (feed.components === null) return { scope: "all", unmapped: [] };
  const categories = new Set<string>();
  const unmapped: string[] = [];
  for (const name of components) {
    const scope = feed.components.get(name);
    if (scope === undefined) unmapped.push(name);
    else if (scope === "all") return { scope: "all", unmapped };
    else for (const c of scope) categories.add(c);
  }
  return { scope: categories.size === 0 ? null : [...categories].sort(), unmapped };
}

/**
 * Declared windows plus the feed's. A feed window's announced_at is its first-seen time — the
 * notice the agent can prove — not the provider's created_at; a window whose start, end or
 * categories changed is judged in parts, each part from when it was first seen (windowsByNotice); a declared window with the same id
 * replaces the feed's entirely (that is how an operator vouches for an earlier announcement).
 */
export function mergeFeedWindows(
  declared: readonly MaintenanceWindow[],
  feed: readonly FeedWindow[],
  everyMs: number,
  known?: readonly string[],
): MaintenanceWindow[] {
  const ids = new Set(declared.map((w) => w.id));
  const imported = feed
    .filter((f) => !ids.has(f.providerId))
    .flatMap((f) =>
      windowsByNotice(
        {
          id: f.providerId,
          start: f.start,
          end: f.end,
          announcedAt: f.firstSeenAt,
          categories: f.categories,
          description: f.name,
          feed: {
            providerAnnouncedAt: f.providerCreatedAt,
            firstSeenAt: f.firstSeenAt,
            everyMs,
            ...(f.cancelledAt ? { cancelledAt: f.cancelledAt } : {}),
          },
          ...(f.history ? { history: f.history } : {}),
        },
        known,
      ),
    );
  return [...declared, ...imported];
}

/** Feed windows are polled every 10 minutes unless configured otherwise. */
export const DEFAULT_FEED_EVERY_MS = 600_000;

/** The configuration with the feed's windows merged into its declared ones (mergeFeedWindows). */
export function withFeedWindows<
  T extends Pick<SloConfig, "maintenance"> & { readonly categories?: SloConfig["categories"] },
>(config: T, feed: readonly FeedWindow[]): T {
  if (feed.length === 0) return config;
  const everyMs = config.maintenance.feed?.everyMs ?? DEFAULT_FEED_EVERY_MS;
  // The configured categories let a window widened to "all" late keep its notice per category.
  const known = config.categories ? [...config.categories.keys()] : undefined;
  const windows = mergeFeedWindows(config.maintenance.windows, feed, everyMs, known);
  return { ...config, maintenance: { ...config.maintenance, windows } };
}
