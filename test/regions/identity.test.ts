import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/result.js";
import { canonicalForm } from "../../src/record/evidence/canonical.js";
import { importResultFile } from "../../src/record/import/import.js";
import { openEvidenceStore } from "../../src/record/store.js";

const TS = Date.parse("2026-11-02T10:00:00.000Z");
const BASE: ProbeResult = {
  ts: TS,
  probe: "pr",
  category: "payment_request",
  status: 200,
  durationMs: 120,
  error: null,
  errorCode: null,
  correlationId: null,
};
const EU = { agent: "eu-1", region: "eu" };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-identity-"));
  dirs.push(dir);
  return dir;
}
function storeIn(dir: string, identity = EU) {
  return openEvidenceStore({ dataDir: dir, clock: new FakeClock(TS), identity, checkpoints: false });
}

describe("a result's identity is agent + probe + ts", () => {
  it("the canonical form of a result without identity is unchanged, so older hashes still verify", () => {
    expect(canonicalForm(BASE)).toBe(
      '{"ts":"2026-11-02T10:00:00.000Z","probe":"pr","category":"payment_request","status":200,"duration_ms":120,"error":null,"error_code":null,"correlation_id":null,"phases":null,"server_ms":null}',
    );
    expect(canonicalForm({ ...BASE, ...EU })).toMatch(/,"agent":"eu-1","region":"eu"}$/);
  });

  it("a live result is stamped with the agent and region, and the chain verifies", () => {
    const store = storeIn(tempDir());
    store.record(BASE);
    store.flush();
    expect([...store.results({ from: TS, to: TS + 1 })]).toEqual([
      { ...BASE, ...EU, flags: [], phases: null, serverMs: null, bodyError: null, detail: null },
    ]);
    expect(store.verify().ok).toBe(true);
    store.close();
  });

  it("two agents' results at the same probe + ts are both kept; a line naming no agent is the store's own", async () => {
    const dir = tempDir();
    const store = storeIn(dir);
    store.record(BASE);
    store.flush();
    const file = join(dir, "in.ndjson");
    const lines = [
      canonicalForm(BASE), // no agent: eu-1's own, already stored
      canonicalForm({ ...BASE, agent: "na-1", region: "na" }),
      canonicalForm({ ...BASE, agent: "oc-1", region: "oc", durationMs: 300 }),
    ];
    writeFileSync(file, `${lines.join("\n")}\n`);
    const outcome = await importResultFile(store, file, { known: null, skipInvalid: false });
    expect(outcome).toMatchObject({ imported: 2, alreadyPresent: 1, stored: true });
    const stored = [...store.results({ from: TS, to: TS + 1 })].map((r) => `${r.agent}/${r.region}`);
    expect(stored.sort()).toEqual(["eu-1/eu", "na-1/na", "oc-1/oc"]);
    // Importing it again stores nothing; the same identity with other content is a conflict.
    expect(await importResultFile(store, file, { known: null, skipInvalid: false })).toMatchObject({
      imported: 0,
      alreadyPresent: 3,
    });
    writeFileSync(file, `${canonicalForm({ ...BASE, agent: "na-1", region: "na", status: 503 })}\n`);
    const conflict = await importResultFile(store, file, { known: null, skipInvalid: false });
    expect(conflict.stored).toBe(false);
    expect(conflict.rejected[0]?.message).toContain("conflicting duplicate, agent na-1");
    expect(store.verify().ok).toBe(true);
    store.close();
  });

  it("an agent or region that is not a non-empty string is refused with its line", async () => {
    const dir = tempDir();
    const store = storeIn(dir);
    const file = join(dir, "bad.ndjson");
    writeFileSync(file, `${canonicalForm(BASE).replace(/}$/, ',"agent":""}')}\n`);
    const outcome = await importResultFile(store, file, { known: null, skipInvalid: false });
    expect(outcome.rejected).toEqual([
      { line: 1, message: 'agent must be a non-empty string or null, got ""' },
    ]);
    store.close();
  });
});
