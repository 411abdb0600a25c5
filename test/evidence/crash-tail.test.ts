import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";
import { checkpoints, expectRefused, hourly, importOne, rechainToHead, sql } from "./store-attack.js";

/**
 * Issue 23, second and third audits: a writer signs each batch in the transaction that appends
 * it, so no crash leaves a record unsigned, and a writer signs no record it did not write. Records
 * left unsigned after the newest checkpoint used to be signed by the next writer as a "crash
 * tail": deleting the newest checkpoints and rewriting (or cutting) the records after an older
 * one, or appending records dated just before the newest checkpoint, passed report, verify and
 * the bundle once any import or agent start had run. And `evidence adopt` signed over a chain its
 * newest checkpoint shows rewritten. Real SQLite stores, the real CLI.
 */

const HOUR = 3_600_000;
const MINUTE = 60_000;
const SLOW = 300_000;
const MARCH = Date.UTC(2026, 2, 1);
/** When the three imports signed: March 1-20 at MAR20, 20-26 at MAR26, 26-30 at MAR30. */
const MAR20 = Date.UTC(2026, 2, 20);
const MAR26 = Date.UTC(2026, 2, 26);
const MAR30 = Date.UTC(2026, 2, 30);

let base: string;
const dirs: string[] = [];

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "slo-tail-base-"));
  writeFileSync(join(base, "slo.yaml"), sloYaml("./data"));
  const clock = new FakeClock(MAR20);
  const store = openEvidenceStore({ dataDir: join(base, "data"), clock, logger: () => {} });
  store.recordInput("config", { maintenance: { windows: [] } });
  store.importResults(hourly(MARCH, MAR20));
  clock.advance(MAR26 - clock.now());
  store.importResults(hourly(MAR20, MAR26));
  clock.advance(MAR30 - clock.now());
  store.importResults(hourly(MAR26, MAR30));
  store.close();
}, SLOW);

afterAll(() => {
  for (const dir of [base, ...dirs]) rmSync(dir, { recursive: true, force: true });
});

function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-tail-"));
  dirs.push(dir);
  cpSync(base, dir, { recursive: true });
  return dir;
}

/** The head seq the (first) checkpoint signed at `at` names. */
const headSignedAt = (dir: string, at: number) =>
  sql(
    dir,
    (db) =>
      db.prepare("SELECT max(head_seq) FROM checkpoints WHERE created_at = ?").pluck().get(at) as number,
  );

const onMarch25 = (r: ProbeResult): ProbeResult =>
  r.ts >= Date.UTC(2026, 2, 25) && r.ts < Date.UTC(2026, 2, 26) ? { ...r, status: 503 } : r;

/** The attack: the checkpoints after MAR20 deleted, the ten days after its head rewritten and rechained. */
function rewriteAfterOlderCheckpoint(dir: string): void {
  const head = headSignedAt(dir, MAR20);
  sql(dir, (db) => {
    db.prepare("DELETE FROM checkpoints WHERE created_at > ?").run(MAR20);
    rechainToHead(db, head + 1, onMarch25);
  });
}

/** Results with these ts (ms after MAR30) written unsigned after the newest checkpoint, as a crash leaves them. */
function unsignedAfterNewest(dir: string, offsets: readonly number[]): void {
  const clock = new FakeClock(MAR30 + Math.max(...offsets));
  const store = openEvidenceStore({
    dataDir: join(dir, "data"),
    clock,
    logger: () => {},
    checkpoints: false,
  });
  store.importResults(offsets.map((offset) => ({ ...hourly(MAR30, MAR30 + HOUR)[0]!, ts: MAR30 + offset })));
  store.close();
}

const UNSIGNED_AFTER_MAR20 =
  /records seq \d+\.\.\d+ follow the newest checkpoint \(of 2026-03-20T00:00:00\.000Z, head seq \d+\) unsigned, and this process did not write them/;

