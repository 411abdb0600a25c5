import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { createRng } from "../../src/sim/rng.js";
import { httpServer, json, type Loopback } from "../probes/loopback.js";
import { runCli, sleep, spawnAgent, writeLoopbackConfig } from "./support.js";

/**
 * kill -9 of the full daemon at random moments while it probes a fast loopback target.
 *
 * "Acknowledged" means committed: a result is acknowledged once its write transaction has
 * committed, i.e. once another process reading the SQLite file sees it (the store writes in
 * batches; a result still in the batch buffer has not been acknowledged to anyone, and the time
 * after the crashed run's last stored result is unmonitored). Just before each
 * kill the test reads every committed (ts, probe, hash) from the file; after the kill every one
 * of them must still be there with the same hash, `slo-agent verify` must pass, and the next
 * daemon must start on the same data directory.
 */
const ROUNDS = 30;
const SEED = 0x12b0009;
const PROBES = 40;

let api: Loopback;
let dir: string;
beforeAll(async () => {
  api = await httpServer({ "/ok": (_req, res) => json(res, 200, { status: "AUTHORIZED" }) });
  dir = mkdtempSync(join(tmpdir(), "slo-kill9-"));
  const probes = Array.from(
    { length: PROBES },
    (_, i) =>
      `  - {id: p${i}, category: payment_request, target: api, every: 1s, path: /ok, timeout_ms: 2000}`,
  );
  writeLoopbackConfig(dir, [`  api: {base_url: "${api.origin}", environment: simulator}`], probes);
});
afterAll(async () => {
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every committed result in the store file, as "ts probe" -> hex hash (empty when there is no file yet). */
function committed(): Map<string, string> {
  let db: Database.Database;
  try {
    db = new Database(join(dir, "evidence", "evidence.sqlite"), { readonly: true, fileMustExist: true });
  } catch {
    return new Map();
  }
  try {
    const rows = db.prepare("SELECT ts, probe, hex(hash) AS hash FROM results").all() as {
      ts: number;
      probe: string;
      hash: string;
    }[];
    return new Map(rows.map((r) => [`${r.ts} ${r.probe}`, r.hash]));
  } catch {
    return new Map(); // the schema is not there yet: nothing committed
  } finally {
    db.close();
  }
}

async function verifyCli(records: number, round: number): Promise<void> {
  const verify = await runCli(["verify", "--data-dir", "evidence"], { cwd: dir, timeoutMs: 60_000 });
  expect(verify.code, `round ${round}: ${verify.stdout}${verify.stderr}`).toBe(0);
  expect(verify.stdout).toMatch(new RegExp(`^ok: ${records} records verified`));
}

describe("kill -9 of the daemon while probing", () => {
  it(`${ROUNDS} rounds: no committed result lost, verify passes, the daemon restarts (seed ${SEED})`, {
    timeout: 600_000,
  }, async () => {
    const rng = createRng(SEED);
    const log: string[] = [];
    let acknowledgedTotal = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const agent = spawnAgent(["run", "--config", "slo.yaml", "--listen", "127.0.0.1:0"], { cwd: dir });
      // One round in five is killed during start-up (store open, replay); the rest while probing.
      const duringStart = rng.chance(0.2);
      if (duringStart) await sleep(Math.floor(rng.next() * 600));
      else {
        await agent.listening(90_000);
        // Probing: once this run has committed something (however slow the box), a random moment.
        const deadline = Date.now() + 60_000;
        while (committed().size <= acknowledgedTotal && Date.now() < deadline) await sleep(50);
        await sleep(Math.floor(rng.next() * 1_000));
      }
      const acknowledged = committed();
      agent.child.kill("SIGKILL");
      const { signal } = await agent.exited;
      expect(signal, `round ${round}: ${agent.output().stderr}`).toBe("SIGKILL");
      expect(agent.output().stderr, `round ${round}`).not.toMatch(/\n\s+at /);

      const after = committed();
      const lost = [...acknowledged].filter(([key, hash]) => after.get(key) !== hash).map(([key]) => key);
      expect(lost, `round ${round} (seed ${SEED}): committed before the kill, missing after`).toEqual([]);
      if (after.size > 0) {
        // What `slo-agent verify` runs, in-process each round (a CLI process costs a CPU-second);
        // the real command runs every tenth round and at the end.
        const store = openEvidenceStore({
          dataDir: join(dir, "evidence"),
          clock: systemClock,
          readOnly: true,
        });
        try {
          expect(store.verify(), `round ${round}`).toMatchObject({ ok: true, records: after.size });
        } finally {
          store.close();
        }
        if (round % 10 === 9) await verifyCli(after.size, round);
      }
      acknowledgedTotal = after.size;
      log.push(`${round}:${duringStart ? "start" : "probing"}:${acknowledged.size}`);
    }
    await verifyCli(acknowledgedTotal, ROUNDS);
    // The rounds probed: the store grew well beyond a handful of results.
    expect(acknowledgedTotal).toBeGreaterThan(ROUNDS);
    console.log(
      `kill -9 (seed ${SEED}): ${ROUNDS} rounds, ${acknowledgedTotal} results committed, none lost; ${log.join(" ")}`,
    );
  });
});
