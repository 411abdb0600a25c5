import type Database from "better-sqlite3";
import canonicalize from "canonicalize";
import type {
  CategoryScope,
  FeedWindow,
  MaintenancePolicy,
  PolicyVersion,
  WindowVersion,
} from "../model/config.js";
import type { EpochMs } from "../model/time.js";
import { samePolicy } from "../slo/feed-windows.js";
import { coversNothing } from "../slo/moved-maintenance.js";
import { appendInput, hasInputLog, inputHead, seenInputsOf, seenNow } from "./evidence/input-log.js";
import {
  appendFeedReachability,
  type FeedLeftOut,
  type FeedOutage,
  type FeedReachability,
  feedLeftOut,
  feedOutages,
  latestFeedState,
  latestLeftOut,
  leftOutKey,
  leftOutSince,
} from "./feed-reachability.js";
import { statementOf } from "./statements.js";

/** A feed window as read now, before the store knows when it was first seen. */
export interface FeedWindowReading extends Omit<FeedWindow, "firstSeenAt" | "cancelledAt"> {
  /** The provider called the window off (see parseScheduledMaintenances). */
  readonly cancelled: boolean;
  /** SHA-256 (hex) of the canonical form of the provider's entry. */
  readonly digest: string;
  /** The names of the entry's components, sorted (what maintenance.feed.components maps). */
  readonly components?: readonly string[];
  /** Each component's categories under the mapping in force ([] for one not mapped). */
  readonly componentCategories?: Readonly<Record<string, CategoryScope>>;
}

export interface FeedObservation {
  /** Provider ids seen for the first time. */
  readonly added: readonly string[];
  /** Provider ids whose entry changed since last seen. */
  readonly changed: readonly string[];
}

interface Row {
  provider_id: string;
  name: string;
  start: number;
  end: number;
  provider_created_at: number;
  first_seen_at: number;
  categories: string;
  last_digest: string;
  /** Absent in a store not yet migrated (read-only). */
  cancelled_at?: number | null;
}

/**
 * The windows of the maintenance feed (outside the hash chain). first_seen_at is written once;
 * later readings update the schedule, name, categories and digest, never the first sighting.
 * cancelled_at is when a reading first showed the window cancelled (cleared if reinstated).
 */
export class FeedWindowLedger {
  readonly #db: () => Database.Database;
  /** Signs the head; given the input head as this transaction began (what follows is its own). */
  readonly #signed: (inputsBefore: number) => void;

  /** `signed` signs the store's head inside the transaction that recorded observations. */
  constructor(db: () => Database.Database, signed: (inputsBefore: number) => void = () => {}) {
    this.#db = db;
    this.#signed = signed;
  }

