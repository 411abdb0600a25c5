import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpServer, json, type Loopback } from "../probes/loopback.js";
import { runCli, sleep, spawnAgent, writeLoopbackConfig } from "../reliability/support.js";

/**
 * kill -9 of the real daemon: the time after the crash is unmonitored from the agent's last stored
 * result to the next run's start, both read from signed evidence (the `run_start` and `run_end`
 * input records and the results chain), and a heartbeat raised in the unsigned runs table changes
 * nothing.
 */

let api: Loopback;
let dir: string;
beforeAll(async () => {
  api = await httpServer({ "/ok": (_req, res) => json(res, 200, { status: "AUTHORIZED" }) });
  dir = mkdtempSync(join(tmpdir(), "slo-runs-crash-"));
  writeLoopbackConfig(
    dir,
    [`  api: {base_url: "${api.origin}", environment: simulator}`],
    ["  - {id: p0, category: payment_request, target: api, every: 1s, path: /ok, timeout_ms: 2000}"],
  );
});
afterAll(async () => {
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function onStore<T>(read: (db: Database.Database) => T, readonly = true): T {
  const db = new Database(join(dir, "evidence", "evidence.sqlite"), { readonly, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const storedResults = () => {
  try {
    return onStore((db) => db.prepare("SELECT count(*) FROM results").pluck().get() as number);
  } catch {
    return 0;
  }
};

async function untilStored(count: number): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (storedResults() < count && Date.now() < deadline) await sleep(100);
  expect(storedResults()).toBeGreaterThanOrEqual(count);
}

const run = () => spawnAgent(["run", "--config", "slo.yaml", "--listen", "127.0.0.1:0"], { cwd: dir });
const iso = (ts: number) => new Date(ts).toISOString();

async function reportOf(
  month: string,
): Promise<{ unmonitored: { start: string; end: string }[]; generated_at: string }> {
  const out = await runCli(["report", "--month", month, "--format", "json", "--config", "slo.yaml"], {
    cwd: dir,
    timeoutMs: 120_000,
  });
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout);
}

describe("a real agent killed with SIGKILL", () => {
  it("the crash is unmonitored from its last stored result to the next start, from signed records only", {
    timeout: 400_000,
  }, async () => {
    const crashed = run();
    await crashed.listening(90_000);
    await untilStored(3);
    crashed.child.kill("SIGKILL");
    expect((await crashed.exited).signal).toBe("SIGKILL");
    await sleep(1_500);
    const before = storedResults();
    const clean = run();
    await clean.listening(90_000);
    await untilStored(before + 3);
    clean.child.kill("SIGTERM");
    const stopped = await clean.exited;
    expect(stopped.code, clean.output().stderr).toBe(0);

    const { starts, end, lastOfCrashed } = onStore((db) => {
      const starts = db
        .prepare("SELECT ts FROM input_records WHERE kind = 'run_start' ORDER BY seq")
        .pluck()
        .all() as number[];
      const end = db.prepare("SELECT ts FROM input_records WHERE kind = 'run_end'").pluck().all() as number[];
      const lastOfCrashed = db
        .prepare("SELECT max(ts) FROM results WHERE ts < ?")
        .pluck()
        .get(starts[1]) as number;
      return { starts, end, lastOfCrashed };
    });
    expect(starts).toHaveLength(2);
    expect(end).toHaveLength(1);
    const month = iso(starts[0]!).slice(0, 7);
    const monthStart = Date.parse(`${month}-01T00:00:00.000Z`);
    const honest = await reportOf(month);
    expect(honest.unmonitored).toEqual([
      { start: iso(monthStart), end: iso(starts[0]!) },
      { start: iso(lastOfCrashed), end: iso(starts[1]!) },
      { start: iso(end[0]!), end: honest.generated_at },
    ]);

    // The crashed run's heartbeat raised to the next start in the unsigned table: nothing changes.
    onStore((db) => {
      db.prepare("UPDATE runs SET last_heartbeat = ?, ended_at = ?, clean = 1 WHERE ended_at IS NULL").run(
        starts[1],
        starts[1],
      );
    }, false);
    const forged = await reportOf(month);
    expect(forged.unmonitored.slice(0, 2)).toEqual(honest.unmonitored.slice(0, 2));
  });
});
