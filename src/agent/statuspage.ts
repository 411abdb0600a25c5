import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import * as z from "zod";
import type { CategoryScope, MaintenanceFeed } from "../model/config.js";
import type { FeedWindowReading, LeftOutWindow } from "../record/index.js";
import { scopeOfComponents } from "../slo/index.js";

/** The path of Statuspage's scheduled maintenance list (API v2), under the page's base URL. */
export const SCHEDULED_MAINTENANCES_PATH = "/api/v2/scheduled-maintenances.json";

const instant = z.string().refine((v) => Number.isFinite(Date.parse(v)), "must be an ISO-8601 time");

/** The fields used, leniently: the provider adds fields as it likes. */
const ScheduledMaintenance = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  status: z.string(),
  created_at: instant,
  scheduled_for: instant,
  scheduled_until: instant,
  components: z.array(z.looseObject({ name: z.string() })).default([]),
  resolved_at: instant.nullable().optional(),
  incident_updates: z.array(z.looseObject({ status: z.string() })).optional(),
});

/**
 * Statuspage's API v2 has no cancelled state (scheduled, in_progress, verifying, completed): a
 * maintenance called off is marked completed without ever having started. So: an explicit
 * "cancelled" (other status pages say so), or completed with no in_progress/verifying update,
 * or (no updates listed) resolved before its scheduled start or not resolved at all: a completed
 * window the page gives no sign of having run is not the provider's to exclude (issue 24).
 */
function cancelledOf(m: z.infer<typeof ScheduledMaintenance>): boolean {
  const status = m.status.toLowerCase();
  if (status === "cancelled" || status === "canceled") return true;
  if (status !== "completed") return false;
  const updates = m.incident_updates ?? [];
  if (updates.length > 0) return !updates.some((u) => u.status === "in_progress" || u.status === "verifying");
  if (typeof m.resolved_at !== "string") return true;
  return Date.parse(m.resolved_at) < Date.parse(m.scheduled_for);
}

/**
 * When a window ends: its scheduled_until, or, for one the provider marked completed (after it ran)
 * before then, its resolved_at -- the maintenance is over, and what fails after it is no longer
 * maintenance. A change like any other: it counts from the reading that saw it (issue 24).
 */
function endOf(m: z.infer<typeof ScheduledMaintenance>): number {
  const until = Date.parse(m.scheduled_until);
  if (m.status.toLowerCase() !== "completed" || cancelledOf(m) || typeof m.resolved_at !== "string")
    return until;
  const resolved = Date.parse(m.resolved_at);
  return resolved > Date.parse(m.scheduled_for) && resolved < until ? resolved : until;
}

const ScheduledMaintenancesBody = z.looseObject({
  scheduled_maintenances: z.array(z.unknown()),
});

export interface FeedParse {
  readonly readings: FeedWindowReading[];
  /** One line per entry left out, naming it and why. */
  readonly skipped: string[];
  /** Component names without a mapping. */
  readonly unmapped: string[];
  /**
   * The well-formed entries left out (no component mapped), with their schedule: the log keeps
   * them so that, mapped later, such an entry's notice counts from when it was first seen.
   */
  readonly leftOutWindows: LeftOutWindow[];
  /**
   * The same entries as readings with no category: a window the log already holds that the
   * provider no longer lists under any mapped component is a version covering nothing from now on
   * (FeedWindowLedger.observe), so it stops excluding when that was seen.
   */
  readonly leftOutReadings: FeedWindowReading[];
}

/**
 * The windows of a scheduled-maintenances.json body. Throws a one-line Error when the body is not
 * that document at all; a single bad entry is skipped (and named) so the others still count.
 */
export function parseScheduledMaintenances(text: string, feed: MaintenanceFeed): FeedParse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message})`);
  }
  const body = ScheduledMaintenancesBody.safeParse(json);
  if (!body.success) throw new Error(`no scheduled_maintenances list (${firstIssue(body.error)})`);
  const readings: FeedWindowReading[] = [];
  const skipped: string[] = [];
  const leftOutWindows: LeftOutWindow[] = [];
  const leftOutReadings: FeedWindowReading[] = [];
  const unmapped = new Set<string>();
  body.data.scheduled_maintenances.forEach((raw, i) => {
    const entry = ScheduledMaintenance.safeParse(raw);
    if (!entry.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      const named =
        typeof id === "string" && id !== ""
          ? `${id} (scheduled_maintenances[${i}])`
          : `scheduled_maintenances[${i}]`;
      skipped.push(`${named}: malformed entry: ${firstIssue(entry.error)}`);
      return;
    }
    const m = entry.data;
    const { scope, unmapped: names } = scopeOfComponents(
      feed,
      m.components.map((c) => c.name),
    );
    for (const name of names) unmapped.add(name);
    if (scope === null) {
      const which =
        names.length === 0
          ? "it names no component, so it is"
          : `${names.map((n) => `component '${n}'`).join(", ")} ${names.length === 1 ? "is" : "are"}`;
      skipped.push(`${m.id} (${m.name}): ${which} in no category of maintenance.feed.components`);
      leftOutWindows.push({
        provider_id: m.id,
        start: Date.parse(m.scheduled_for),
        end: Date.parse(m.scheduled_until),
      });
    }
    const componentNames = [...new Set(m.components.map((c) => c.name))].sort();
    (scope === null ? leftOutReadings : readings).push({
      providerId: m.id,
      name: m.name,
      start: Date.parse(m.scheduled_for),
      end: endOf(m),
      providerCreatedAt: Date.parse(m.created_at),
      categories: scope ?? [],
      cancelled: cancelledOf(m),
      components: componentNames,
      componentCategories: Object.fromEntries(
        componentNames.map((n): [string, CategoryScope] => [
          n,
          feed.components === null ? "all" : (feed.components.get(n) ?? []),
        ]),
      ),
      digest: createHash("sha256")
        .update(canonicalize(raw) ?? "")
        .digest("hex"),
    });
  });
  return { readings, skipped, unmapped: [...unmapped], leftOutWindows, leftOutReadings };
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  const path = issue.path.map(String).join(".");
  return path === "" ? issue.message : `${path}: ${issue.message}`;
}
