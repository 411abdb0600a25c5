import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/result.js";
import { DAY_MS } from "../../src/model/time.js";
import {
  describeProblem,
  type EvidenceStore,
  importResultFile,
  openEvidenceStore,
  SCHEMA_VERSION,
  verifyEvidence,
} from "../../src/record/index.js";
import { generateResults, ndjsonLine } from "./results.js";

const START = Date.UTC(2026, 9, 1);
/** A store written by slo-agent before flags, body_error and detail were kept (schema version 2). */
const V2_FIXTURE = join(import.meta.dirname, "fixtures/evidence-schema-v2.sqlite");
const dirs: string[] = [];
const stores: EvidenceStore[] = [];

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-classification-"));
  dirs.push(dir);
  return dir;
}

function open(dataDir: string): EvidenceStore {
  const store = openEvidenceStore({ dataDir, clock: new FakeClock(START), logger: () => {} });
  stores.push(store);
  return store;
}

/** The two records the v2 fixture starts with, recorded live through store.record. */
const PLAIN: ProbeResult = {
  ts: Date.UTC(2026, 9, 1, 0, 0, 30),
  probe: "payment-request-read",
  category: "payment_request",
  status: 200,
  durationMs: 123.456,
  error: null,
  errorCode: null,
  correlationId: "c-1",
};
const WITH_PHASES: ProbeResult = {
  ...PLAIN,
  ts: Date.UTC(2026, 9, 1, 0, 1, 0),
  status: 403,
  durationMs: 88.5,
  correlationId: null,
  phases: { dnsMs: 1, connectMs: 2.5, tlsMs: null, requestSentMs: 3, ttfbMs: 80, bodyEndMs: 88.5 },
  serverMs: 70.25,
};
/** Computed once, with the code of commit 6a69979, before the classification detail was kept. */
const GOLDEN_HEAD_2 = "c86eaf1f620b205b3c6d0e141dbc64c34c22902a19362a94d81e43ffa3050577";
const GOLDEN_HEAD_52 = "12723393eaafba7153bac9f18b24d64d25635875d251ec4d40f77948f5ffef1c";

const EDGE_BLOCK: ProbeResult = {
  ...PLAIN,
  ts: START + 60_000,
  status: 403,
  correlationId: null,
  flags: ["edge_block"],
  detail: "403 without a vendor error body",
};
const BODY_RESET: ProbeResult = {
  ...PLAIN,
  ts: START + 90_000,
  flags: ["body_capped"],
  bodyError: "reset",
  detail: "body: ECONNRESET",
};

describe("records without classification detail hash as before it was kept", () => {
  it("written now, a plain record and one with phases give the golden chain head", () => {
    const store = open(tempDir());
    store.record(PLAIN);
    store.record({ ...WITH_PHASES, flags: [], bodyError: null, detail: null });
    store.flush();
    expect(store.chainHead()).toEqual({ records: 2, sha256: GOLDEN_HEAD_2 });
    store.importResults([...generateResults(START + 3_600_000, 50)]);
    expect(store.chainHead()).toEqual({ records: 52, sha256: GOLDEN_HEAD_52 });
  });

  it("a store written by schema version 2 upgrades, verifies, and keeps its head", () => {
    const dir = tempDir();
    copyFileSync(V2_FIXTURE, join(dir, "evidence.sqlite"));
    const store = open(dir);
    // Written before checkpoints: its chain holds, but nothing signed it, so no writer signs it
    // until the operator adopts it (docs/evidence-store.md, "A store that cannot be signed").
    expect(store.verify()).toMatchObject({ ok: false, records: 52 });
    expect(store.adopt().overridden).toMatch(/no signed checkpoint/);
    expect(store.verify()).toMatchObject({ ok: true, records: 52, sha256: GOLDEN_HEAD_52 });
    const [first] = store.results({ from: START, to: START + 31_000 });
    expect(first).toMatchObject({ ...PLAIN, flags: [], bodyError: null, detail: null });
    store.record({ ...EDGE_BLOCK, ts: START + 45_000 });
    store.flush();
    store.close();
    const db = new Database(join(dir, "evidence.sqlite"), { readonly: true });
    expect(db.prepare("SELECT max(version) FROM schema_version").pluck().get()).toBe(SCHEMA_VERSION);
    db.close();
    expect(verifyEvidence(dir)).toMatchObject({ ok: true, records: 53 });
  });
});

