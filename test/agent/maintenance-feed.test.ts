import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MaintenanceFeedPoller } from "../../src/agent/maintenance-feed.js";
import { parseScheduledMaintenances } from "../../src/agent/statuspage.js";
import { FakeClock } from "../../src/clock/fake.js";
import type { MaintenanceFeed } from "../../src/model/config.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/index.js";
import { buildMonthlyReport, renderReport } from "../../src/reports/index.js";
import { mergeFeedWindows, withFeedWindows } from "../../src/slo/index.js";
import { eventually } from "../support/eventually.js";
import { fixtureConfig } from "../support/slo-config.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/statuspage");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");
const DAY = 86_400_000;
const EARLY_START = Date.parse("2026-10-10T01:00:00Z");
const LATE_START = Date.parse("2026-10-20T01:00:00Z");

/** The status page: answers what `reply` says, and counts requests to the Statuspage path. */
let reply: { status: number; body: string } = { status: 200, body: fixture("one-window.json") };
let hits = 0;
let server: Server;
let url = "";
let dir = "";
const dispatcher = new Agent({ connections: 1 });

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url !== "/api/v2/scheduled-maintenances.json") {
      res.writeHead(404).end();
      return;
    }
    hits++;
    res.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), "slo-feed-"));
});

afterAll(async () => {
  await dispatcher.close();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("maintenance feed against a loopback Statuspage", () => {
  const clock = new FakeClock(Date.parse("2026-10-02T00:00:00Z"));
  const lines: string[] = [];
  let store: EvidenceStore;
  let poller: MaintenanceFeedPoller;
  let feed: MaintenanceFeed;
  let changes = 0;

  beforeAll(() => {
    store = openEvidenceStore({ dataDir: dir, clock, logger: () => {} });
    feed = {
      url,
      everyMs: 10 * 60_000,
      components: new Map([
        ["Payments API", ["payment_request"]],
        ["Settlements", ["settlements"]],
      ]),
    };
    poller = new MaintenanceFeedPoller({
      feed,
      clock,
      dispatcher,
      ledger: store.feedWindows,
      log: (level, message, fields) => lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`),
      changed: () => changes++,
    });
  });
  afterAll(async () => {
    await poller.close();
    store.close();
  });

  it("records a window with when it was first seen, its components mapped to categories", async () => {
    const outcome = await poller.poll();
    expect(outcome).toEqual({ ok: true, windows: 1, added: ["m8days2wqs1l"] });
    expect(store.feedWindows.all()).toEqual([
      {
        providerId: "m8days2wqs1l",
        name: "Payments API database upgrade",
        start: EARLY_START,
        end: EARLY_START + 2 * 3_600_000,
        providerCreatedAt: Date.parse("2026-10-02T00:00:00Z"),
        firstSeenAt: Date.parse("2026-10-02T00:00:00Z"),
        categories: ["payment_request"],
        history: [
          {
            seenAt: Date.parse("2026-10-02T00:00:00Z"),
            start: EARLY_START,
            end: EARLY_START + 2 * 3_600_000,
            categories: ["payment_request"],
          },
        ],
      },
    ]);
    expect(changes).toBe(1);
  });

  it("reads the feed again on schedule through the injected clock", async () => {
    const before = hits;
    poller.start(); // reads now, then every 10 minutes
    await eventually(() => hits === before + 1, 60_000, "the loopback round trip", { intervalMs: 5 });
    // The next read is scheduled once this one has been handled, which the server's count cannot
    // tell: advance the clock a period at a time until the second read arrives.
    await eventually(
      () => {
        if (hits === before + 1) clock.advance(feed.everyMs);
        return hits >= before + 2;
      },
      60_000,
      "the loopback round trip",
      { intervalMs: 5 },
    );
    expect(hits).toBe(before + 2);
    await poller.close();
    clock.advance(feed.everyMs * 3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(hits).toBe(before + 2);
  });

  it("keeps the first sighting; a window first seen 2 days ahead keeps that, whatever created_at claims", async () => {
    clock.advance(LATE_START - 2 * DAY - clock.now());
    reply = { status: 200, body: fixture("two-windows.json") };
    const outcome = await poller.poll();
    expect(outcome).toEqual({ ok: true, windows: 2, added: ["m2days7hjk3n"] });
    const byId = new Map(store.feedWindows.all().map((w) => [w.providerId, w]));
    expect(byId.get("m8days2wqs1l")?.firstSeenAt).toBe(Date.parse("2026-10-02T00:00:00Z"));
    expect(byId.get("m2days7hjk3n")).toMatchObject({
      providerCreatedAt: Date.parse("2026-10-12T00:00:00Z"),
      firstSeenAt: LATE_START - 2 * DAY,
      categories: ["settlements"],
    });
    // The unmapped component is logged once, however often the feed shows it.
    await poller.poll();
    expect(lines.filter((l) => l.includes("Merchant Portal"))).toHaveLength(1);
  });

  it("a feed that is down is logged and changes nothing", async () => {
    const before = store.feedWindows.all();
    reply = { status: 503, body: "upstream unavailable" };
    const outcome = await poller.poll();
    expect(outcome).toEqual({
      ok: false,
      problem: `GET ${url}/api/v2/scheduled-maintenances.json failed: answered 503`,
    });
    expect(lines.at(-1)).toContain("warn maintenance feed: unreachable; the windows already seen are kept");
    expect(store.feedWindows.all()).toEqual(before);
  });

  it("a malformed body is logged with a clear line and changes nothing", async () => {
    const before = store.feedWindows.all();
    reply = { status: 200, body: fixture("malformed.json") };
    const outcome = await poller.poll();
    expect(outcome.ok).toBe(false);
    expect(lines.at(-1)).toMatch(/^warn maintenance feed: malformed body; .*malformed body: not JSON \(/);
    reply = { status: 200, body: JSON.stringify({ page: {}, incidents: [] }) };
    await poller.poll();
    expect(lines.at(-1)).toContain("no scheduled_maintenances list (scheduled_maintenances:");
    expect(store.feedWindows.all()).toEqual(before);
  });

  it("the report: 8 days of proven notice qualifies; a 2-day sighting is late_notice and says the times disagree", () => {
    const config = withFeedWindows(
      fixtureConfig({ maintenance: { ...fixtureConfig().maintenance, feed } }),
      store.feedWindows.all(),
    );
    const report = buildMonthlyReport({ config, store, month: "2026-10", now: clock.now() });
    const json = JSON.parse(renderReport(report, "json") as string);
    expect(json.maintenance.windows).toEqual([
      expect.objectContaining({
        id: "m8days2wqs1l",
        source: "feed",
        announced_at: "2026-10-02T00:00:00.000Z",
        provider_announced_at: "2026-10-02T00:00:00.000Z",
        first_seen_at: "2026-10-02T00:00:00.000Z",
        categories: ["payment_request"],
        qualified: true,
        reason: null,
        announcement_disputed: false,
      }),
      expect.objectContaining({
        id: "m2days7hjk3n",
        source: "feed",
        announced_at: "2026-10-18T01:00:00.000Z",
        provider_announced_at: "2026-10-12T00:00:00.000Z",
        first_seen_at: "2026-10-18T01:00:00.000Z",
        qualified: false,
        reason: "late_notice",
        announcement_disputed: true,
      }),
    ]);
    const markdown = renderReport(report, "md") as string;
    expect(markdown).toContain(
      "the provider says announced 2026-10-12 00:00:00, first seen by this agent 2026-10-18 01:00:00",
    );
    expect(markdown).toContain(
      "Windows from the maintenance feed count their notice from when this agent first saw",
    );
    const html = renderReport(report, "html") as string;
    expect(html).toContain("first seen by this agent 2026-10-18 01:00:00");
  });
});

it("never logs credentials given in the feed URL", async () => {
  reply = { status: 503, body: "" };
  const lines: string[] = [];
  const store = openEvidenceStore({
    dataDir: join(dir, "secret"),
    clock: new FakeClock(0),
    logger: () => {},
  });
  const poller = new MaintenanceFeedPoller({
    feed: { url: url.replace("http://", "http://reader:pw-93ac-secret@"), everyMs: 60_000, components: null },
    clock: new FakeClock(0),
    dispatcher,
    ledger: store.feedWindows,
    log: (level, message, fields) => lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`),
  });
  const outcome = await poller.poll();
  await poller.close();
  store.close();
  expect(outcome.ok).toBe(false);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`${url}/api/v2/scheduled-maintenances.json failed: answered 503`);
  expect(lines.join("\n")).not.toContain("pw-93ac-secret");
});

describe("merging feed windows with declared ones", () => {
  const feedWindow = {
    providerId: "m2days7hjk3n",
    name: "Settlements batch migration",
    start: LATE_START,
    end: LATE_START + 3_600_000,
    providerCreatedAt: LATE_START - 8 * DAY,
    firstSeenAt: LATE_START - 2 * DAY,
    categories: ["settlements"],
  } as const;

  it("counts notice from the first sighting", () => {
    const [merged] = mergeFeedWindows([], [feedWindow], 600_000);
    expect(merged).toMatchObject({
      id: "m2days7hjk3n",
      announcedAt: LATE_START - 2 * DAY,
      description: feedWindow.name,
    });
  });

  it("a declared window with the same id replaces nothing: both stand, the feed's as feed:<id>", () => {
    // Issue 24 (attack round 4, item 2): a declared window of the feed window's id, moved to
    // another year by a reload, erased the provider's announced maintenance.
    const declared = {
      id: "m2days7hjk3n",
      start: LATE_START + 400 * DAY,
      end: LATE_START + 400 * DAY + 3_600_000,
      announcedAt: LATE_START - 9 * DAY,
      categories: ["settlements"],
    };
    const merged = mergeFeedWindows([declared], [feedWindow], 600_000);
    expect(merged).toHaveLength(2);
    expect(merged[0]).toEqual(declared);
    expect(merged[1]).toMatchObject({
      id: "feed:m2days7hjk3n",
      start: LATE_START,
      announcedAt: LATE_START - 2 * DAY,
      feed: { providerId: "m2days7hjk3n" },
    });
  });
});

/** The one-window fixture as the provider shows it after calling the maintenance off. */
function calledOff(statuses: readonly string[]): string {
  const body = JSON.parse(fixture("one-window.json"));
  const m = body.scheduled_maintenances[0];
  m.status = statuses.at(-1);
  m.resolved_at = "2026-10-05T00:00:00.000Z";
  m.incident_updates = statuses.map((status, i) => ({ ...m.incident_updates[0], id: `u${i}`, status }));
  return JSON.stringify(body);
}

describe("a feed window the provider cancels", () => {
  it("stops counting, stays in the store as cancelled and is shown so in the report", async () => {
    const clock = new FakeClock(Date.parse("2026-10-02T00:00:00Z"));
    const store = openEvidenceStore({ dataDir: join(dir, "cancelled"), clock, logger: () => {} });
    const feed: MaintenanceFeed = { url, everyMs: 600_000, components: null };
    const lines: string[] = [];
    const poller = new MaintenanceFeedPoller({
      feed,
      clock,
      dispatcher,
      ledger: store.feedWindows,
      log: (level, message, fields) => lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`),
    });
    try {
      reply = { status: 200, body: fixture("one-window.json") };
      await poller.poll();
      const report = () => {
        const config = withFeedWindows(
          fixtureConfig({ maintenance: { ...fixtureConfig().maintenance, feed } }),
          store.feedWindows.all(),
        );
        return buildMonthlyReport({ config, store, month: "2026-10", now: clock.now() });
      };
      expect(JSON.parse(renderReport(report(), "json") as string).maintenance.windows[0]).toMatchObject({
        qualified: true,
        reason: null,
      });

      // Statuspage has no cancelled state: completed straight from scheduled, before its start.
      clock.advance(3 * DAY);
      reply = { status: 200, body: calledOff(["scheduled", "completed"]) };
      await poller.poll();
      expect(store.feedWindows.all()).toEqual([
        expect.objectContaining({ providerId: "m8days2wqs1l", cancelledAt: clock.now() }),
      ]);
      expect(lines.at(-1)).toContain("maintenance feed: window changed by the provider");
      const json = JSON.parse(renderReport(report(), "json") as string);
      expect(json.maintenance.windows).toEqual([
        expect.objectContaining({
          id: "m8days2wqs1l",
          source: "feed",
          qualified: false,
          qualified_hours: 0,
          reason: "cancelled",
          cancelled_at: "2026-10-05T00:00:00.000Z",
        }),
      ]);
      expect(json.maintenance.year_occasions_used).toBe(0);
      expect(renderReport(report(), "md") as string).toContain("cancelled by the provider (never counted)");
    } finally {
      await poller.close();
      store.close();
    }
  });

  it("a window that ran (in_progress, then completed) is not cancelled", () => {
    const [ran] = parseScheduledMaintenances(calledOff(["scheduled", "in_progress", "completed"]), {
      url,
      everyMs: 600_000,
      components: null,
    }).readings;
    expect(ran?.cancelled).toBe(false);
    const [cancelled] = parseScheduledMaintenances(calledOff(["scheduled", "completed"]), {
      url,
      everyMs: 600_000,
      components: null,
    }).readings;
    expect(cancelled?.cancelled).toBe(true);
  });

  it("a window completed early ends when it was resolved, not at scheduled_until (issue 24)", () => {
    const feed = { url, everyMs: 600_000, components: null };
    const json = JSON.parse(calledOff(["scheduled", "in_progress", "completed"]));
    const m = json.scheduled_maintenances[0];
    const start = Date.parse(m.scheduled_for);
    const until = Date.parse(m.scheduled_until);
    m.resolved_at = new Date(start + (until - start) / 2).toISOString();
    const [early] = parseScheduledMaintenances(JSON.stringify(json), feed).readings;
    expect(early).toMatchObject({ cancelled: false, start, end: start + (until - start) / 2 });
    // Still running, or resolved after its schedule: the schedule's end.
    m.status = "in_progress";
    expect(parseScheduledMaintenances(JSON.stringify(json), feed).readings[0]?.end).toBe(until);
    m.status = "completed";
    m.resolved_at = new Date(until + 60_000).toISOString();
    expect(parseScheduledMaintenances(JSON.stringify(json), feed).readings[0]?.end).toBe(until);
  });

  it("a completed window with no updates and no resolved_at gives no sign it ran: cancelled", () => {
    const feed = { url, everyMs: 600_000, components: null };
    const body = (resolvedAt: string | null) => {
      const json = JSON.parse(calledOff(["completed"]));
      const m = json.scheduled_maintenances[0];
      m.incident_updates = [];
      m.resolved_at = resolvedAt;
      return JSON.stringify(json);
    };
    const start = JSON.parse(fixture("one-window.json")).scheduled_maintenances[0].scheduled_for as string;
    const after = new Date(Date.parse(start) + 60_000).toISOString();
    expect(parseScheduledMaintenances(body(null), feed).readings[0]?.cancelled).toBe(true);
    // Resolved after its start: it ran.
    expect(parseScheduledMaintenances(body(after), feed).readings[0]?.cancelled).toBe(false);
  });
});
