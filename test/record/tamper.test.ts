import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import canonicalize from "canonicalize";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { canonicalForm, chainHashHex } from "../../src/record/evidence/canonical.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { type ResultRow, resultOfRow } from "../../src/record/rows.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";

/**
 * Each attack of issue 10 done to a real store (and a real bundle), checked through the real CLI:
 * the exit code and the record it names. Signatures are checked with openssl, the bundle's README
 * Python with python3: nothing of ours vouches for our own output.
 */

const HOUR = 3_600_000;
/** Several CLI runs per test on a loaded 2-core box. */
const SLOW = 180_000;
const CATEGORIES = ["payment_request", "settlements", "disputes"] as const;
const MONTH = "2026-03";

/** Hourly results from 27 Feb to 2 Apr, so March has a chained record on each side. */
function results(): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = Date.UTC(2026, 1, 27); t < Date.UTC(2026, 3, 2); t += HOUR) {
    CATEGORIES.forEach((category, i) => {
      const status = (t / HOUR) % 50 === 7 ? 503 : 200;
      out.push({
        ts: t + i * 1000,
        probe: `${category.replaceAll("_", "-")}-read`,
        category,
        status,
        durationMs: 100 + i,
        error: null,
        errorCode: null,
        correlationId: null,
      });
    });
  }
  return out;
}

let base: string;
const dirs: string[] = [];

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "slo-tamper-base-"));
  writeFileSync(join(base, "slo.yaml"), sloYaml("./data"));
  const store = openEvidenceStore({
    dataDir: join(base, "data"),
    clock: new FakeClock(Date.UTC(2026, 3, 3)),
  });
  store.importResults(results());
  store.close();
});

afterAll(() => {
  for (const dir of [base, ...dirs]) rmSync(dir, { recursive: true, force: true });
});

/** A fresh copy of the intact store (with its key and checkpoint) to attack. */
function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), "slo-tamper-"));
  dirs.push(dir);
  cpSync(base, dir, { recursive: true });
  return dir;
}

function sql(dir: string, attack: (db: Database.Database) => void): void {
  const db = new Database(join(dir, "data", "evidence.sqlite"));
  try {
    attack(db);
  } finally {
    db.close();
  }
}

const report = (dir: string, ...extra: string[]) =>
  slo(["report", "--month", MONTH, "--config", "slo.yaml", ...extra], dir);
const verify = (dir: string, ...extra: string[]) => slo(["verify", "--data-dir", "data", ...extra], dir);

describe("the intact store", () => {
  it(
    "reports verified, with a statement whose signature openssl accepts",
    () => {
      const dir = copy();
      const run = report(dir, "--format", "json");
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const evidence = JSON.parse(run.stdout).evidence;
      expect(evidence).toMatchObject({ verified: true, statement: { month: MONTH, chain: "verified" } });
      expect(evidence.statement.sha256).toBe(evidence.sha256);
      expect(evidence.config_sha256).toMatch(/^[0-9a-f]{64}$/);
      writeFileSync(join(dir, "statement.json"), canonicalize(evidence.statement)!);
      writeFileSync(join(dir, "statement.sig"), Buffer.from(evidence.signature.value, "base64"));
      writeFileSync(join(dir, "public.pem"), evidence.signature.public_key_pem);
      const openssl = (file: string) =>
        spawnSync(
          "openssl",
          [
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "public.pem",
            "-rawin",
            "-in",
            file,
            "-sigfile",
            "statement.sig",
          ],
          { cwd: dir, encoding: "utf8" },
        );
      expect(openssl("statement.json").stdout).toContain("Signature Verified Successfully");
      writeFileSync(join(dir, "edited.json"), canonicalize({ ...evidence.statement, records: 1 })!);
      expect(openssl("edited.json").status).not.toBe(0);
      expect(verify(dir).code).toBe(0);
      expect(verify(dir, "--month", MONTH).code).toBe(0);
    },
    SLOW,
  );
});

