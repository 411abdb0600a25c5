import type {
  CategoryScope,
  DeclaredNotice,
  FeedWindow,
  MaintenanceFeed,
  MaintenancePolicy,
  MaintenanceWindow,
  PolicyVersion,
  SloConfig,
  WindowVersion,
} from "../model/config.js";
import { DAY_MS, type EpochMs } from "../model/time.js";
import { removedWindow, windowsByNotice } from "./moved-maintenance.js";

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

/** What a feed window's id becomes when a declared window has its provider id (feedWindowId). */
export const FEED_ID_PREFIX = "feed:";

/**
 * A feed window's id among the month's windows: the provider's, or FEED_ID_PREFIX and the
 * provider's when a declared window has that id. Declared and feed windows are separate
 * namespaces: a declared window never replaces or hides a feed window (declared ids cannot begin
 * with "feed:", config/wire.ts), so both stand, each counted under its own id.
 */
export function feedWindowId(providerId: string, declaredIds: ReadonlySet<string>): string {
  return declaredIds.has(providerId) ? `${FEED_ID_PREFIX}${providerId}` : providerId;
}

/** The feed windows' provider ids that a declared window also has, each once, sorted. */
export function sharedWindowIds(
  declared: readonly MaintenanceWindow[],
  feed: readonly FeedWindow[],
): string[] {
  const ids = new Set(declared.map((w) => w.id));
  return [...new Set(feed.map((f) => f.providerId).filter((id) => ids.has(id)))].sort();
}

/** The warning for feed windows that share their id with a declared one (the run's log, the report). */
export function sharedIdWarning(id: string): string {
  return `maintenance window ${id} is both declared (maintenance.windows) and in the provider's maintenance feed: they are separate windows, both judged; the feed's is counted as ${FEED_ID_PREFIX}${id}. Give the declared window another id.`;
}

/**
 * sharedIdWarning for each feed window among `windows` (merged by mergeFeedWindows) that overlaps
 * `period` and is counted under FEED_ID_PREFIX because a declared window has its id.
 */
export function sharedIdWarnings(
  windows: readonly MaintenanceWindow[],
  period: { readonly start: EpochMs; readonly end: EpochMs },
): string[] {
  const shared = windows
    .filter((w) => w.feed !== undefined && w.id !== w.feed.providerId)
    .filter((w) => w.start < period.end && w.end > period.start)
    .map((w) => w.feed?.providerId ?? w.id);
  return [...new Set(shared)].sort().map(sharedIdWarning);
}

/**
 * Declared windows plus the feed's. A feed window's announced_at is its first-seen time — the
 * notice the agent can prove — not the provider's created_at; a window whose start, end or
 * categories changed is judged in parts, each part from when it was first seen (windowsByNotice).
 * A declared window with a feed window's id replaces nothing: both stand (feedWindowId).
 */