  /**
   * Records a feed reading. What the log's newest observation of a window says is what the agent
   * knows of it: a window is new (first seen now) when no observation in the log records it,
   * whatever feed_windows holds, and its first sighting and cancellation carry over from that
   * observation, never from a table row someone else could have written. feed_windows is then
   * written to match, and each added or changed window is an observation, signed in the same
   * transaction (`signed`).
   *
   * `leftOutReadings`: the entries of the same reading left out (no component mapped; categories
   * []). One the log holds is observed like the others -- from now on it covers no category, and
   * the time it covered elapsed as it was (slo/moved-maintenance.ts); one the log never held stays
   * out of it (the left-out list of the feed's reachability records says when it was first seen).
   */
  observe(
    readings: readonly FeedWindowReading[],
    now: EpochMs,
    leftOutReadings: readonly FeedWindowReading[] = [],
  ): FeedObservation {
    const db = this.#db();
    const upsert = db.prepare(
      `INSERT INTO feed_windows (provider_id, name, start, end, provider_created_at, first_seen_at,
         last_seen_at, categories, last_digest, cancelled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (provider_id) DO UPDATE SET name = excluded.name, start = excluded.start,
         end = excluded.end, provider_created_at = excluded.provider_created_at,
         first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at,
         categories = excluded.categories, last_digest = excluded.last_digest,
         cancelled_at = excluded.cancelled_at`,
    );
    const added: string[] = [];
    const changed: string[] = [];
    db.transaction(() => {
      // Never a sighting dated before what the log already holds (input-log.ts seenNow).
      now = seenNow(db, now);
      const inputsBefore = hasInputLog(db) ? inputHead(db).seq : 0;
      const logged = loggedObservations(db);
      // An entry the log listed as left out (no component mapped) was seen then: mapped later by
      // the merchant, its notice is the provider's, from that sighting (same schedule only).
      let leftOut: Map<string, EpochMs> | undefined;
      let recorded = false;
      for (const r of [...readings, ...leftOutReadings.filter((l) => logged.has(l.providerId))]) {
        const before = logged.get(r.providerId);
        if (before === undefined) added.push(r.providerId);
        else if (before.digest !== r.digest) changed.push(r.providerId);
        const scope = scopeOf(before, r);
        let firstSeen = before?.first_seen_at;
        if (firstSeen === undefined) {
          leftOut ??= leftOutSince(db);
          const key = leftOutKey({ provider_id: r.providerId, start: r.start, end: r.end });
          firstSeen = Math.min(now, leftOut.get(key) ?? now);
        }
        const observed: Observation = {
          provider_id: r.providerId,
          name: r.name,
          start: r.start,
          end: r.end,
          provider_created_at: r.providerCreatedAt,
          first_seen_at: firstSeen,
          categories: scope.categories,
          digest: r.digest,
          cancelled_at: r.cancelled ? (before?.cancelled_at ?? now) : null,
          ...(r.components !== undefined ? { components: r.components } : {}),
          ...(scope.byComponent !== undefined ? { component_categories: scope.byComponent } : {}),
        };
        upsert.run(
          observed.provider_id,
          observed.name,
          observed.start,
          observed.end,
          observed.provider_created_at,
          observed.first_seen_at,
          now,
          JSON.stringify(observed.categories),
          observed.digest,
          observed.cancelled_at,
        );
        if (before !== undefined && canonicalize(before) === canonicalize(observed)) continue;
        if (hasInputLog(db)) appendInput(db, "maintenance_observation", now, observed);
        logged.set(r.providerId, observed);
        recorded = true;
      }
      if (recorded) this.#signed(inputsBefore);
    }).immediate();
    return { added, changed };
  }

