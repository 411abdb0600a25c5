import { describe, expect, it } from "vitest";
import type { MaintenanceWindow } from "../../src/model/index.js";
import {
  ExclusionIndex,
  maintenanceYearUsage,
  type QualifiedWindow,
  qualifyMaintenanceWindows,
} from "../../src/slo/index.js";
import { at, POLICY, window } from "./config.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A two-hour window starting at `start`, announced 30 days before. */
function twoHours(id: string, start: string, categories: MaintenanceWindow["categories"] = "all") {
  const s = at(start);
  return { id, start: s, end: s + 2 * HOUR, announcedAt: s - 30 * DAY, categories };
}

function verdicts(qualified: readonly QualifiedWindow[]) {
  return qualified.map((q) => [q.window.id, q.qualified, q.qualifiedMs / HOUR, q.reason]);
}

describe("rule 1: notice", () => {
  const start = "2026-10-10T01:00:00.000Z";
  const cases: [string, number, boolean, string | null][] = [
    ["announced exactly 7 days before qualifies", at(start) - 7 * DAY, true, null],
    ["announced 1 ms later does not qualify at all", at(start) - 7 * DAY + 1, false, "late_notice"],
    ["announced a month before qualifies", at(start) - 30 * DAY, true, null],
    ["announced after it started does not qualify", at(start) + HOUR, false, "late_notice"],
  ];
  for (const [rule, announcedAt, qualified, reason] of cases) {
    it(rule, () => {
      const w = { ...twoHours("mw", start), announcedAt };
      const [q] = qualifyMaintenanceWindows([w], POLICY);
      expect([q!.qualified, q!.reason, q!.qualifiedMs]).toEqual([
        qualified,
        reason,
        qualified ? 2 * HOUR : 0,
      ]);
      expect(q!.qualifyingEnd).toBe(qualified ? w.start + 2 * HOUR : null);
    });
  }

  it("min_notice_days comes from the policy", () => {
    const w = { ...twoHours("mw", start), announcedAt: at(start) - 3 * DAY };
    expect(qualifyMaintenanceWindows([w], { ...POLICY, minNoticeDays: 3 })[0]!.qualified).toBe(true);
    expect(qualifyMaintenanceWindows([w], POLICY)[0]!.reason).toBe("late_notice");
  });
});

describe("rule 2: at most 5 occasions a year, in start order", () => {
  const six = ["01-10", "02-10", "03-10", "04-10", "05-10", "06-10"].map((d, i) =>
    twoHours(`mw-${i + 1}`, `2026-${d}T01:00:00.000Z`),
  );

  it("the 6th window of a year is refused with occasion_cap", () => {
    expect(verdicts(qualifyMaintenanceWindows(six, POLICY)).at(-1)).toEqual([
      "mw-6",
      false,
      0,
      "occasion_cap",
    ]);
  });

  it("windows are judged in start order whatever order they are declared in", () => {
    const q = qualifyMaintenanceWindows([...six].reverse(), POLICY);
    expect(q.map((x) => x.window.id)).toEqual(six.map((w) => w.id));
    expect(q.find((x) => x.window.id === "mw-6")!.reason).toBe("occasion_cap");
  });

  it("a late window does not consume an occasion", () => {
    const late = {
      ...twoHours("late", "2026-01-20T01:00:00.000Z"),
      announcedAt: at("2026-01-19T00:00:00.000Z"),
    };
    const q = qualifyMaintenanceWindows([late, ...six.slice(0, 5)], POLICY);
    expect(verdicts(q).filter(([, ok]) => ok)).toHaveLength(5);
    expect(q.find((x) => x.window.id === "late")!.reason).toBe("late_notice");
  });

  it("a window covering a few categories is one occasion like one covering all", () => {
    const some = six.map((w, i) => ({ ...w, categories: i % 2 === 0 ? ["settlements"] : "all" }) as const);
    expect(qualifyMaintenanceWindows(some, POLICY).at(-1)!.reason).toBe("occasion_cap");
  });

  it("a new calendar year starts with no occasions used", () => {
    const next = twoHours("next-year", "2027-01-05T01:00:00.000Z");
    expect(verdicts(qualifyMaintenanceWindows([...six, next], POLICY)).at(-1)).toEqual([
      "next-year",
      true,
      2,
      null,
    ]);
  });
});

describe("rule 3: at most 15 hours a year, consumed in start order", () => {
  const long = (id: string, start: string, hours: number) => ({
    ...twoHours(id, start),
    end: at(start) + hours * HOUR,
  });

  it("a window crossing the cap qualifies up to it, with reason hours_cap", () => {
    const q = qualifyMaintenanceWindows(
      [long("a", "2026-03-01T00:00:00.000Z", 10), long("b", "2026-04-01T00:00:00.000Z", 8)],
      POLICY,
    );
    expect(verdicts(q)).toEqual([
      ["a", true, 10, null],
      ["b", true, 5, "hours_cap"],
    ]);
    expect(q[1]!.qualifyingEnd).toBe(at("2026-04-01T05:00:00.000Z"));
  });

  it("a window after the cap is spent is not qualified, with reason hours_cap", () => {
    const q = qualifyMaintenanceWindows(
      [long("a", "2026-03-01T00:00:00.000Z", 15), long("b", "2026-04-01T00:00:00.000Z", 1)],
      POLICY,
    );
    expect(verdicts(q)[1]).toEqual(["b", false, 0, "hours_cap"]);
  });

  it("a window spanning New Year counts in full against the year it starts in", () => {
    const q = qualifyMaintenanceWindows(
      [
        long("nye", "2026-12-31T20:00:00.000Z", 8),
        long("jan", "2027-01-10T00:00:00.000Z", 15),
        long("dec", "2026-12-01T00:00:00.000Z", 10),
      ],
      POLICY,
    );
    expect(verdicts(q)).toEqual([
      ["dec", true, 10, null],
      ["nye", true, 5, "hours_cap"],
      ["jan", true, 15, null],
    ]);
  });
});