export function mergeFeedWindows(
  declared: readonly MaintenanceWindow[],
  feed: readonly FeedWindow[],
  everyMs: number,
  known?: readonly string[],
): MaintenanceWindow[] {
  const ids = new Set(declared.map((w) => w.id));
  const imported = feed.flatMap((f) =>
    windowsByNotice(
      {
        id: feedWindowId(f.providerId, ids),
        start: f.start,
        end: f.end,
        announcedAt: f.firstSeenAt,
        categories: f.categories,
        description: f.name,
        feed: {
          providerId: f.providerId,
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

/** What the evidence log says of the declared windows: their versions, and when "now" is. */
export interface DeclaredHistory {
  /** Each declared window's versions from the configuration records (declaredVersionsOf). */
  readonly versions: ReadonlyMap<string, readonly WindowVersion[]>;
  /** When the log's first configuration was loaded; null when the log holds none (a store filled by import). */
  readonly logBegan: EpochMs | null;
  /** When a window as given differs from every version the log holds: the change is first seen now. */
  readonly now: EpochMs;
  /** The maintenance policies of the configuration records (policyVersionsOf); absent: the given policy judges. */
  readonly policies?: readonly PolicyVersion[];
  /** The month judged, "YYYY-MM" (UTC); absent: the month of `now`. */
  readonly month?: string;
}

export function samePolicy(a: MaintenancePolicy, b: MaintenancePolicy): boolean {
  return (
    a.minNoticeDays === b.minNoticeDays &&
    a.maxOccasionsPerYear === b.maxOccasionsPerYear &&
    a.maxHoursPerYear === b.maxHoursPerYear
  );
}

/**
 * The maintenance policy that judges a month (contract section 14, docs/sla-arithmetic.md): the
 * one in force when the month began -- the newest the log loaded by then, or the log's first when
 * it began later. A policy loaded within the month takes effect from the next month: a loosening
 * cannot let a window of this month qualify, nor a tightening reject one announced under the
 * earlier policy. changes: the policies loaded within the month after it. null: the log holds none.
 */
export function policyOfMonth(
  policies: readonly PolicyVersion[],
  month: { readonly start: EpochMs; readonly end: EpochMs },
): { policy: MaintenancePolicy; changes: PolicyVersion[] } | null {
  const first = policies[0];
  if (first === undefined) return null;
  const inForce = policies.findLast((v) => v.loadedAt <= month.start) ?? first;
  const changes = policies.filter((v) => v !== inForce && v.loadedAt > month.start && v.loadedAt < month.end);
  return { policy: inForce.policy, changes };
}

/** The UTC month of `month` ("YYYY-MM"), else the one `now` falls in. */
function monthOf(month: string | undefined, now: EpochMs): { start: EpochMs; end: EpochMs } {
  const at = new Date(month === undefined ? now : Date.parse(`${month}-01T00:00:00Z`));
  const [year, index] = [at.getUTCFullYear(), at.getUTCMonth()];
  return { start: Date.UTC(year, index, 1), end: Date.UTC(year, index + 1, 1) };
}

/**
 * The configuration's maintenance with the policy the log holds for the month (policyOfMonth);
 * the given policy, when the log holds it nowhere in the month, is named as not applied.
 */
function withLoggedPolicy<T extends Pick<SloConfig, "maintenance">>(config: T, declared: DeclaredHistory): T {
  const logged = policyOfMonth(declared.policies ?? [], monthOf(declared.month, declared.now));
  if (logged === null) return config;
  const given = config.maintenance.policy;
  const held = [logged.policy, ...logged.changes.map((v) => v.policy)].some((p) => samePolicy(p, given));
  const policyLog = { changes: logged.changes, unapplied: held ? null : given };
  return { ...config, maintenance: { ...config.maintenance, policy: logged.policy, policyLog } };
}

/**
 * A declared window judged like a feed window (contract section 14): its history is the versions
 * the configuration records of the log hold; a window as given that is not the newest of them (a
 * configuration the agent never loaded, or an older one given to a report) gains a version first
 * seen `now`, and so does a window no record holds at all: what the log held in force stays. A
 * log without configuration records (a store filled by import) gives no history: the window
 * stands on its declared announced_at.
 */
export function declaredWithHistory(
  window: MaintenanceWindow,
  history: DeclaredHistory,
  known?: readonly string[],
  minNoticeMs = 0,
): MaintenanceWindow[] {
  if (history.logBegan === null) return [window];
  const logged = history.versions.get(window.id) ?? [];
  const shape = (v: Pick<WindowVersion, "start" | "end" | "categories">) =>
    JSON.stringify([v.start, v.end, v.categories]);
  // Every version the log holds counts, also those after one matching the window as given (a
  // report made with an older slo.yaml): a change never reaches back, so the window as given, when
  // it is not the newest logged version, is a change first seen now.
  const newest = logged.at(-1);
  const versions =
    newest !== undefined && shape(newest) === shape(window)
      ? logged
      : [
          ...logged,
          { seenAt: history.now, start: window.start, end: window.end, categories: window.categories },
        ];
  // The notice is what the log holds (the first version's, from the announced_at loaded then), never
  // the announced_at given now: a later one given to a report would make past parts late.
  const firstSeen = versions[0]!.seenAt;
  const parts = windowsByNotice({ ...window, announcedAt: firstSeen, history: versions }, known);
  if (logged.length === 0) {
    const declaredNotice: DeclaredNotice = { declaredAt: window.announcedAt, check: "not_loaded" };
    return parts.map((part) => ({ ...part, declaredNotice }));
  }
  // Trusted from the log's first configuration: unverified where a part's verdict rests on it,
  // whatever announced_at a later reload or the file given now says (earlier or later).
  if (firstSeen < history.logBegan) return markedBeforeLog(parts, firstSeen, history.logBegan, minNoticeMs);
  if (firstSeen <= window.announcedAt) return parts;
  const declaredNotice: DeclaredNotice = { declaredAt: window.announcedAt, check: "loaded_later" };
  return parts.map((part) => ({ ...part, declaredNotice }));
}

/**
 * The parts of a window from the log's first configuration whose verdict rests on its declared
 * announced_at (`trusted`, before the log began): each has the notice from it and would not have
 * it from the log's beginning, so it qualifies only on a date the log cannot bear out
 * ("before_log", unverified). A part late either way, or on time either way, is not marked.
 */
export function markedBeforeLog(
  parts: readonly MaintenanceWindow[],
  trusted: EpochMs,
  logBegan: EpochMs,
  minNoticeMs: number,
): MaintenanceWindow[] {
  const declaredNotice: DeclaredNotice = { declaredAt: trusted, check: "before_log" };
  return parts.map((part) =>
    part.announcedAt === trusted && part.start - minNoticeMs >= trusted && part.start - minNoticeMs < logBegan
      ? { ...part, declaredNotice }
      : part,
  );
}

/**
 * The configuration with the feed's windows merged into its declared ones (mergeFeedWindows), and,
 * given the log's declared history, each declared window judged by the notice of its versions.
 */
export function withFeedWindows<
  T extends Pick<SloConfig, "maintenance"> & { readonly categories?: SloConfig["categories"] },
>(given: T, feed: readonly FeedWindow[], declared?: DeclaredHistory): T {
  if (feed.length === 0 && declared === undefined) return given;
  // The policy the log holds for the month judges it, not the one given now.
  const config = declared === undefined ? given : withLoggedPolicy(given, declared);
  const everyMs = config.maintenance.feed?.everyMs ?? DEFAULT_FEED_EVERY_MS;
  // The configured categories let a window widened to "all" late keep its notice per category.
  const known = config.categories ? [...config.categories.keys()] : undefined;
  const ids = new Set(config.maintenance.windows.map((w) => w.id));
  const minNoticeMs = config.maintenance.policy.minNoticeDays * DAY_MS;
  const own =
    declared === undefined
      ? config.maintenance.windows
      : [
          ...config.maintenance.windows.flatMap((w) => declaredWithHistory(w, declared, known, minNoticeMs)),
          // Deleted after it was in force: what elapsed stays maintenance (removedWindow).
          ...[...declared.versions]
            .filter(([id]) => !ids.has(id))
            .flatMap(([id, versions]) => {
              const parts = removedWindow(id, versions, declared.now, known);
              // One deleted after it was in force still rests on the same date where it did before.
              const first = versions[0]!.seenAt;
              return declared.logBegan !== null && first < declared.logBegan
                ? markedBeforeLog(parts, first, declared.logBegan, minNoticeMs)
                : parts;
            }),
        ];
  const windows = mergeFeedWindows(own, feed, everyMs, known);
  return { ...config, maintenance: { ...config.maintenance, windows } };
}
