import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";

/** A store whose checkpoints need a key that is gone: every command says so, and none mints a new key. */

const SLOW = 180_000;
const HOUR = 3_600_000;
let dir: string;
let keyId: string;

function hourly(from: number, to: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = from; t < to; t += HOUR) {
    out.push({
      ts: t,
      probe: "payment-request-read",
      category: "payment_request",
      status: 200,
      durationMs: 100,
      error: null,
      errorCode: null,
      correlationId: null,
    });
  }
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "slo-keys-"));
  writeFileSync(join(dir, "slo.yaml"), sloYaml("./data"));
  const store = openEvidenceStore({ dataDir: join(dir, "data"), clock: new FakeClock(Date.UTC(2026, 3, 3)) });
  store.importResults(hourly(Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 2)));
  keyId = store.signingKey()!.keyId;
  store.close();
  rmSync(join(dir, "data", "agent-signing-key.pem"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a missing signing key", () => {
  it(
    "is exit 1 naming the key id for verify, verify --month, report and export, and no key is created",
    () => {
      const runs = [
        slo(["verify", "--data-dir", "data"], dir),
        slo(["verify", "--data-dir", "data", "--month", "2026-03"], dir),
        slo(["report", "--month", "2026-03", "--config", "slo.yaml", "--format", "json"], dir),
        slo(["evidence", "export", "--month", "2026-03", "--out", "bundle", "--config", "slo.yaml"], dir),
      ];
      for (const run of runs) {
        expect(run.code, run.stderr).toBe(1);
        expect(run.stderr).toContain(`the signing key ${keyId} that the checkpoints need is missing`);
      }
      expect(existsSync(join(dir, "data", "agent-signing-key.pem"))).toBe(false);
    },
    SLOW,
  );

  it(
    "import stores nothing and exits 1 naming the key id: its records would stay unsigned",
    () => {
      const count = () => {
        const db = new Database(join(dir, "data", "evidence.sqlite"), { readonly: true });
        try {
          return db.prepare("SELECT count(*) FROM results").pluck().get() as number;
        } finally {
          db.close();
        }
      };
      const before = count();
      writeFileSync(
        join(dir, "late.ndjson"),
        '{"ts":"2026-03-03T12:00:01.000Z","probe":"payment-request-read","category":"payment_request","status":200,"duration_ms":50,"error":null,"error_code":null,"correlation_id":null}\n',
      );
      const run = slo(["import", "late.ndjson", "--config", "slo.yaml"], dir);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain("slo-agent import: nothing stored");
      expect(run.stderr).toContain(keyId);
      expect(count()).toBe(before);
      expect(existsSync(join(dir, "data", "agent-signing-key.pem"))).toBe(false);
    },
    SLOW,
  );

  it("a writer store does not mint one either: it refuses to sign, naming the key", () => {
    const logs: string[] = [];
    const store = openEvidenceStore({
      dataDir: join(dir, "data"),
      clock: new FakeClock(Date.UTC(2026, 3, 4)),
      logger: (line) => logs.push(line),
    });
    store.importResults(hourly(Date.UTC(2026, 3, 2), Date.UTC(2026, 3, 3)));
    store.close();
    expect(existsSync(join(dir, "data", "agent-signing-key.pem"))).toBe(false);
    expect(logs.join("\n")).toContain(keyId);
  });
});