  /** Records a change of whether the feed can be read (src/record/feed-reachability.ts), signed. */
  recordReachability(record: FeedReachability, now: EpochMs): void {
    appendFeedReachability(this.#db(), now, record, this.#signed);
  }

  /** The feed's state as the log last recorded it; null when it never did. */
  reachabilityOf(feed: string): FeedReachability["state"] | null {
    return latestFeedState(this.#db(), feed);
  }

  /** The entries of a readable feed the log last recorded as left out (none: no fields). */
  leftOutOf(feed: string): Pick<FeedReachability, "left_out" | "left_out_windows"> {
    return latestLeftOut(this.#db(), feed);
  }

  /** The feed entries left out during [from, to), from the log. */
  leftOut(from: EpochMs, to: EpochMs): FeedLeftOut[] {
    return feedLeftOut(this.#db(), from, to);
  }

  /** The stretches of [from, to) in which a feed could not be read, from the log. */
  outages(from: EpochMs, to: EpochMs): FeedOutage[] {
    return feedOutages(this.#db(), from, to);
  }

  /** Every window the feed ever showed, in start order, each with the versions observed. */
  all(): FeedWindow[] {
    const db = this.#db();
    // A read-only store written by an older agent has no such table: no feed windows.
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    if (table.get("feed_windows") === undefined) return [];
    const rows = db.prepare("SELECT * FROM feed_windows ORDER BY start, provider_id").all() as Row[];
    const history = versionsById(db);
    return rows.map((r) => ({
      ...(history?.has(r.provider_id) ? { history: history.get(r.provider_id)! } : {}),
      providerId: r.provider_id,
      name: r.name,
      start: r.start,
      end: r.end,
      providerCreatedAt: r.provider_created_at,
      firstSeenAt: r.first_seen_at,
      categories: JSON.parse(r.categories) as CategoryScope,
      ...(r.cancelled_at ? { cancelledAt: r.cancelled_at } : {}),
    }));
  }
}

/**
 * Each window's scheduled versions, oldest first, read from the maintenance observations of the
 * evidence log (verified with it, so a version cannot be edited away without verification
 * failing).
 */
function versionsById(db: Database.Database): Map<string, WindowVersion[]> {
  // Each at when it counts as seen (seenInputsOf). A first sighting is the one the ledger recorded:
  // it may precede inputs chained before its observation (an entry first seen left out, mapped
  // later); the writer never dates one before what the log held when it was seen (seenNow).
  return versionsOfObservations(
    (function* () {
      for (const row of seenInputsOf(db, "maintenance_observation"))
        yield { ts: row.ts, payload: JSON.parse(row.payload) as ObservationPayload };
    })(),
  );
}

/** What a maintenance observation records of a window that decides its versions. */
export interface ObservationPayload {
  readonly provider_id: string;
  readonly start: number;
  readonly end: number;
  readonly first_seen_at: number;
  readonly categories: CategoryScope;
  readonly cancelled_at: number | null;
}

/**
 * Each window's versions from its maintenance observations in log order (the store's, and
 * `verify --bundle`'s from inputs.ndjson): a window's first version counts from when the ledger
 * first saw it; each later one from the observation that changed its schedule, scope or
 * cancellation. A cancellation is a version covering no category (categories []), seen when the
 * agent read it: the time the window was in force before stays maintenance, and a window put
 * back is announced when it was read again (slo/moved-maintenance.ts).
 */
export function versionsOfObservations(
  observations: Iterable<{ readonly ts: EpochMs; readonly payload: ObservationPayload }>,
): Map<string, WindowVersion[]> {
  const byId = new Map<string, WindowVersion[]>();
  const last = new Map<string, string>();
  for (const { ts, payload: o } of observations) {
    const shape = JSON.stringify([o.start, o.end, o.categories, o.cancelled_at === null]);
    if (last.get(o.provider_id) === shape) continue;
    const isFirst = !last.has(o.provider_id);
    last.set(o.provider_id, shape);
    const list = byId.get(o.provider_id) ?? [];
    list.push({
      seenAt: isFirst ? o.first_seen_at : ts,
      start: o.start,
      end: o.end,
      categories: o.cancelled_at === null ? o.categories : [],
    });
    byId.set(o.provider_id, list);
  }
  return byId;
}

/** A configuration record of the input log: when it was loaded and its payload (JSON text or parsed). */
export interface ConfigVersionSource {
  readonly ts: EpochMs;
  readonly payload: string | unknown;
}

/**
 * Each declared window's versions from the configuration records of the log, in log order (the
 * store's, and `verify --bundle`'s from inputs.ndjson), by the feed's rule (versionsOfObservations):
 * a window's first version counts from the later of its declared announced_at and the load of the
 * first configuration holding it -- a window added by a reload is announced no earlier than the
 * log shows it -- except in the log's first configuration, which nothing earlier can gainsay
 * (slo/feed-windows.ts flags those as unverified); each later version whose start, end or
 * categories differ, from when the configuration holding it was loaded. A window a later
 * configuration no longer holds is a version covering no category (categories []) from when that
 * configuration was loaded: deleting a window after it elapsed takes back nothing.
 */
export function declaredVersionsOf(records: Iterable<ConfigVersionSource>): Map<string, WindowVersion[]> {
  return versionsOfObservations(
    (function* () {
      let first = true;
      /** The windows of the previous configuration record, by id. */
      let held = new Map<string, DeclaredForm>();
      for (const record of records) {
        const plain = (typeof record.payload === "string" ? JSON.parse(record.payload) : record.payload) as {
          maintenance?: { windows?: unknown };
        } | null;
        const windows = plain?.maintenance?.windows;
        const inFirst = first;
        first = false;
        if (!Array.isArray(windows)) continue;
        const now = new Map((windows as DeclaredForm[]).map((w) => [w.id, w]));
        for (const [id, w] of held) {
          if (now.has(id)) continue;
          yield {
            ts: record.ts,
            payload: {
              provider_id: id,
              start: w.start,
              end: w.end,
              first_seen_at: record.ts,
              categories: [],
              cancelled_at: null,
            },
          };
        }
        held = now;
        for (const w of windows as DeclaredForm[]) {
          yield {
            ts: record.ts,
            payload: {
              provider_id: w.id,
              start: w.start,
              end: w.end,
              first_seen_at: inFirst ? w.announcedAt : Math.max(w.announcedAt, record.ts),
              categories: w.categories,
              cancelled_at: null,
            },
          };
        }
      }
    })(),
  );
}

/**
 * The maintenance policies of the log's configuration records in log order, each only where it
 * differs from the one before (contract section 14: the policy that judges a month, slo/feed-windows.ts).
 */
export function policyVersionsOf(records: Iterable<ConfigVersionSource>): PolicyVersion[] {
  const versions: PolicyVersion[] = [];
  for (const record of records) {
    const plain = (typeof record.payload === "string" ? JSON.parse(record.payload) : record.payload) as {
      maintenance?: { policy?: MaintenancePolicy };
    } | null;
    const policy = plain?.maintenance?.policy;
    if (policy === undefined) continue;
    const last = versions.at(-1)?.policy;
    if (last === undefined || !samePolicy(last, policy)) versions.push({ loadedAt: record.ts, policy });
  }
  return versions;
}

/** A declared window as a configuration record holds it (effectiveConfiguration). */
interface DeclaredForm {
  readonly id: string;
  readonly start: EpochMs;
  readonly end: EpochMs;
  readonly announcedAt: EpochMs;
  readonly categories: CategoryScope;
}

interface ObservedRow {
  provider_id: string;
  name: string;
  start: number;
  end: number;
  provider_created_at: number;
  first_seen_at: number;
  categories: string;
  last_digest: string;
  cancelled_at: number | null;
}

const OBSERVED_COLUMNS =
  "provider_id, name, start, end, provider_created_at, first_seen_at, categories, last_digest, cancelled_at";

/** A window as an observation records it: everything that decides an exclusion, not last_seen_at. */
function observedForm(r: ObservedRow): unknown {
  return {
    provider_id: r.provider_id,
    name: r.name,
    start: r.start,
    end: r.end,
    provider_created_at: r.provider_created_at,
    first_seen_at: r.first_seen_at,
    categories: JSON.parse(r.categories) as unknown,
    digest: r.last_digest,
    cancelled_at: r.cancelled_at ?? null,
  };
}

/**
 * Whether a reading keeps the categories of the window's newest observation: the provider's entry
 * is the same, or (recorded since the observations name them) its components are the same.
 */
function keepsCategories(before: Observation | undefined, r: FeedWindowReading): boolean {
  if (before === undefined) return false;
  if (before.digest === r.digest) return true;
  return (
    before.components !== undefined &&
    r.components !== undefined &&
    JSON.stringify(before.components) === JSON.stringify(r.components)
  );
}

/**
 * The categories a reading is observed with, and each component's. A window keeps the categories
 * it was observed with while the provider changes neither the entry nor its components: a later
 * change of maintenance.feed.components applies to what is observed from then on, never to a
 * window already read (a report warning). When the provider changes the components, each
 * component it kept keeps the categories it held, with those of the mapping now in force added
 * (a remap never takes a category away from a window already announced for it; what it adds is
 * announced when seen); a component added counts as the mapping now says; one removed no longer
 * counts. Observations older than the components' categories: the mapping now in force, with the
 * window's categories kept when the provider removed none of the components.
 */
function scopeOf(
  before: Observation | undefined,
  r: FeedWindowReading,
): { categories: CategoryScope; byComponent?: Readonly<Record<string, CategoryScope>> } {
  const now = {
    categories: r.categories,
    ...(r.componentCategories ? { byComponent: r.componentCategories } : {}),
  };
  if (before === undefined) return now;
  if (keepsCategories(before, r))
    return {
      categories: before.categories,
      ...(before.component_categories ? { byComponent: before.component_categories } : {}),
    };
  const held = before.component_categories;
  if (r.componentCategories === undefined) return now;
  if (held === undefined) {
    // An observation without the components' categories: when the provider removed none of its
    // components, every category it held is still held.
    const kept = before.components?.every((name) => r.componentCategories?.[name] !== undefined) === true;
    // Which component held which is unknown: none is recorded, so the next change is judged alike.
    return kept ? { categories: unionOf(before.categories, r.categories) } : now;
  }
  const byComponent: Record<string, CategoryScope> = {};
  for (const [name, scope] of Object.entries(r.componentCategories))
    byComponent[name] = held[name] === undefined ? scope : unionOf(held[name], scope);
  const categories = Object.values(byComponent).reduce<CategoryScope>((a, b) => unionOf(a, b), []);
  return coversNothing(categories) ? now : { categories, byComponent };
}

function unionOf(a: CategoryScope, b: CategoryScope): CategoryScope {
  if (a === "all" || b === "all") return "all";
  return [...new Set([...a, ...b])].sort();
}

/** A maintenance observation's payload (docs/evidence-store.md, "Input records"). */
interface Observation {
  readonly provider_id: string;
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly provider_created_at: number;
  readonly first_seen_at: number;
  readonly categories: CategoryScope;
  readonly digest: string;
  readonly cancelled_at: number | null;
  /** The entry's component names, sorted; absent in observations recorded before they were. */
  readonly components?: readonly string[];
  /** Each component's categories in this window (scopeOf); absent in observations recorded before they were. */
  readonly component_categories?: Readonly<Record<string, CategoryScope>>;
}

/** The maintenance observations in the log, oldest first, as their JSON payloads. */
function observationPayloads(db: Database.Database): Iterable<string> {
  return statementOf(
    db,
    "SELECT payload FROM input_records WHERE kind = 'maintenance_observation' ORDER BY seq",
  )
    .pluck()
    .iterate() as Iterable<string>;
}

/** The newest maintenance observation of each window in the log. */
function loggedObservations(db: Database.Database): Map<string, Observation> {
  const logged = new Map<string, Observation>();
  if (!hasInputLog(db)) return logged;
  const payloads = observationPayloads(db);
  for (const payload of payloads) {
    const o = JSON.parse(payload) as Observation;
    logged.set(o.provider_id, o);
  }
  return logged;
}

/**
 * Whether the stored feed windows are exactly what the newest observation of each in the log
 * says: an UPDATE, INSERT or DELETE on feed_windows (which decide exclusions) is a sentence here.
 */
export function feedWindowsDisagree(db: Database.Database): string | null {
  if (!hasInputLog(db)) return null;
  const logged = new Map<string, string>();
  const payloads = observationPayloads(db);
  for (const payload of payloads) {
    // feed_windows holds no component names nor their categories: the rest must match.
    const {
      components: _names,
      component_categories: _scopes,
      ...rest
    } = JSON.parse(payload) as {
      provider_id: unknown;
      components?: unknown;
      component_categories?: unknown;
    };
    logged.set(String(rest.provider_id), canonicalize(rest) ?? "");
  }
  const rows = statementOf(
    db,
    `SELECT ${OBSERVED_COLUMNS} FROM feed_windows ORDER BY provider_id`,
  ).iterate() as Iterable<ObservedRow>;
  for (const row of rows) {
    const expected = logged.get(row.provider_id);
    if (expected === undefined)
      return `feed window ${row.provider_id} is in feed_windows but no maintenance observation in the log records it (inserted)`;
    if (canonicalize(observedForm(row)) !== expected)
      return `feed window ${row.provider_id} is not the window its newest maintenance observation in the log records (edited)`;
    logged.delete(row.provider_id);
  }
  for (const id of logged.keys())
    return `feed window ${id}, recorded by a maintenance observation in the log, is missing from feed_windows (deleted)`;
  return null;
}
