import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/result.js";
import { canonicalForm } from "../../src/record/evidence/canonical.js";
import { parseResultLine } from "../../src/record/import/ndjson.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/index.js";

const START = Date.UTC(2026, 9, 1);
const dirs: string[] = [];
const stores: EvidenceStore[] = [];

function open(dataDir: string): EvidenceStore {
  const store = openEvidenceStore({ dataDir, clock: new FakeClock(START + 60_000), logger: () => {} });
  stores.push(store);
  return store;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-traffic-store-"));
  dirs.push(dir);
  return dir;
}

function span(ts: number, spanId: string, status: number | null = 201): ProbeResult {
  return {
    ts,
    probe: "traffic:POST /payments/v1/sessions",
    category: "payment_request",
    status,
    durationMs: 12.5,
    error: status === null ? "reset" : null,
    errorCode: null,
    correlationId: spanId,
    flags: [],
    source: "traffic",
  };
}

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("results of source traffic in the evidence store (contract section 19)", () => {
  it("keeps merchant requests that share a millisecond and a route, once per span id", () => {
    const store = open(tempDir());
    store.record(span(START, "00000000000000a1"));
    store.record(span(START, "00000000000000a2"));
    store.record(span(START, "00000000000000a1")); // a retried export
    store.flush();
    const stored = [...store.results({ from: START, to: START + 1 })];
    expect(stored.map((r) => r.correlationId)).toEqual(["00000000000000a1", "00000000000000a2"]);
    expect(stored.every((r) => r.source === "traffic")).toBe(true);
  });

  it("still keeps one probe result per probe and ms, and probe results carry no source", () => {
    const store = open(tempDir());
    const probe: ProbeResult = { ...span(START, "x"), probe: "p", correlationId: "a", source: undefined };
    store.record(probe);
    store.record({ ...probe, correlationId: "b" });
    store.flush();
    const stored = [...store.results({ from: START, to: START + 1 })];
    expect(stored).toHaveLength(1);
    expect(stored[0]!.source).toBeUndefined();
  });

  it("hashes the source: a probe's canonical form is as before, a merchant request's says traffic", () => {
    const probe: ProbeResult = { ...span(START, "x"), source: undefined };
    expect(canonicalForm(probe)).not.toContain("source");
    expect(canonicalForm({ ...probe, source: "probe" })).toBe(canonicalForm(probe));
    expect(canonicalForm(span(START, "x"))).toMatch(/,"source":"traffic"}$/);
  });

  it("verifies, and an altered source column no longer verifies", () => {
    const dir = tempDir();
    const store = open(dir);
    store.record(span(START, "00000000000000a1"));
    store.record({ ...span(START + 5, "p"), probe: "probe-1", correlationId: null, source: undefined });
    store.flush();
    expect(store.verify().ok).toBe(true);
    const db = new Database(store.path);
    db.prepare("UPDATE results SET source = NULL WHERE source = 'traffic'").run();
    db.close();
    expect(store.verify().ok).toBe(false);
  });

  it("reads source from an NDJSON line and refuses an unknown one", () => {
    const line = (source: string) =>
      `{"ts":"2026-10-01T00:00:00.000Z","probe":"p","category":"c","status":200,"duration_ms":1,"error":null,"source":"${source}"}`;
    const traffic = parseResultLine(line("traffic"), null);
    expect("result" in traffic && traffic.result.source).toBe("traffic");
    const probe = parseResultLine(line("probe"), null);
    expect("result" in probe && probe.result.source).toBeUndefined();
    expect(parseResultLine(line("synthetic"), null)).toEqual({
      problem: 'source must be "probe" or "traffic", got "synthetic"',
    });
  });
});