describe("attacks on the store", () => {
  it(
    "UPDATE a 503 to 200: report exits 1 naming the record; --allow-unverified stamps every format",
    () => {
      const intact = JSON.parse(report(copy(), "--format", "json").stdout).evidence.sha256;
      const dir = copy();
      let seq = 0;
      sql(dir, (db) => {
        seq = db
          .prepare("SELECT min(seq) FROM results WHERE status = 503 AND ts >= ?")
          .pluck()
          .get(Date.UTC(2026, 2, 1)) as number;
        db.prepare("UPDATE results SET status = 200 WHERE status = 503").run();
      });
      const refused = report(dir, "--format", "json");
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toContain(`altered: record seq ${seq} `);
      const json = JSON.parse(report(dir, "--format", "json", "--allow-unverified").stdout).evidence;
      expect(json).toMatchObject({ verified: false, statement: { chain: "UNVERIFIED" } });
      expect(json.sha256).not.toBe(intact);
      for (const format of ["md", "html", "csv"]) {
        const run = report(dir, "--format", format, "--allow-unverified");
        expect(run.code, format).toBe(0);
        expect(run.stdout, format).toContain("UNVERIFIED");
      }
    },
    SLOW,
  );

  it(
    "delete the oldest records and forge a matching anchor: verify and verify --month exit 1",
    () => {
      const dir = copy();
      sql(dir, (db) => {
        const hash = db.prepare("SELECT hash FROM results WHERE seq = 50").pluck().get();
        db.prepare("DELETE FROM results WHERE seq <= 50").run();
        db.prepare("INSERT INTO chain_anchors (seq, hash, pruned_at, records) VALUES (50, ?, 0, 50)").run(
          hash,
        );
      });
      for (const run of [verify(dir), verify(dir, "--month", MONTH)]) {
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/chain anchor at seq 50 is not the one the signed checkpoint .* names/);
      }
    },
    SLOW,
  );

  it(
    "move a record's ts out of the month: verify --month exits 1 naming it",
    () => {
      const dir = copy();
      sql(dir, (db) => db.prepare("UPDATE results SET ts = ts + 40 * 86400000 WHERE seq = 1000").run());
      const run = verify(dir, "--month", MONTH);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("altered: record seq 1000 ");
    },
    SLOW,
  );

  it(
    "delete the newest records: verify exits 1 through the signed checkpoint",
    () => {
      const dir = copy();
      let newest = 0;
      sql(dir, (db) => {
        newest = db.prepare("SELECT max(seq) FROM results").pluck().get() as number;
        db.prepare("DELETE FROM results WHERE seq > ?").run(newest - 5);
      });
      const run = verify(dir);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `missing: record seq ${newest - 4}: records seq ${newest - 4}..${newest} are missing`,
      );
    },
    SLOW,
  );

  it(
    "rewrite the tail with recomputed hashes: the checkpoint, and a re-forged checkpoint's signature, give it away",
    () => {
      const dir = copy();
      sql(dir, (db) => rewriteTail(db, 2400));
      const run = verify(dir);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("is not the one the signed checkpoint");
      sql(dir, (db) =>
        db
          .prepare("UPDATE checkpoints SET head_hash = (SELECT hash FROM results ORDER BY seq DESC LIMIT 1)")
          .run(),
      );
      const forged = verify(dir);
      expect(forged.code).toBe(1);
      expect(forged.stderr).toContain("is not signed by the agent's key");
    },
    SLOW,
  );
});

/** Marks every record from seq on as served in 1 ms and rechains them, as an attacker with the schema would. */
function rewriteTail(db: Database.Database, from: number): void {
  const rows = db.prepare("SELECT * FROM results WHERE seq >= ? ORDER BY seq").all(from) as ResultRow[];
  let previous = db
    .prepare("SELECT lower(hex(hash)) FROM results WHERE seq = ?")
    .pluck()
    .get(from - 1) as string;
  const update = db.prepare(
    "UPDATE results SET status = 200, error = NULL, duration_ms = 1, prev_hash = unhex(?), hash = unhex(?) WHERE seq = ?",
  );
  for (const row of rows) {
    const result = { ...resultOfRow(row), status: 200, error: null, durationMs: 1 };
    const hash = chainHashHex(previous, canonicalForm(result));
    update.run(previous, hash, row.seq);
    previous = hash;
  }
}

describe("attacks on a bundle", () => {
  it(
    "is checked by sha256sum, openssl and the README's Python; an edited line is named",
    () => {
      const dir = copy();
      const exported = slo(
        ["evidence", "export", "--month", MONTH, "--out", "bundle", "--config", "slo.yaml"],
        dir,
      );
      expect(exported.stderr).toBe("");
      expect(exported.code).toBe(0);
      const bundle = join(dir, "bundle");
      expect(slo(["verify", "--bundle", "bundle"], dir).code).toBe(0);
      expect(
        execFileSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: bundle, encoding: "utf8" }),
      ).not.toContain("FAILED");
      const openssl = spawnSync(
        "openssl",
        [
          "pkeyutl",
          "-verify",
          "-pubin",
          "-inkey",
          "public_key.pem",
          "-rawin",
          "-in",
          "statement.json",
          "-sigfile",
          "statement.sig",
        ],
        { cwd: bundle, encoding: "utf8" },
      );
      expect(openssl.stdout).toContain("Signature Verified Successfully");
      const python = /```python\n([\s\S]*?)```/.exec(readFileSync(join(bundle, "README.md"), "utf8"))![1]!;
      const statement = JSON.parse(readFileSync(join(bundle, "statement.json"), "utf8"));
      const intact = spawnSync("python3", ["-c", python], { cwd: bundle, encoding: "utf8" });
      expect(intact.stdout).toBe(`ok: ${statement.records} records, digest ${statement.sha256}\n`);
      const pipeline = /^ {4}(sed .*sha256sum)$/m.exec(readFileSync(join(bundle, "README.md"), "utf8"))![1]!;
      const shell = spawnSync("bash", ["-c", pipeline], { cwd: bundle, encoding: "utf8" });
      expect(shell.stdout).toBe(`${statement.sha256}  -\n`);

      const file = join(bundle, "records.ndjson");
      const lines = readFileSync(file, "utf8").split("\n");
      lines[99] = lines[99]!.replace(/"duration_ms":\d+/, '"duration_ms":1');
      writeFileSync(file, lines.join("\n"));
      const altered = slo(["verify", "--bundle", "bundle"], dir);
      expect(altered.code).toBe(1);
      expect(altered.stderr).toContain("altered: records.ndjson:100: ");
      expect(spawnSync("python3", ["-c", python], { cwd: bundle, encoding: "utf8" }).stderr).toContain(
        "records.ndjson:100: content does not match its hash",
      );

      rmSync(join(bundle, "statement.json"));
      const unreadable = slo(["verify", "--bundle", "bundle"], dir);
      expect(unreadable.code).toBe(2);
      expect(unreadable.stderr).toContain("statement.json: cannot read it (ENOENT)");
    },
    SLOW,
  );
});
