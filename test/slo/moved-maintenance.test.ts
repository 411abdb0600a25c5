import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { FeedWindow, WindowVersion } from "../../src/model/config.js";
import type { ProbeResult } from "../../src/model/result.js";
import { versionsOfObservations } from "../../src/record/feed-windows.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { windowHistoryLines } from "../../src/reports/wording.js";
import { monthlyFigures, noticeParts, withFeedWindows } from "../../src/slo/index.js";
import { fixtureConfig } from "../support/slo-config.js";

/**
 * Contract section 14, moved maintenance: a change of a window's start, end or categories is
 * judged with the time the change was first seen as its announcement; the changed part needs its
 * own notice.
 */

const at = (iso: string) => Date.parse(iso);
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function version(seen: string, start: string, end: string, categories: WindowVersion["categories"] = "all") {
  return { seenAt: at(seen), start: at(start), end: at(end), categories };
}

function feedWindow(history: WindowVersion[]): FeedWindow {
  const last = history.at(-1)!;
  return {
    providerId: "sp-1",
    name: "Database upgrade",
    start: last.start,
    end: last.end,
    providerCreatedAt: history[0]!.seenAt,
    firstSeenAt: history[0]!.seenAt,
    categories: last.categories,
    history,
  };
}

/** A provider answering 503 every 5 minutes in [from, to), 200 otherwise through November. */
function november(outage: { from: number; to: number }): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let ts = at("2026-11-01T00:00:00Z"); ts < at("2026-12-01T00:00:00Z"); ts += 300_000) {
    const down = ts >= outage.from && ts < outage.to;
    out.push({
      ts,
      probe: "payment-request-read",
      category: "payment_request",
      status: down ? 503 : 200,
      durationMs: 50,
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  return out;
}

function figures(window: FeedWindow, outage: { from: number; to: number }) {
  const config = withFeedWindows(fixtureConfig(), [window]);
  const report = monthlyFigures({ config, month: "2026-11", results: november(outage) });
  return { report, row: report.categories.find((c) => c.category === "payment_request")! };
}

describe("noticeParts: each part of the final window from when it was first seen", () => {
  it("a window moved into the past of its notice is announced when the move was seen", () => {
    const parts = noticeParts([
      version("2026-11-01T00:00:00Z", "2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z"),
      version("2026-11-15T13:00:00Z", "2026-11-15T02:00:00Z", "2026-11-15T12:00:00Z"),
    ]);
    expect(parts).toEqual([
      {
        start: at("2026-11-15T02:00:00Z"),
        end: at("2026-11-15T12:00:00Z"),
        announcedAt: at("2026-11-15T13:00:00Z"),
        categories: "all",
      },
    ]);
  });

  it("an extension keeps the first notice for the original hour only", () => {
    const parts = noticeParts([
      version("2026-10-01T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z"),
      version("2026-11-09T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T15:00:00Z"),
    ]);
    expect(parts).toEqual([
      {
        start: at("2026-11-10T00:00:00Z"),
        end: at("2026-11-10T01:00:00Z"),
        announcedAt: at("2026-10-01T00:00:00Z"),
        categories: "all",
      },
      {
        start: at("2026-11-10T01:00:00Z"),
        end: at("2026-11-10T15:00:00Z"),
        announcedAt: at("2026-11-09T00:00:00Z"),
        categories: "all",
      },
    ]);
  });

  it("categories widened late: the first categories keep their notice, only the added ones are announced late", () => {
    const history = [
      version("2026-10-01T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z", ["settlements"]),
      version("2026-11-09T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z", "all"),
    ];
    expect(
      noticeParts(history, ["payment_request", "settlements"]).map((p) => [p.announcedAt, p.categories]),
    ).toEqual([
      [at("2026-10-01T00:00:00Z"), ["settlements"]],
      [at("2026-11-09T00:00:00Z"), ["payment_request"]],
    ]);
    const listed = [
      version("2026-10-01T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z", ["settlements"]),
      version("2026-11-09T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z", [
        "payment_request",
        "settlements",
      ]),
    ];
    expect(noticeParts(listed).map((p) => [p.announcedAt, p.categories])).toEqual([
      [at("2026-10-01T00:00:00Z"), ["settlements"]],
      [at("2026-11-09T00:00:00Z"), ["payment_request"]],
    ]);
    // Without the configured categories, "all" minus some cannot be listed: announced whole, late.
    expect(noticeParts(history).map((p) => [p.announcedAt, p.categories])).toEqual([
      [at("2026-11-09T00:00:00Z"), "all"],
    ]);
  });

  it("a window shortened keeps its first notice", () => {
    const parts = noticeParts([
      version("2026-10-01T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T05:00:00Z"),
      version("2026-11-09T00:00:00Z", "2026-11-10T01:00:00Z", "2026-11-10T03:00:00Z"),
    ]);
    expect(parts).toEqual([
      {
        start: at("2026-11-10T01:00:00Z"),
        end: at("2026-11-10T03:00:00Z"),
        announcedAt: at("2026-10-01T00:00:00Z"),
        categories: "all",
      },
    ]);
  });
});

describe("noticeParts: a change counts from when it was seen, never before (issue 24)", () => {
  const WINDOW = ["2026-11-10T00:00:00Z", "2026-11-10T04:00:00Z"] as const;

  it("a category the provider swaps out mid-window stays maintenance until the swap was seen", () => {
    const parts = noticeParts([
      version("2026-10-01T00:00:00Z", ...WINDOW, ["payment_request"]),
      version("2026-11-10T01:00:00Z", ...WINDOW, ["settlements"]),
    ]);
    expect(parts).toEqual([
      {
        start: at("2026-11-10T00:00:00Z"),
        end: at("2026-11-10T01:00:00Z"),
        announcedAt: at("2026-10-01T00:00:00Z"),
        categories: ["payment_request"],
      },
      {
        start: at("2026-11-10T00:00:00Z"),
        end: at("2026-11-10T04:00:00Z"),
        announcedAt: at("2026-11-10T01:00:00Z"),
        categories: ["settlements"],
      },
    ]);
  });

  it("a window whose every category is taken out mid-window keeps only its elapsed part", () => {
    const parts = noticeParts([
      version("2026-10-01T00:00:00Z", ...WINDOW, ["payment_request"]),
      version("2026-11-10T01:00:00Z", ...WINDOW, []),
    ]);
    expect(parts.map((p) => [p.start, p.end, p.announcedAt, p.categories])).toEqual([
      [
        at("2026-11-10T00:00:00Z"),
        at("2026-11-10T01:00:00Z"),
        at("2026-10-01T00:00:00Z"),
        ["payment_request"],
      ],
    ]);
  });

  it("taken out and put back: the gap counts and what comes back is announced when it came back", () => {
    const parts = noticeParts([
      version("2026-10-01T00:00:00Z", ...WINDOW, ["payment_request"]),
      version("2026-11-10T01:00:00Z", ...WINDOW, []),
      version("2026-11-10T02:00:00Z", ...WINDOW, ["payment_request"]),
    ]);
    expect(parts.map((p) => [p.start, p.end, p.announcedAt])).toEqual([
      [at("2026-11-10T00:00:00Z"), at("2026-11-10T01:00:00Z"), at("2026-10-01T00:00:00Z")],
      [at("2026-11-10T01:00:00Z"), at("2026-11-10T04:00:00Z"), at("2026-11-10T02:00:00Z")],
    ]);
  });

  it("shortened or moved away after it began: the part that elapsed keeps its notice", () => {
    const shortened = noticeParts([
      version("2026-10-01T00:00:00Z", ...WINDOW),
      version("2026-11-10T03:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z"),
    ]);
    expect(shortened.map((p) => [p.start, p.end, p.announcedAt])).toEqual([
      [at("2026-11-10T00:00:00Z"), at("2026-11-10T03:00:00Z"), at("2026-10-01T00:00:00Z")],
    ]);
    const moved = noticeParts([
      version("2026-10-01T00:00:00Z", ...WINDOW),
      version("2026-11-10T00:30:00Z", "2026-11-20T00:00:00Z", "2026-11-20T04:00:00Z"),
    ]);
    expect(moved.map((p) => [p.start, p.end, p.announcedAt])).toEqual([
      [at("2026-11-10T00:00:00Z"), at("2026-11-10T00:30:00Z"), at("2026-10-01T00:00:00Z")],
      [at("2026-11-20T00:00:00Z"), at("2026-11-20T04:00:00Z"), at("2026-11-10T00:30:00Z")],
    ]);
  });
});

describe("a cancellation is a change like any other: from when it was read (attack 24g)", () => {
  const observation = (ts: string, cancelled: string | null) => ({
    ts: at(ts),
    payload: {
      provider_id: "sp-1",
      start: at("2026-11-10T00:00:00Z"),
      end: at("2026-11-10T04:00:00Z"),
      first_seen_at: at("2026-10-01T00:00:00Z"),
      categories: ["payment_request"],
      cancelled_at: cancelled === null ? null : at(cancelled),
    },
  });
  const outage = { from: at("2026-11-10T00:00:00Z"), to: at("2026-11-10T04:00:00Z") };
  const cancelledAt = (history: WindowVersion[], cancelled: number | null): FeedWindow => ({
    ...feedWindow(history),
    categories: ["payment_request"],
    start: at("2026-11-10T00:00:00Z"),
    end: at("2026-11-10T04:00:00Z"),
    ...(cancelled === null ? {} : { cancelledAt: cancelled }),
  });

  it("called off mid-window: the hour it was in force stays excluded, the rest counts", () => {
    const history = versionsOfObservations([
      observation("2026-10-01T00:00:00Z", null),
      observation("2026-11-10T01:00:00Z", "2026-11-10T01:00:00Z"),
    ]).get("sp-1")!;
    expect(history.map((v) => v.categories)).toEqual([["payment_request"], []]);
    const { report, row } = figures(cancelledAt(history, at("2026-11-10T01:00:00Z")), outage);
    expect(row.excluded).toBe(12);
    expect(
      report.maintenance.windows.filter((w) => w.id === "sp-1").map((w) => [w.qualified, w.reason]),
    ).toEqual([[true, null]]);
  });

  it("called off before it began: listed as cancelled, never counted", () => {
    const history = versionsOfObservations([
      observation("2026-10-01T00:00:00Z", null),
      observation("2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z"),
    ]).get("sp-1")!;
    const { report, row } = figures(cancelledAt(history, at("2026-11-01T00:00:00Z")), outage);
    expect(row.excluded).toBe(0);
    expect(
      report.maintenance.windows.filter((w) => w.id === "sp-1").map((w) => [w.qualified, w.reason]),
    ).toEqual([[false, "cancelled"]]);
  });

  it("called off, then put back: the time it was off counts, what comes back is announced when it came back", () => {
    const history = versionsOfObservations([
      observation("2026-10-01T00:00:00Z", null),
      observation("2026-11-10T01:00:00Z", "2026-11-10T01:00:00Z"),
      observation("2026-11-10T02:00:00Z", null),
    ]).get("sp-1")!;
    expect(history.map((v) => v.categories)).toEqual([["payment_request"], [], ["payment_request"]]);
    const { report, row } = figures(cancelledAt(history, null), outage);
    // 00:00-01:00 in force (announced 10-01) and 02:00-04:00 put back (policy 7 days: late).
    expect(row.excluded).toBe(12);
    expect(
      report.maintenance.windows.filter((w) => w.id === "sp-1").map((w) => [w.start, w.qualified, w.reason]),
    ).toEqual([
      ["2026-11-10T00:00:00.000Z", true, null],
      ["2026-11-10T01:00:00.000Z", false, "late_notice"],
    ]);
  });
});

describe("moved maintenance in the monthly figures", () => {
  it("a mapped component swapped mid-window: the elapsed hour stays excluded, the rest counts", () => {
    const outage = { from: at("2026-11-10T00:00:00Z"), to: at("2026-11-10T04:00:00Z") };
    const { report, row } = figures(
      feedWindow([
        version("2026-10-01T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T04:00:00Z", ["payment_request"]),
        version("2026-11-10T01:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T04:00:00Z", ["settlements"]),
      ]),
      outage,
    );
    expect(row.excluded).toBe(12); // 00:00-01:00, one request every 5 minutes; 01:00-04:00 counts
    expect(row.requests - row.successful).toBe(36);
    const parts = report.maintenance.windows.filter((w) => w.id === "sp-1");
    expect(parts.map((w) => [w.categories, w.qualified, w.excluded_requests])).toEqual([
      [["payment_request"], true, 12],
      [["settlements"], false, 0],
    ]);
    expect(report.maintenance.year_occasions_used).toBe(1);
  });

  it("a window moved on 11-15 13:00 to 11-15 02:00-12:00 is late_notice: the 10-hour outage counts", () => {
    const outage = { from: at("2026-11-15T02:00:00Z"), to: at("2026-11-15T12:00:00Z") };
    const { report, row } = figures(
      feedWindow([
        version("2026-11-01T00:00:00Z", "2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z"),
        version("2026-11-15T13:00:00Z", "2026-11-15T02:00:00Z", "2026-11-15T12:00:00Z"),
      ]),
      outage,
    );
    const window = report.maintenance.windows.find((w) => w.id === "sp-1")!;
    expect(window).toMatchObject({
      qualified: false,
      reason: "late_notice",
      announced_at: "2026-11-15T13:00:00.000Z",
    });
    expect(window.history.map((v) => v.seen_at)).toEqual([
      "2026-11-01T00:00:00.000Z",
      "2026-11-15T13:00:00.000Z",
    ]);
    expect(row.excluded).toBe(0);
    expect(windowHistoryLines(report.maintenance.windows)).toEqual([
      "sp-1 changed after it was announced; each change is judged from when it was first seen: seen 2026-11-01 00:00:00: 2026-11-25 02:00:00 to 2026-11-25 03:00:00 (all); seen 2026-11-15 13:00:00: 2026-11-15 02:00:00 to 2026-11-15 12:00:00 (all).",
    ]);
    expect(row.availability_pct).toBeLessThan(99);
    expect(row.availability_met).toBe(false);
  });

  it("a window extended late from 1 h to 15 h qualifies for its first hour only, as one occasion", () => {
    const outage = { from: at("2026-11-10T00:00:00Z"), to: at("2026-11-10T15:00:00Z") };
    const { report, row } = figures(
      feedWindow([
        version("2026-10-01T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z"),
        version("2026-11-09T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T15:00:00Z"),
      ]),
      outage,
    );
    const parts = report.maintenance.windows.filter((w) => w.id === "sp-1");
    // Each part shows the requests it excluded: the late part excluded none (they count).
    expect(
      parts.map((w) => [w.start, w.qualified, w.qualified_hours, w.reason, w.excluded_requests]),
    ).toEqual([
      ["2026-11-10T00:00:00.000Z", true, 1, null, 12],
      ["2026-11-10T01:00:00.000Z", false, 0, "late_notice", 0],
    ]);
    expect(row.excluded).toBe(12); // the first hour's 12 requests; the other 14 h count
    expect(report.maintenance.year_occasions_used).toBe(1);
    expect(report.maintenance.year_hours_used).toBe(1);
  });

  it("a window widened late from payment_request to all categories keeps payment_request's notice", () => {
    const outage = { from: at("2026-11-10T00:00:00Z"), to: at("2026-11-10T01:00:00Z") };
    const settlements = november(outage).map((r) => ({
      ...r,
      probe: "settlements-list",
      category: "settlements",
    }));
    const window = feedWindow([
      version("2026-10-01T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z", ["payment_request"]),
      version("2026-11-09T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z", "all"),
    ]);
    const config = withFeedWindows(fixtureConfig(), [window]);
    const results = [...november(outage), ...settlements].sort((a, b) => a.ts - b.ts);
    const report = monthlyFigures({ config, month: "2026-11", results });
    const row = (c: string) => report.categories.find((r) => r.category === c)!;
    expect(row("payment_request").excluded).toBe(12);
    expect(row("settlements").excluded).toBe(0);
    const parts = report.maintenance.windows.filter((w) => w.id === "sp-1");
    expect(parts.map((w) => [w.categories, w.qualified, w.excluded_requests])).toEqual([
      [["payment_request"], true, 12],
      [["settlements"], false, 0],
    ]);
    expect(report.maintenance.year_occasions_used).toBe(1);
    expect(report.maintenance.year_hours_used).toBe(1);
  });

  it("an unchanged window is judged as before, with its one version as history", () => {
    const { report, row } = figures(
      feedWindow([version("2026-10-01T00:00:00Z", "2026-11-10T00:00:00Z", "2026-11-10T01:00:00Z")]),
      { from: at("2026-11-10T00:00:00Z"), to: at("2026-11-10T01:00:00Z") },
    );
    expect(report.maintenance.windows.find((w) => w.id === "sp-1")).toMatchObject({
      qualified: true,
      reason: null,
    });
    expect(row.excluded).toBe(12);
  });
});

describe("the store keeps each feed window's versions, append-only, across restarts", () => {
  it("a change appends a version; an unchanged reading does not; a restart keeps them", () => {
    const dir = mkdtempSync(join(tmpdir(), "slo-feed-history-"));
    dirs.push(dir);
    const clock = new FakeClock(at("2026-11-01T00:00:00Z"));
    const reading = (start: string, end: string, digest: string) => ({
      providerId: "sp-1",
      name: "Database upgrade",
      start: at(start),
      end: at(end),
      providerCreatedAt: at("2026-10-31T00:00:00Z"),
      categories: "all" as const,
      cancelled: false,
      digest,
    });
    let store = openEvidenceStore({ dataDir: join(dir, "data"), clock, logger: () => {} });
    store.feedWindows.observe(
      [reading("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z", "a")],
      at("2026-11-01T00:00:00Z"),
    );
    store.feedWindows.observe(
      [reading("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z", "a")],
      at("2026-11-02T00:00:00Z"),
    );
    store.feedWindows.observe(
      [reading("2026-11-15T02:00:00Z", "2026-11-15T12:00:00Z", "b")],
      at("2026-11-15T13:00:00Z"),
    );
    store.close();
    store = openEvidenceStore({ dataDir: join(dir, "data"), clock, logger: () => {} });
    try {
      const [window] = store.feedWindows.all();
      expect(window!.firstSeenAt).toBe(at("2026-11-01T00:00:00Z"));
      expect(window!.history).toEqual([
        version("2026-11-01T00:00:00Z", "2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z"),
        version("2026-11-15T13:00:00Z", "2026-11-15T02:00:00Z", "2026-11-15T12:00:00Z"),
      ]);
      const config = withFeedWindows(fixtureConfig(), store.feedWindows.all());
      const judged = config.maintenance.windows.filter((w) => w.id === "sp-1");
      expect(judged.map((w) => w.announcedAt)).toEqual([at("2026-11-15T13:00:00Z")]);
    } finally {
      store.close();
    }
  });
});