describe("a writer signs only the records it writes, in the transaction that writes them", () => {
  it(
    "an agent killed between batches (never closed) leaves no record unsigned: the next writer signs on",
    () => {
      const dir = copy();
      const started = MAR30 + 3 * 24 * HOUR;
      const clock = new FakeClock(started);
      const crashed = openEvidenceStore({ dataDir: join(dir, "data"), clock, logger: () => {} });
      crashed.startRun(clock.now());
      for (let i = 0; i < 3; i++) {
        clock.advance(MINUTE);
        for (const r of hourly(clock.now(), clock.now() + 1)) crashed.record(r);
        crashed.flush();
        // Signed with the batch: the newest checkpoint names the chain's tail after every commit.
        const [head, tail] = sql(dir, (db) => [
          db.prepare("SELECT head_seq FROM checkpoints ORDER BY id DESC LIMIT 1").pluck().get(),
          db.prepare("SELECT max(seq) FROM results").pluck().get(),
        ]);
        expect(head).toBe(tail);
      }
      // Not closed (a closing store signs too): what a kill -9 leaves.
      clock.advance(MINUTE);
      const next = openEvidenceStore({ dataDir: join(dir, "data"), clock, logger: () => {} });
      next.importResults(hourly(clock.now(), clock.now() + 1));
      expect(next.signingRefusal()).toBeNull();
      expect(next.verify()).toMatchObject({ ok: true });
      next.close();
      crashed.close();
    },
    SLOW,
  );

  for (const [what, offsets] of [
    ["timed a minute after it", [1 * MINUTE]],
    [
      "dated in the month the newest checkpoint already signed (before it)",
      [-2 * 24 * HOUR + 17_000, -MINUTE + 3_000],
    ],
  ] as const) {
    it(
      `an unsigned record ${what} is refused, naming the seq range (third audit, findings 1-2)`,
      () => {
        const dir = copy();
        const head = headSignedAt(dir, MAR30);
        unsignedAfterNewest(dir, offsets);
        expectRefused(
          importOne(dir),
          `records seq ${head + 1}..${head + offsets.length} follow the newest checkpoint (of 2026-03-30T00:00:00.000Z, head seq ${head}) unsigned, and this process did not write them`,
        );
        const report = slo(["report", "--month", "2026-03", "--config", "slo.yaml", "--format", "json"], dir);
        expect(report.code, report.stderr).toBe(1);
      },
      SLOW,
    );
  }

  it(
    "the newest checkpoints deleted and ten days after the older one rewritten and rechained: the import refuses (exit 1), report and verify fail",
    () => {
      const dir = copy();
      rewriteAfterOlderCheckpoint(dir);
      const before = checkpoints(dir);
      expectRefused(importOne(dir), UNSIGNED_AFTER_MAR20);
      expect(checkpoints(dir)).toBe(before);
      const report = slo(["report", "--month", "2026-03", "--config", "slo.yaml", "--format", "json"], dir);
      expect(report.code, report.stderr).toBe(1);
      const verified = slo(["verify", "--data-dir", "data"], dir);
      expect(verified.code).toBe(1);
      // The refused import stored its record and its `import` input record unsigned: the input
      // chain, checked first, no longer ends where the checkpoint says.
      expect(verified.stderr).toMatch(
        /the input records .* end at seq 2, not at the input seq 1 the signed checkpoint/,
      );
    },
    SLOW,
  );

  it(
    "the same forgery: the agent's writer logs an error and signs nothing, and keeps recording",
    () => {
      const dir = copy();
      rewriteAfterOlderCheckpoint(dir);
      const before = checkpoints(dir);
      const lines: string[] = [];
      const clock = new FakeClock(Date.UTC(2026, 3, 1));
      const store = openEvidenceStore({ dataDir: join(dir, "data"), clock, logger: (l) => lines.push(l) });
      store.recordInput("config", { maintenance: { windows: ["restarted"] } });
      store.importResults(hourly(Date.UTC(2026, 3, 1), Date.UTC(2026, 3, 1) + HOUR));
      expect(store.signingRefusal()).toMatch(UNSIGNED_AFTER_MAR20);
      store.close();
      expect(lines.join("\n")).toMatch(
        /evidence store: error: not signing the evidence \(results are still recorded\): records seq/,
      );
      expect(checkpoints(dir)).toBe(before);
      expect(
        sql(dir, (db) =>
          db
            .prepare("SELECT count(*) FROM results WHERE ts >= ?")
            .pluck()
            .get(Date.UTC(2026, 3, 1)),
        ),
      ).toBe(3);
    },
    SLOW,
  );

  it(
    "the last 600 records cut: with the newest checkpoint deleted the next one still names a missing head; with every later checkpoint deleted the rest is unsigned; neither is signed",
    () => {
      for (const deletedAfter of [MAR26, MAR20]) {
        const dir = copy();
        sql(dir, (db) => {
          const last = db.prepare("SELECT max(seq) FROM results").pluck().get() as number;
          db.prepare("DELETE FROM results WHERE seq > ?").run(last - 600);
          db.prepare("DELETE FROM checkpoints WHERE created_at > ?").run(deletedAfter);
        });
        expectRefused(
          importOne(dir),
          deletedAfter === MAR26
            ? /the head the newest checkpoint signed, is missing: records deleted/
            : UNSIGNED_AFTER_MAR20,
        );
        const report = slo(["report", "--month", "2026-03", "--config", "slo.yaml", "--format", "json"], dir);
        expect(report.code, report.stderr).toBe(1);
      }
    },
    SLOW,
  );
});

