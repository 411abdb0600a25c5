import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpServer, json, type Loopback } from "../probes/loopback.js";
import { sleep, spawnAgent, writeLoopbackConfig } from "./support.js";

/**
 * `/metrics` request counters count what the evidence store has committed: a scrape never holds a
 * request that a kill -9 right after it leaves out of the store (and so out of every report).
 */
const ROUNDS = 6;
const PROBES = 40;

let api: Loopback;
const dirs: string[] = [];
beforeAll(async () => {
  api = await httpServer({ "/ok": (_req, res) => json(res, 200, { status: "AUTHORIZED" }) });
});
afterAll(async () => {
  await api?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function storedRequests(dir: string): number {
  const db = new Database(join(dir, "evidence", "evidence.sqlite"), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM results").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function countedRequests(exposition: string): number {
  let total = 0;
  for (const line of exposition.split("\n")) {
    if (line.startsWith("slo_probe_requests_total{")) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

describe("/metrics counters and the evidence store", () => {
  it(`${ROUNDS} kills right after a scrape: the scrape counted no request the store does not hold`, {
    timeout: 600_000,
  }, async () => {
    const probes = Array.from(
      { length: PROBES },
      (_, i) =>
        `  - {id: p${i}, category: payment_request, target: api, every: 1s, path: /ok, timeout_ms: 2000}`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(tmpdir(), "slo-counted-"));
      dirs.push(dir);
      writeLoopbackConfig(dir, [`  api: {base_url: "${api.origin}", environment: simulator}`], probes);
      const agent = spawnAgent(["run", "--config", "slo.yaml"], { cwd: dir });
      const url = await agent.listening(60_000);
      await sleep(2_000 + round * 300);
      const scraped = await (await fetch(`${url}/metrics`)).text();
      agent.child.kill("SIGKILL");
      await agent.exited;
      const counted = countedRequests(scraped);
      const stored = storedRequests(dir);
      expect(counted, `round ${round}`).toBeGreaterThan(0);
      expect(counted, `round ${round}: counted ${counted}, stored ${stored}`).toBeLessThanOrEqual(stored);
    }
  });
});
