import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { generateResults } from "./results.js";

const START = Date.UTC(2026, 9, 1);
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-checkpoints-"));
  dirs.push(dir);
  return dir;
}

const checkpoints = (dir: string) => {
  const db = new Database(join(dir, "evidence.sqlite"), { readonly: true });
  try {
    return db
      .prepare("SELECT head_seq AS headSeq, created_at AS createdAt FROM checkpoints ORDER BY id")
      .all();
  } finally {
    db.close();
  }
};

describe("signed checkpoints", () => {
  it("sign every batch as it is written, and are kept about 5 minutes apart of the store's clock", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    const store = openEvidenceStore({ dataDir: dir, clock, batchMs: 0 });
    const results = [...generateResults(START, 40, 60_000)];
    for (const [i, result] of results.entries()) {
      if (i > 0) clock.advance(60_000);
      store.record(result);
      store.flush();
      // The batch and its signature commit together: nothing is ever left unsigned.
      expect((checkpoints(dir) as { headSeq: number }[]).at(-1)!.headSeq).toBe(i + 1);
    }
    store.close();
    // Each kept checkpoint is the last signing before the next 5 minutes began; the newest, the head.
    const written = checkpoints(dir) as { headSeq: number; createdAt: number }[];
    expect(written.map((c) => c.createdAt - START)).toEqual([
      0, 240_000, 480_000, 720_000, 960_000, 1_200_000, 1_440_000, 1_680_000, 1_920_000, 2_160_000, 2_340_000,
    ]);
    expect(written.at(-1)!.headSeq).toBe(40);
    expect(statSync(join(dir, "agent-signing-key.pem")).mode & 0o777).toBe(0o600);
  });

  it("sign the anchor a prune writes, so the pruned store still verifies", () => {
    const dir = tempDir();
    const clock = new FakeClock(START);
    const store = openEvidenceStore({ dataDir: dir, clock, retentionDays: 1 });
    store.importResults([...generateResults(START, 300, 60_000)]);
    const outcome = store.prune(START + 2 * 86_400_000);
    expect(outcome.pruned).toBe(300);
    expect(store.verify()).toMatchObject({ ok: true, records: 0 });
    store.close();
    const db = new Database(join(dir, "evidence.sqlite"));
    db.prepare("UPDATE chain_anchors SET seq = seq - 1").run();
    db.close();
    const reader = openEvidenceStore({ dataDir: dir, clock, readOnly: true });
    expect(reader.verify()).toMatchObject({ ok: false, problem: { kind: "altered", seq: 299 } });
    reader.close();
  });
});