describe("year usage (the report's year_*_used)", () => {
  const q = qualifyMaintenanceWindows(
    [
      twoHours("jan", "2026-01-10T01:00:00.000Z"),
      twoHours("oct", "2026-10-31T23:00:00.000Z"),
      twoHours("nov", "2026-11-10T01:00:00.000Z"),
      { ...twoHours("late", "2026-02-10T01:00:00.000Z"), announcedAt: at("2026-02-09T00:00:00.000Z") },
      twoHours("last-year", "2025-12-10T01:00:00.000Z"),
    ],
    POLICY,
  );

  it("counts qualified windows of the year that started before `until`, with their whole hours", () => {
    expect(maintenanceYearUsage(q, 2026, at("2026-11-01T00:00:00.000Z"))).toEqual({ occasions: 2, hours: 4 });
  });

  it("includes windows of the reported month and nothing of other years", () => {
    expect(maintenanceYearUsage(q, 2026, at("2027-01-01T00:00:00.000Z"))).toEqual({ occasions: 3, hours: 6 });
    expect(maintenanceYearUsage(q, 2025, at("2026-01-01T00:00:00.000Z"))).toEqual({ occasions: 1, hours: 2 });
  });
});

describe("rule 4: one maintenance is one occasion, its hours counted once", () => {
  const policy = { ...POLICY, maxOccasionsPerYear: 1, maxHoursPerYear: 3 };

  it("a declared window over the feed's hours is the same occasion and adds only the hours outside it", () => {
    const feed = twoHours("sm-1", "2026-10-10T01:00:00.000Z");
    const vouched = { ...twoHours("mw-email", "2026-10-10T02:00:00.000Z") };
    const qualified = qualifyMaintenanceWindows([feed, vouched], policy);
    expect(verdicts(qualified)).toEqual([
      ["sm-1", true, 2, null],
      ["mw-email", true, 2, null],
    ]);
    expect(maintenanceYearUsage(qualified, 2026, at("2027-01-01T00:00:00Z"))).toEqual({
      occasions: 1,
      hours: 3,
    });
  });

  it("windows of other categories at the same time are other occasions", () => {
    const a = twoHours("a", "2026-10-10T01:00:00.000Z", ["payment_request"]);
    const b = twoHours("b", "2026-10-10T01:00:00.000Z", ["webhooks"]);
    expect(verdicts(qualifyMaintenanceWindows([a, b], policy)).map((v) => v[3])).toEqual([
      null,
      "occasion_cap",
    ]);
  });
});

describe("rule 5 and exclusions: what a request's ts and category exclude it by", () => {
  const q = qualifyMaintenanceWindows(
    [
      window("mw-all", "2026-10-10T01:00:00Z", "2026-10-10T03:00:00Z", "2026-09-30T12:00:00Z"),
      window("mw-some", "2026-10-12T01:00:00Z", "2026-10-12T02:00:00Z", "2026-09-30T12:00:00Z", [
        "settlements",
      ]),
      window("mw-late", "2026-10-14T01:00:00Z", "2026-10-14T02:00:00Z", "2026-10-13T12:00:00Z"),
    ],
    POLICY,
  );
  const index = new ExclusionIndex(q, [
    {
      id: "fm-1",
      start: at("2026-10-20T10:00:00Z"),
      end: at("2026-10-20T11:00:00Z"),
      reason: "acquirer outage",
      categories: ["settlements"],
    },
  ]);
  const cases: [string, string, string, string | null][] = [
    [
      "a window covering all excludes every category",
      "webhooks",
      "2026-10-10T02:00:00Z",
      "maintenance:mw-all",
    ],
    ["its start instant is inside", "payment_request", "2026-10-10T01:00:00Z", "maintenance:mw-all"],
    ["its end instant is outside", "payment_request", "2026-10-10T03:00:00Z", null],
    [
      "a window naming categories excludes those",
      "settlements",
      "2026-10-12T01:30:00Z",
      "maintenance:mw-some",
    ],
    ["and not the others", "webhooks", "2026-10-12T01:30:00Z", null],
    ["a late window excludes nothing", "payment_request", "2026-10-14T01:30:00Z", null],
    ["an exclusion excludes its categories", "settlements", "2026-10-20T10:59:59.999Z", "exclusion:fm-1"],
    ["an exclusion leaves other categories alone", "payment_request", "2026-10-20T10:30:00Z", null],
    ["an exclusion's end is outside", "settlements", "2026-10-20T11:00:00Z", null],
  ];
  for (const [rule, category, ts, expected] of cases) {
    it(rule, () => {
      const by = index.excludedBy(category, at(ts));
      expect(by === null ? null : `${by.kind}:${by.id}`).toBe(expected);
      expect(index.activeMaintenance(category, at(ts))).toBe(expected?.startsWith("maintenance") ?? false);
    });
  }

  it("only the qualifying part of a window cut by the hours cap excludes", () => {
    const cut = qualifyMaintenanceWindows(
      [window("big", "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z", "2026-09-01T00:00:00Z")],
      POLICY,
    );
    const idx = new ExclusionIndex(cut, []);
    expect(idx.excludedBy("webhooks", at("2026-10-01T14:59:59.999Z"))?.id).toBe("big");
    expect(idx.excludedBy("webhooks", at("2026-10-01T15:00:00Z"))).toBeNull();
  });
});
