import { describe, expect, it } from "vitest";
import { effectiveConfiguration } from "../../src/config/fingerprint.js";
import type { MaintenanceWindow } from "../../src/model/config.js";
import { declaredVersionsOf } from "../../src/record/feed-windows.js";
import { declaredWithHistory, qualifyMaintenanceWindows, withFeedWindows } from "../../src/slo/index.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * Contract section 14 for declared windows: their versions come from the configuration records
 * of the evidence log (as the daemon records each load), by the feed windows' rule.
 */

const at = (iso: string) => Date.parse(iso);
const POLICY = { minNoticeDays: 7, maxOccasionsPerYear: 5, maxHoursPerYear: 15 };

function window(
  start: string,
  end: string,
  announced: string,
  description = "db upgrade",
): MaintenanceWindow {
  return {
    id: "mw1",
    start: at(start),
    end: at(end),
    announcedAt: at(announced),
    categories: "all",
    description,
  };
}

/** A configuration record as the daemon writes it: loaded at `loaded`, holding these windows. */
function record(loaded: string, windows: MaintenanceWindow[]) {
  const config = fixtureConfig({ maintenance: { policy: POLICY, windows } });
  return { ts: at(loaded), payload: JSON.stringify(effectiveConfiguration(config)) };
}

const FIRST = window("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z", "2026-10-20T00:00:00Z");
// Moved on 11-15 onto that very day, and announced_at edited to claim an old announcement.
const MOVED = window("2026-11-15T02:00:00Z", "2026-11-15T12:00:00Z", "2026-10-20T00:00:00Z");
const BACKDATED = { ...MOVED, announcedAt: at("2026-10-01T00:00:00Z") };

