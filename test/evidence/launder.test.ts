import { cpSync, existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { chainHashHex, GENESIS_HASH } from "../../src/record/evidence/canonical.js";
import { writeCheckpoint } from "../../src/record/evidence/checkpoints.js";
import { inputCanonical } from "../../src/record/evidence/input-log.js";
import { loadAgentKey } from "../../src/record/evidence/signing.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";
import { checkpoints, expectRefused, hourly, importOne, rechainToHead, sql } from "./store-attack.js";

/**
 * Audit findings 1-5 and 8 of issue 23: a forgery made without the key (a rewritten chain, a cut
 * tail, a forged anchor, a forged feed window or configuration, edited rollups of a pruned day,
 * a new key over deleted checkpoints) must not be signed by the next honest writer, an import or
 * the agent itself. Before the fix each of these was laundered: after one import, verify, report
 * and the bundle all passed. Real SQLite stores, the real `slo-agent import`.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SLOW = 300_000;
const MARCH = Date.UTC(2026, 2, 1);
const APRIL = Date.UTC(2026, 3, 1);

let base: string;
let pruned: string;
const dirs: string[] = [];

beforeAll(() => {
  // March in two imports (two checkpoints) and a feed window the agent observed.
  base = mkdtempSync(join(tmpdir(), "slo-launder-base-"));
  writeFileSync(join(base, "slo.yaml"), sloYaml("./data"));
  const clock = new FakeClock(Date.UTC(2026, 2, 16));
  const store = openEvidenceStore({ dataDir: join(base, "data"), clock, logger: () => {} });
  store.recordInput("config", { maintenance: { windows: ["w-march"] } });
  store.importResults(hourly(MARCH, Date.UTC(2026, 2, 16)));
  clock.advance(Date.UTC(2026, 3, 2) - clock.now());
  store.importResults(hourly(Date.UTC(2026, 2, 16), Date.UTC(2026, 3, 2)));
  store.feedWindows.observe([reading("sp-real", Date.UTC(2026, 3, 20))], clock.now());
  store.close();
  // March and 1-10 April, pruned on 20 April with ten days' retention: March lives on in rollups.
  pruned = mkdtempSync(join(tmpdir(), "slo-launder-pruned-"));
  writeFileSync(join(pruned, "slo.yaml"), sloYaml("./data"));
  const later = new FakeClock(APRIL + 10 * DAY);
  const prunedStore = openEvidenceStore({
    dataDir: join(pruned, "data"),
    clock: later,
    retentionDays: 10,
    logger: () => {},
  });
  prunedStore.importResults(hourly(MARCH, APRIL + 10 * DAY));
  later.advance(10 * DAY);
  expect(prunedStore.prune(later.now()).pruned).toBeGreaterThan(31 * 24 * 3);
  prunedStore.close();
}, SLOW);

afterAll(() => {
  for (const dir of [base, pruned, ...dirs]) rmSync(dir, { recursive: true, force: true });
});

function reading(id: string, start: number) {
  return {
    providerId: id,
    name: `window ${id}`,
    start,
    end: start + HOUR,
    providerCreatedAt: start - 14 * DAY,
    categories: "all" as const,
    cancelled: false,
    digest: `digest-of-${id}`,
  };
}

function copy(from: string): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-launder-"));
  dirs.push(dir);
  cpSync(from, dir, { recursive: true });
  return dir;
}

const verifyMonth = (dir: string, month = "2026-03") =>
  slo(["verify", "--data-dir", "data", "--month", month], dir);
const verifyAll = (dir: string) => slo(["verify", "--data-dir", "data"], dir);

const as503 = (r: ProbeResult): ProbeResult =>
  r.ts >= Date.UTC(2026, 2, 10) && r.ts < Date.UTC(2026, 2, 11) ? { ...r, status: 503 } : r;

describe("a writer signs only what extends its newest checkpoint", () => {
  it(
    "an honest import into the intact store signs, and everything verifies",
    () => {
      const dir = copy(base);
      const before = checkpoints(dir);
      const run = importOne(dir);
      expect(run.code, run.stderr).toBe(0);
      expect(checkpoints(dir)).toBe(before + 1);
      expect(verifyMonth(dir).code).toBe(0);
      const all = verifyAll(dir);
      expect(all.code, all.stderr).toBe(0);
      expect(all.stdout).toMatch(/checkpoints signed by key [0-9a-f]{16}\n$/);
    },
    SLOW,
  );

  it(
    "finding 1: a day rewritten and rechained to the head is not signed by the next import (exit 1), and verify still fails",
    () => {
      const dir = copy(base);
      const first = sql(dir, (db) => {
        const first = db
          .prepare("SELECT min(seq) FROM results WHERE ts >= ?")
          .pluck()
          .get(Date.UTC(2026, 2, 10));
        rechainToHead(db, first as number, as503);
        return first as number;
      });
      const before = checkpoints(dir);
      expectRefused(importOne(dir), /no longer has the hash the newest checkpoint signed/);
      expect(checkpoints(dir)).toBe(before);
      for (const run of [verifyMonth(dir), verifyAll(dir)]) expect(run.code, run.stderr).toBe(1);
      expect(first).toBeGreaterThan(0);
    },
    SLOW,
  );

  it(
    "finding 1: the agent's own writer (start, a batch, stop) logs an error and signs nothing over the rewrite",
    () => {
      const dir = copy(base);
      sql(dir, (db) => {
        const first = db
          .prepare("SELECT min(seq) FROM results WHERE ts >= ?")
          .pluck()
          .get(Date.UTC(2026, 2, 10));
        rechainToHead(db, first as number, as503);
      });
      const before = checkpoints(dir);
      const lines: string[] = [];
      const clock = new FakeClock(Date.UTC(2026, 11, 6));
      const store = openEvidenceStore({ dataDir: join(dir, "data"), clock, logger: (l) => lines.push(l) });
      store.record(hourly(Date.UTC(2026, 11, 6), Date.UTC(2026, 11, 6) + HOUR)[0]!);
      store.flush();
      store.close();
      expect(checkpoints(dir)).toBe(before);
      expect(lines.join("\n")).toMatch(
        /error: not signing the evidence \(results are still recorded\): record seq \d+ no longer has the hash/,
      );
      expect(
        sql(dir, (db) =>
          db
            .prepare("SELECT count(*) FROM results WHERE ts >= ?")
            .pluck()
            .get(Date.UTC(2026, 11, 6)),
        ),
      ).toBe(1);
    },
    SLOW,
  );

  it(
    "finding 1: an old checkpoint a forgery was laundered over (signed by an older agent) is named by verify",
    () => {
      const dir = copy(base);
      const oldHead = sql(dir, (db) => {
        const first = db
          .prepare("SELECT min(seq) FROM results WHERE ts >= ?")
          .pluck()
          .get(Date.UTC(2026, 2, 10));
        rechainToHead(db, first as number, as503);
        // What the old writer did: sign the head as it found it.
        const key = loadAgentKey(join(dir, "data", "agent-signing-key.pem"), { create: false })!;
        writeCheckpoint(db, key, Date.UTC(2026, 3, 3));
        return db
          .prepare("SELECT min(head_seq) FROM checkpoints WHERE head_seq >= ?")
          .pluck()
          .get(first) as number;
      });
      for (const run of [verifyAll(dir), verifyMonth(dir)]) {
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toContain(`record seq ${oldHead}`);
        expect(run.stderr).toContain("signed checkpoint");
      }
    },
    SLOW,
  );

  it(
    "a checkpoint deleted between two others breaks the checkpoints' chain: verify exit 1",
    () => {
      const dir = copy(base);
      expect(importOne(dir).code).toBe(0);
      expect(importOne(dir, "2026-12-06T10:00:00.000Z").code).toBe(0);
      sql(dir, (db) => {
        const ids = db.prepare("SELECT id FROM checkpoints ORDER BY id").pluck().all() as number[];
        db.prepare("DELETE FROM checkpoints WHERE id = ?").run(ids[ids.length - 2]);
      });
      const run = verifyAll(dir);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain("checkpoints deleted or replaced");
    },
    SLOW,
  );

  it(
    "finding 2: the tail deleted with every checkpoint: the import refuses to sign (exit 1); verify and verify --month fail",
    () => {
      const dir = copy(base);
      sql(dir, (db) => {
        db.prepare("DELETE FROM results WHERE ts >= ?").run(Date.UTC(2026, 2, 31));
        db.prepare("DELETE FROM checkpoints").run();
      });
      expectRefused(importOne(dir), /holds records seq 1\.\.\d+ but no signed checkpoint/);
      expect(checkpoints(dir)).toBe(0);
      for (const run of [verifyMonth(dir), verifyAll(dir)]) {
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toContain("no signed checkpoint commits records");
      }
    },
    SLOW,
  );

  it(
    "finding 3: a feed window inserted into feed_windows is not signed by the next import, nor adopted by the agent's next reading with its back-dated first sighting",
    () => {
      const dir = copy(base);
      const forgedSeen = Date.UTC(2026, 0, 1);
      sql(dir, (db) =>
        db
          .prepare(
            `INSERT INTO feed_windows (provider_id, name, start, end, provider_created_at, first_seen_at,
               last_seen_at, categories, last_digest) VALUES ('sp-forged', 'forged', ?, ?, ?, ?, ?, '"all"', ?)`,
          )
          .run(
            Date.UTC(2026, 2, 10),
            Date.UTC(2026, 2, 11),
            forgedSeen,
            forgedSeen,
            forgedSeen,
            "0".repeat(64),
          ),
      );
      expectRefused(
        importOne(dir),
        /feed window sp-forged is in feed_windows but no maintenance observation/,
      );
      expect(verifyMonth(dir).code).toBe(1);
      // The feed later shows that id: the agent's first sighting is when it read it, not the row's.
      // Later than every record of the copied store (made with the system clock).
      const now = Date.now() + 60_000;
      const store = openEvidenceStore({
        dataDir: join(dir, "data"),
        clock: new FakeClock(now),
        logger: () => {},
      });
      store.feedWindows.observe(
        [reading("sp-real", Date.UTC(2026, 3, 20)), reading("sp-forged", Date.UTC(2026, 2, 10))],
        now,
      );
      const forged = store.feedWindows.all().find((w) => w.providerId === "sp-forged");
      store.close();
      expect(forged?.firstSeenAt).toBe(now);
      const observations = sql(dir, (db) =>
        db
          .prepare("SELECT payload FROM input_records WHERE kind = 'maintenance_observation'")
          .pluck()
          .all()
          .map((p) => JSON.parse(p as string) as { provider_id: string; first_seen_at: number }),
      );
      expect(observations.filter((o) => o.first_seen_at === forgedSeen)).toEqual([]);
    },
    SLOW,
  );

  it(
    "finding 3: the configuration record rewritten and the input chain rechained: the import refuses to sign (exit 1)",
    () => {
      const dir = copy(base);
      // The configuration record (input seq 1) loses its maintenance window; everything after it rechained.
      sql(dir, (db) => {
        const rows = db.prepare("SELECT seq, kind, ts, payload FROM input_records ORDER BY seq").all() as {
          seq: number;
          kind: string;
          ts: number;
          payload: string;
        }[];
        const forged = rows.map((r) =>
          r.kind === "config" ? { ...r, payload: '{"maintenance":{"windows":[]}}' } : r,
        );
        let previous = GENESIS_HASH.toString("hex");
        const update = db.prepare(
          "UPDATE input_records SET payload = ?, prev_hash = unhex(?), hash = unhex(?) WHERE seq = ?",
        );
        for (const r of forged) {
          const hash = chainHashHex(previous, inputCanonical(r.kind, r.ts, r.payload));
          update.run(r.payload, previous, hash, r.seq);
          previous = hash;
        }
      });
      expectRefused(
        importOne(dir),
        /the input chain \(configuration, maintenance observations\) was rewritten/,
      );
      expect(verifyMonth(dir).code).toBe(1);
    },
    SLOW,
  );

  it(
    "finding 4: the chain's first days deleted and a chain_anchors row forged (their rollups edited): the import refuses to sign, verify fails",
    () => {
      const dir = copy(base);
      sql(dir, (db) => {
        const cut = db
          .prepare("SELECT max(seq) FROM results WHERE ts < ?")
          .pluck()
          .get(Date.UTC(2026, 2, 5)) as number;
        const hash = db.prepare("SELECT hash FROM results WHERE seq = ?").pluck().get(cut);
        db.prepare("DELETE FROM results WHERE seq <= ?").run(cut);
        db.prepare("INSERT INTO chain_anchors VALUES (?, ?, ?, ?)").run(cut, hash, Date.UTC(2026, 3, 3), cut);
        db.prepare(
          "UPDATE rollups SET count_5xx = count_5xx + count_2xx, count_2xx = 0 WHERE minute < ?",
        ).run(Date.UTC(2026, 2, 5));
      });
      expectRefused(importOne(dir), /chain anchor at seq \d+ is not the one the newest checkpoint signed/);
      const run = verifyMonth(dir);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain("chain anchor");
    },
    SLOW,
  );

  it(
    "finding 5: a pruned day's rollups edited, then an import: nothing is imported into the pruned day (exit 2 naming it), nothing signs the edit; verify --month still fails",
    () => {
      for (const ts of ["2026-03-03T12:00:01.000Z", "2026-12-06T09:00:00.000Z"]) {
        const dir = copy(pruned);
        sql(dir, (db) =>
          db
            .prepare(
              "UPDATE rollups SET count_5xx = count_5xx + count_2xx, count_2xx = 0 WHERE category = 'disputes' AND minute >= ? AND minute < ?",
            )
            .run(Date.UTC(2026, 2, 3), Date.UTC(2026, 2, 4)),
        );
        expect(verifyMonth(dir).code).toBe(1);
        const run = importOne(dir, ts);
        if (ts.startsWith("2026-03")) {
          expect(run.code, run.stderr).toBe(2);
          expect(run.stderr).toContain("falls on 2026-03-03, a day whose records retention pruned");
        }
        const after = verifyMonth(dir);
        expect(after.code, after.stderr).toBe(1);
        expect(after.stderr).toContain("the rollups of 2026-03-03");
      }
    },
    SLOW,
  );

  it(
    "an import into a pruned day is refused (exit 2 naming the day), nothing is stored, the store still verifies (audit 2, hole 4)",
    () => {
      const dir = copy(pruned);
      const records = () => sql(dir, (db) => db.prepare("SELECT count(*) FROM results").pluck().get());
      const before = records();
      const run = importOne(dir, "2026-03-03T12:00:01.000Z");
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(
        "one.ndjson:1: probe disputes-read at 2026-03-03T12:00:01.000Z falls on 2026-03-03, a day whose records retention pruned",
      );
      expect(records()).toBe(before);
      const after = verifyMonth(dir);
      expect(after.code, after.stderr).toBe(0);
    },
    SLOW,
  );

  it(
    "with --skip-invalid the lines on a pruned day are skipped and the rest stored and signed",
    () => {
      const dir = copy(pruned);
      const line = (ts: string) =>
        `{"ts":"${ts}","probe":"disputes-read","category":"disputes","status":200,"duration_ms":50,"error":null,"error_code":null,"correlation_id":null}`;
      writeFileSync(
        join(dir, "two.ndjson"),
        `${line("2026-03-03T12:00:01.000Z")}\n${line("2026-12-06T09:00:00.000Z")}\n`,
      );
      const run = slo(["import", "two.ndjson", "--config", "slo.yaml", "--skip-invalid"], dir);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(
        "two.ndjson:1: probe disputes-read at 2026-03-03T12:00:01.000Z falls on 2026-03-03",
      );
      expect(run.stdout).toContain("imported 1 results (0 already present)");
      expect(verifyMonth(dir).code).toBe(0);
    },
    SLOW,
  );

  it(
    "finding 8: the key and every checkpoint deleted: no command mints a new key, the import refuses to sign, verify and report fail",
    () => {
      const dir = copy(base);
      const keyFile = join(dir, "data", "agent-signing-key.pem");
      unlinkSync(keyFile);
      sql(dir, (db) => db.prepare("DELETE FROM checkpoints").run());
      // Refused before anything is stored (the import file is still there once the key is back).
      const refused = importOne(dir);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toContain("slo-agent import: nothing stored:");
      expect(refused.stderr).toMatch(
        /is missing and the store already holds records: a key is created only for an empty store/,
      );
      expect(existsSync(keyFile)).toBe(false);
      const report = slo(["report", "--month", "2026-03", "--config", "slo.yaml", "--format", "json"], dir);
      expect(report.code, report.stderr).toBe(1);
      expect(existsSync(keyFile)).toBe(false);
      expect(verifyAll(dir).code).toBe(1);
    },
    SLOW,
  );

  it(
    "recovery: `evidence adopt` signs a store whose checkpoints were deleted, with an adoption record; a chain that does not verify is not adopted",
    () => {
      const dir = copy(base);
      sql(dir, (db) => db.prepare("DELETE FROM checkpoints").run());
      expectRefused(importOne(dir), /no signed checkpoint/);
      const adopted = slo(["evidence", "adopt", "--config", "slo.yaml"], dir);
      expect(adopted.code, adopted.stderr).toBe(0);
      expect(adopted.stdout).toMatch(
        /^adopted: the store holds records seq 1\.\.\d+ but no signed checkpoint/,
      );
      expect(adopted.stdout).toMatch(/signed by key [0-9a-f]{16}/);
      const adoption = sql(dir, (db) =>
        db.prepare("SELECT payload FROM input_records WHERE kind = 'adoption'").pluck().get(),
      ) as string;
      expect(JSON.parse(adoption)).toMatchObject({ previous_key_id: null });
      expect(importOne(dir, "2026-12-06T11:00:00.000Z").code).toBe(0);
      expect(verifyAll(dir).code).toBe(0);

      const broken = copy(base);
      sql(broken, (db) => {
        db.prepare("DELETE FROM checkpoints").run();
        db.prepare("UPDATE results SET status = 503 WHERE seq = 5").run();
      });
      const refused = slo(["evidence", "adopt", "--config", "slo.yaml"], broken);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        "the chain does not verify, so it is not adopted: altered: record seq 5",
      );
      expect(checkpoints(broken)).toBe(0);
    },
    SLOW,
  );
});