describe("flags, body_error and detail", () => {
  it("are stored and returned by results(), and chained", () => {
    const dir = tempDir();
    const store = open(dir);
    store.record(EDGE_BLOCK);
    store.record(BODY_RESET);
    store.record(PLAIN);
    store.flush();
    const results = [...store.results({ from: START, to: START + DAY_MS })];
    expect(results).toEqual([
      { ...PLAIN, phases: null, serverMs: null, flags: [], bodyError: null, detail: null },
      { ...EDGE_BLOCK, phases: null, serverMs: null, bodyError: null },
      { ...BODY_RESET, phases: null, serverMs: null },
    ]);
    expect(store.verify()).toMatchObject({ ok: true, records: 3 });
  });

  it("are imported from NDJSON and survive a round trip through the store's own lines", async () => {
    const dir = tempDir();
    const file = join(dir, "in.ndjson");
    writeFileSync(file, `${[EDGE_BLOCK, BODY_RESET].map(ndjsonLine).join("\n")}\n`);
    const store = open(dir);
    const outcome = await importResultFile(store, file, { known: null, skipInvalid: false });
    expect(outcome).toMatchObject({ imported: 2, rejected: [] });
    const [edge, body] = store.results({ from: START, to: START + DAY_MS });
    expect(edge).toMatchObject({ flags: ["edge_block"], bodyError: null, detail: EDGE_BLOCK.detail });
    expect(body).toMatchObject({ flags: ["body_capped"], bodyError: "reset", detail: "body: ECONNRESET" });
  });

  it("a malformed flag in an import is refused with its line number, and nothing is stored", async () => {
    const dir = tempDir();
    const file = join(dir, "in.ndjson");
    const bad = ndjsonLine(PLAIN).replace(/}$/, ',"flags":["waf"]}');
    writeFileSync(file, `${ndjsonLine(EDGE_BLOCK)}\n${bad}\n`);
    const store = open(dir);
    const outcome = await importResultFile(store, file, { known: null, skipInvalid: false });
    expect(outcome.stored).toBe(false);
    expect(outcome.rejected).toEqual([
      {
        line: 2,
        message: expect.stringMatching(/^flags may hold only edge_block, redirect_limit, body_capped/),
      },
    ]);
    expect(store.chainHead().records).toBe(0);
  });

  it("a live result with an unknown flag is refused, and the rest of its batch is stored", () => {
    const lines: string[] = [];
    const store = openEvidenceStore({
      dataDir: tempDir(),
      clock: new FakeClock(START),
      logger: (l) => lines.push(l),
    });
    stores.push(store);
    store.record({ ...PLAIN, flags: ["waf" as "edge_block"] });
    store.record(EDGE_BLOCK);
    store.flush();
    expect(lines).toEqual([
      expect.stringContaining(
        'flags may hold only edge_block, redirect_limit, body_capped, agent_error, client_side, got "waf"',
      ),
    ]);
    expect(store.chainHead().records).toBe(1);
  });
});

describe("verify detects an altered classification", () => {
  const cases: { rule: string; sql: string }[] = [
    { rule: "a removed edge_block flag", sql: "UPDATE results SET flags = NULL WHERE seq = 1" },
    {
      rule: "a flag added to a record that had none",
      sql: "UPDATE results SET flags = 'edge_block' WHERE seq = 3",
    },
    { rule: "a flag column emptied to ''", sql: "UPDATE results SET flags = '' WHERE seq = 2" },
    { rule: "a body_error cleared", sql: "UPDATE results SET body_error = NULL WHERE seq = 2" },
    { rule: "a detail rewritten", sql: "UPDATE results SET detail = 'fine' WHERE seq = 1" },
  ];
  for (const c of cases) {
    it(`${c.rule} is named as altered at its seq`, () => {
      const dir = tempDir();
      const store = open(dir);
      store.importResults([EDGE_BLOCK, BODY_RESET, { ...PLAIN, ts: START + 120_000 }]);
      store.close();
      const db = new Database(join(dir, "evidence.sqlite"));
      const seq = Number(/seq = (\d)/.exec(c.sql)![1]);
      db.exec(c.sql);
      db.close();
      const outcome = verifyEvidence(dir);
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) {
        expect(describeProblem(outcome.problem)).toMatch(
          new RegExp(`^altered: record seq ${seq} .*its content`),
        );
      }
    });
  }
});