describe("a running writer notices the store going back under it (fourth audit, i4/i6)", () => {
  it(
    "records deleted and an older, validly signed checkpoint restored while the agent runs: it signs nothing more, and verify names the unsigned records",
    () => {
      const dir = copy();
      const lines: string[] = [];
      const clock = new FakeClock(Date.UTC(2026, 3, 1));
      const store = openEvidenceStore({ dataDir: join(dir, "data"), clock, logger: (l) => lines.push(l) });
      const batch = () => {
        clock.advance(MINUTE);
        for (const r of hourly(clock.now(), clock.now() + 1)) store.record(r);
        store.flush();
      };
      batch();
      // The insider copies the newest checkpoint row (validly signed) ...
      const saved = sql(dir, (db) =>
        db.prepare("SELECT * FROM checkpoints ORDER BY id DESC LIMIT 1").get(),
      ) as Record<string, unknown>;
      batch();
      batch(); // ... the outage the insider wants gone is recorded and signed ...
      sql(dir, (db) =>
        db.transaction(() => {
          // ... and rolls the store back to the copy: a store that extends a signed checkpoint exactly.
          db.prepare("DELETE FROM results WHERE seq > ?").run(saved.head_seq);
          db.prepare("DELETE FROM checkpoints WHERE id >= ?").run(saved.id);
          const columns = Object.keys(saved);
          db.prepare(
            `INSERT INTO checkpoints (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
          ).run(...columns.map((c) => saved[c]));
        })(),
      );
      batch();
      expect(store.signingRefusal()).toMatch(
        /^the store went back under this agent: record seq \d+, the head it signed at .*, is gone: records were deleted and an older checkpoint restored/,
      );
      expect(lines.join("\n")).toContain("evidence store: error: not signing the evidence");
      store.close();
      const verified = slo(["verify", "--data-dir", "data"], dir);
      expect(verified.code, verified.stderr).toBe(1);
      // The writer left a rollback_detected record at the batch that found it: verify names that first.
      expect(verified.stderr).toMatch(
        /the agent detected a rollback at \S+ \(input record seq \d+, rollback_detected\)/,
      );
    },
    SLOW,
  );
});

describe("report on forged rows it cannot read", () => {
  it("an input record whose payload is not JSON: exit 1 naming the evidence, not a crash (exit 2) (fourth audit, minor)", () => {
    const dir = copy();
    sql(dir, (db) => {
      const seq = (db.prepare("SELECT max(seq) FROM input_records").pluck().get() as number) + 1;
      db.prepare(
        "INSERT INTO input_records (seq, kind, ts, payload, prev_hash, hash) VALUES (?, 'config', ?, '', zeroblob(32), zeroblob(32))",
      ).run(seq, MAR30);
    });
    const report = slo(["report", "--month", "2026-03", "--config", "slo.yaml", "--format", "json"], dir);
    expect(report.code, report.stderr).toBe(1);
    expect(report.stderr).toMatch(
      /^slo-agent report: the evidence for 2026-03 did not verify: .*input record/,
    );
  });
});

describe("evidence adopt never signs over a chain its newest remaining checkpoint contradicts", () => {
  it(
    "a record at or before the newest checkpoint's head rewritten and rechained (the chain verifies on its own): adopt exits 1 and signs nothing",
    () => {
      const dir = copy();
      sql(dir, (db) => rechainToHead(db, 5, (r) => ({ ...r, status: 503 })));
      const before = checkpoints(dir);
      const run = slo(["evidence", "adopt", "--config", "slo.yaml"], dir);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(
        "the store does not extend its newest remaining checkpoint, so it is not adopted: record seq",
      );
      expect(run.stderr).toContain("no longer has the hash the newest checkpoint signed");
      expect(checkpoints(dir)).toBe(before);
    },
    SLOW,
  );

  it(
    "the chain cut before the newest checkpoint's head: adopt exits 1",
    () => {
      const dir = copy();
      sql(dir, (db) => {
        const last = db.prepare("SELECT max(seq) FROM results").pluck().get() as number;
        db.prepare("DELETE FROM results WHERE seq > ?").run(last - 600);
      });
      const run = slo(["evidence", "adopt", "--config", "slo.yaml"], dir);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain("the head the newest checkpoint signed, is missing");
    },
    SLOW,
  );
});

describe("an adoption is shown to the provider", () => {
  it(
    "adopt over the forgery names what was signed before; report (JSON, Markdown, HTML) and verify --bundle --key-id show it",
    () => {
      const dir = copy();
      const signedHead = headSignedAt(dir, MAR20);
      rewriteAfterOlderCheckpoint(dir);
      const adopted = slo(["evidence", "adopt", "--config", "slo.yaml"], dir);
      expect(adopted.code, adopted.stderr).toBe(0);
      const payload = JSON.parse(
        sql(dir, (db) =>
          db.prepare("SELECT payload FROM input_records WHERE kind = 'adoption'").pluck().get(),
        ) as string,
      );
      expect(payload.overridden).toMatch(UNSIGNED_AFTER_MAR20);
      expect(payload.previous_checkpoint).toMatchObject({
        head_seq: signedHead,
        created_at: "2026-03-20T00:00:00.000Z",
      });
      expect(payload.previous_checkpoint.head_hash).toMatch(/^[0-9a-f]{64}$/);

      const report = (format: string) =>
        slo(["report", "--month", "2026-03", "--config", "slo.yaml", "--format", format], dir);
      const json = report("json");
      expect(json.code, json.stderr).toBe(0);
      const parsed = JSON.parse(json.stdout);
      expect(parsed.evidence.adoptions).toHaveLength(1);
      expect(parsed.evidence.adoptions[0]).toMatchObject({
        key_id: payload.key_id,
        previous_checkpoint: { head_seq: signedHead, created_at: "2026-03-20T00:00:00.000Z" },
      });
      const warning = `the newest checkpoint left before it signed records up to seq ${signedHead} (2026-03-20T00:00:00.000Z`;
      expect(parsed.warnings.join("\n")).toContain(warning);
      expect(report("md").stdout).toMatch(/\*\*Warning:\*\* the evidence store was adopted at/);
      expect(report("html").stdout).toContain("Warning: the evidence store was adopted at");

      const exported = slo(
        ["evidence", "export", "--month", "2026-03", "--out", "bundle", "--config", "slo.yaml"],
        dir,
      );
      expect(exported.code, exported.stderr).toBe(0);
      const bundle = slo(["verify", "--bundle", "bundle", "--key-id", payload.key_id], dir);
      expect(bundle.code, bundle.stderr).toBe(0);
      expect(bundle.stderr).toContain("slo-agent verify --bundle: warning: inputs.ndjson seq");
      expect(bundle.stderr).toContain(warning);
    },
    SLOW,
  );
});