describe("declared maintenance windows moved by a reload", () => {
  it("the first version counts from announced_at, a move from when its configuration was loaded", () => {
    const versions = declaredVersionsOf([
      record("2026-11-01T00:00:00Z", [FIRST]),
      // Only the description changed: no version.
      record("2026-11-05T00:00:00Z", [{ ...FIRST, description: "db upgrade (v2)" }]),
      record("2026-11-15T01:00:00Z", [BACKDATED]),
    ]);
    expect(versions.get("mw1")).toEqual([
      { seenAt: FIRST.announcedAt, start: FIRST.start, end: FIRST.end, categories: "all" },
      { seenAt: at("2026-11-15T01:00:00Z"), start: MOVED.start, end: MOVED.end, categories: "all" },
    ]);
    const parts = declaredWithHistory(BACKDATED, {
      versions,
      logBegan: at("2026-11-01T00:00:00Z"),
      now: at("2026-12-01T00:00:00Z"),
    });
    const verdicts = qualifyMaintenanceWindows(parts, POLICY);
    expect(verdicts.map((v) => v.reason)).toEqual(["late_notice"]);
    expect(parts[0]!.history).toHaveLength(2);
  });

  it("an unchanged window keeps its notice and shows its one version", () => {
    const versions = declaredVersionsOf([
      record("2026-11-01T00:00:00Z", [FIRST]),
      record("2026-11-10T00:00:00Z", [FIRST]),
    ]);
    const parts = declaredWithHistory(FIRST, {
      versions,
      logBegan: at("2026-11-01T00:00:00Z"),
      now: at("2026-12-01T00:00:00Z"),
    });
    expect(parts).toHaveLength(1);
    expect(parts[0]!.history).toEqual([
      { seenAt: FIRST.announcedAt, start: FIRST.start, end: FIRST.end, categories: "all" },
    ]);
    expect(qualifyMaintenanceWindows(parts, POLICY)[0]).toMatchObject({ qualified: true, reason: null });
  });

  it("a report made with an earlier configuration cannot undo a later change the log holds (attack 24h)", () => {
    const versions = declaredVersionsOf([
      record("2026-11-01T00:00:00Z", [FIRST]),
      record("2026-11-15T01:00:00Z", [MOVED]),
    ]);
    const parts = declaredWithHistory(FIRST, {
      versions,
      logBegan: at("2026-11-01T00:00:00Z"),
      now: at("2026-12-01T00:00:00Z"),
    });
    // The move loaded on 11-15 01:00 held from then on: on 11-25 the hour at 02:00 was no
    // announced maintenance. The old schedule given now is a change first seen now: late too.
    expect(parts.map((p) => p.history?.length)).toEqual([3, 3]);
    expect(
      qualifyMaintenanceWindows(parts, POLICY).map((v) => [new Date(v.window.start).toISOString(), v.reason]),
    ).toEqual([
      ["2026-11-15T02:00:00.000Z", "late_notice"],
      ["2026-11-25T02:00:00.000Z", "late_notice"],
    ]);
  });

  it("a move no configuration record holds is first seen when the report is made", () => {
    const versions = declaredVersionsOf([record("2026-11-01T00:00:00Z", [FIRST])]);
    const parts = declaredWithHistory(MOVED, {
      versions,
      logBegan: at("2026-11-01T00:00:00Z"),
      now: at("2026-12-01T00:00:00Z"),
    });
    expect(parts[0]!.history?.at(-1)?.seenAt).toBe(at("2026-12-01T00:00:00Z"));
    // The move is late; the hour the log held as announced maintenance until the report was made
    // (11-25 02:00-03:00) elapsed as such and stays qualified: editing slo.yaml afterwards cannot
    // take back a window as it was in force.
    expect(
      qualifyMaintenanceWindows(parts, POLICY).map((v) => [new Date(v.window.start).toISOString(), v.reason]),
    ).toEqual([
      ["2026-11-15T02:00:00.000Z", "late_notice"],
      ["2026-11-25T02:00:00.000Z", null],
    ]);
  });

  it("an extension keeps the first hour's notice; the added hours need their own", () => {
    const EXTENDED = window("2026-11-25T02:00:00Z", "2026-11-25T12:00:00Z", "2026-10-20T00:00:00Z");
    const versions = declaredVersionsOf([
      record("2026-11-01T00:00:00Z", [FIRST]),
      record("2026-11-24T00:00:00Z", [EXTENDED]),
    ]);
    const verdicts = qualifyMaintenanceWindows(
      declaredWithHistory(EXTENDED, {
        versions,
        logBegan: at("2026-11-01T00:00:00Z"),
        now: at("2026-12-01T00:00:00Z"),
      }),
      POLICY,
    );
    expect(verdicts.map((v) => [new Date(v.window.start).toISOString(), v.reason])).toEqual([
      ["2026-11-25T02:00:00.000Z", null],
      ["2026-11-25T03:00:00.000Z", "late_notice"],
    ]);
  });

  it("a window a reload adds counts from that load, not from its back-dated announced_at", () => {
    const ADDED = {
      ...window("2026-11-15T02:00:00Z", "2026-11-15T12:00:00Z", "2026-10-15T00:00:00Z"),
      id: "mw2",
    };
    const versions = declaredVersionsOf([
      record("2026-11-01T00:00:00Z", [FIRST]),
      record("2026-11-15T01:00:00Z", [FIRST, ADDED]),
    ]);
    expect(versions.get("mw2")).toEqual([
      { seenAt: at("2026-11-15T01:00:00Z"), start: ADDED.start, end: ADDED.end, categories: "all" },
    ]);
    const parts = declaredWithHistory(ADDED, {
      versions,
      logBegan: at("2026-11-01T00:00:00Z"),
      now: at("2026-12-01T00:00:00Z"),
    });
    expect(parts).toEqual([
      expect.objectContaining({
        announcedAt: at("2026-11-15T01:00:00Z"),
        declaredNotice: { declaredAt: ADDED.announcedAt, check: "loaded_later" },
      }),
    ]);
    expect(qualifyMaintenanceWindows(parts, POLICY).map((v) => v.reason)).toEqual(["late_notice"]);
  });

  it("a window in the log's first configuration keeps its announced_at, unverified when its verdict rests on it", () => {
    const SOON = window("2026-11-03T02:00:00Z", "2026-11-03T03:00:00Z", "2026-10-01T00:00:00Z");
    const history = (w: MaintenanceWindow) => ({
      versions: declaredVersionsOf([record("2026-11-01T00:00:00Z", [w])]),
      logBegan: at("2026-11-01T00:00:00Z"),
      now: at("2026-12-01T00:00:00Z"),
    });
    const soon = declaredWithHistory(SOON, history(SOON), undefined, 7 * 86_400_000);
    expect(soon).toEqual([
      expect.objectContaining({
        announcedAt: SOON.announcedAt,
        declaredNotice: { declaredAt: SOON.announcedAt, check: "before_log" },
      }),
    ]);
    expect(qualifyMaintenanceWindows(soon, POLICY)[0]).toMatchObject({ qualified: true });
    // An announced_at given now (a later one, after the window began) changes neither the verdict
    // nor the flag: both rest on the date the log's first configuration trusted (attack 24j).
    const given = declaredWithHistory(
      { ...SOON, announcedAt: at("2026-11-03T02:30:00Z") },
      history(SOON),
      undefined,
      7 * 86_400_000,
    );
    expect(given).toEqual([
      expect.objectContaining({
        announcedAt: SOON.announcedAt,
        declaredNotice: { declaredAt: SOON.announcedAt, check: "before_log" },
      }),
    ]);
    expect(qualifyMaintenanceWindows(given, POLICY)[0]).toMatchObject({ qualified: true });
    // Starting more than the notice period after the log began: it qualifies either way, no flag.
    const later = declaredWithHistory(FIRST, history(FIRST), undefined, 7 * 86_400_000);
    expect(later[0]!.declaredNotice).toBeUndefined();
  });

  it("the unverified flag holds against an earlier announced_at, a deletion, and only where a verdict rests on it (attack round 12)", () => {
    const WEEK = 7 * 86_400_000;
    const SOON = window("2026-11-03T02:00:00Z", "2026-11-03T03:00:00Z", "2026-10-01T00:00:00Z");
    const began = at("2026-11-01T00:00:00Z");
    const history = (records: ReturnType<typeof record>[]) => ({
      versions: declaredVersionsOf(records),
      logBegan: began,
      now: at("2026-12-01T00:00:00Z"),
    });
    const unverified = { declaredAt: SOON.announcedAt, check: "before_log" };
    // An earlier announced_at, reloaded or given now: the verdict still rests on the first
    // configuration's 10-01, so it stays flagged with that date, never "loaded_later" (which said
    // the log showed it announced no earlier than 10-01: the log shows nothing before 11-01).
    const earlier = { ...SOON, announcedAt: at("2026-08-01T00:00:00Z") };
    const reloaded = history([
      record("2026-11-01T00:00:00Z", [SOON]),
      record("2026-11-02T00:00:00Z", [earlier]),
    ]);
    for (const parts of [
      declaredWithHistory(earlier, reloaded, undefined, WEEK),
      declaredWithHistory(earlier, history([record("2026-11-01T00:00:00Z", [SOON])]), undefined, WEEK),
    ]) {
      expect(parts).toEqual([
        expect.objectContaining({ announcedAt: SOON.announcedAt, declaredNotice: unverified }),
      ]);
    }
    // Deleted by a reload after it began (or absent from the file given now): the half hour that
    // elapsed still qualifies on 10-01, and says so.
    const config = fixtureConfig({ maintenance: { policy: POLICY, windows: [] } });
    for (const records of [
      [record("2026-11-01T00:00:00Z", [SOON]), record("2026-11-03T02:30:00Z", [])],
      [record("2026-11-01T00:00:00Z", [SOON])],
    ]) {
      const judged = qualifyMaintenanceWindows(
        withFeedWindows(config, [], history(records)).maintenance.windows,
        POLICY,
      );
      expect(judged.map((q) => [q.window.id, q.qualified, q.window.declaredNotice])).toEqual([
        ["mw1", true, unverified],
      ]);
    }
    // A part that is late even on 10-01 (an extension loaded on 11-02) is not flagged: its verdict
    // does not rest on the unverified date.
    const extended = { ...SOON, end: at("2026-11-03T05:00:00Z") };
    const parts = declaredWithHistory(
      extended,
      history([record("2026-11-01T00:00:00Z", [SOON]), record("2026-11-02T00:00:00Z", [extended])]),
      undefined,
      WEEK,
    );
    expect(parts.map((p) => [new Date(p.start).toISOString(), p.declaredNotice?.check ?? null])).toEqual([
      ["2026-11-03T02:00:00.000Z", "before_log"],
      ["2026-11-03T03:00:00.000Z", null],
    ]);
  });

  it("a window no configuration record holds is first seen when the report is made", () => {
    const versions = declaredVersionsOf([record("2026-11-01T00:00:00Z", [FIRST])]);
    const NEW = { ...MOVED, id: "mw9" };
    const parts = declaredWithHistory(NEW, {
      versions,
      logBegan: at("2026-11-01T00:00:00Z"),
      now: at("2026-12-01T00:00:00Z"),
    });
    expect(parts).toEqual([
      expect.objectContaining({
        announcedAt: at("2026-12-01T00:00:00Z"),
        declaredNotice: { declaredAt: NEW.announcedAt, check: "not_loaded" },
      }),
    ]);
    expect(qualifyMaintenanceWindows(parts, POLICY).map((v) => v.reason)).toEqual(["late_notice"]);
  });

  it("a window a reload deletes after it elapsed stays maintenance for the time it was in force (attack 24g)", () => {
    // In force 11-25 02:00-03:00 until a reload on 11-25 02:30 deleted it: the half hour that
    // elapsed as announced maintenance stays excluded; the rest no longer is.
    const versions = declaredVersionsOf([
      record("2026-11-01T00:00:00Z", [FIRST]),
      record("2026-11-25T02:30:00Z", []),
    ]);
    expect(versions.get("mw1")?.map((v) => [new Date(v.seenAt).toISOString(), v.categories])).toEqual([
      [new Date(FIRST.announcedAt).toISOString(), "all"],
      ["2026-11-25T02:30:00.000Z", []],
    ]);
    const history = { versions, logBegan: at("2026-11-01T00:00:00Z"), now: at("2026-12-01T00:00:00Z") };
    const config = withFeedWindows(
      fixtureConfig({ maintenance: { policy: POLICY, windows: [] } }),
      [],
      history,
    );
    const judged = qualifyMaintenanceWindows(config.maintenance.windows, POLICY);
    expect(judged.map((q) => [q.window.id, new Date(q.window.start).toISOString(), q.qualifyingEnd])).toEqual(
      [["mw1", "2026-11-25T02:00:00.000Z", at("2026-11-25T02:30:00Z")]],
    );
    // Deleted only in the slo.yaml given now (no reload): removed when the report is made, so the
    // whole hour, in force until then, stays.
    const kept = declaredVersionsOf([record("2026-11-01T00:00:00Z", [FIRST])]);
    const given = withFeedWindows(fixtureConfig({ maintenance: { policy: POLICY, windows: [] } }), [], {
      ...history,
      versions: kept,
    });
    expect(qualifyMaintenanceWindows(given.maintenance.windows, POLICY).map((q) => q.qualifyingEnd)).toEqual([
      FIRST.end,
    ]);
    // Deleted before it began: nothing elapsed, nothing to judge.
    const early = declaredVersionsOf([
      record("2026-11-01T00:00:00Z", [FIRST]),
      record("2026-11-20T00:00:00Z", []),
    ]);
    const none = withFeedWindows(fixtureConfig({ maintenance: { policy: POLICY, windows: [] } }), [], {
      ...history,
      versions: early,
    });
    expect(none.maintenance.windows).toEqual([]);
  });

  it("a log without configuration records (a store filled by import): the window stands on its announced_at", () => {
    const parts = declaredWithHistory(FIRST, {
      versions: new Map(),
      logBegan: null,
      now: at("2026-12-01T00:00:00Z"),
    });
    expect(parts).toEqual([FIRST]);
  });
});
