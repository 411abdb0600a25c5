import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import type { ProbeResult } from "../../src/model/result.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { httpServer, json, type Loopback } from "../probes/loopback.js";
import { runCli, sleep, spawnAgent, writeLoopbackConfig } from "./support.js";

/**
 * Disk full and an unwritable store under the full daemon: its data directory is a small tmpfs
 * (`mount -t tmpfs -o size=8m`, which needs root: without the right to mount, the case is skipped
 * and says so; test/record/store.test.ts covers the store's side through its size cap). The test
 * fills the tmpfs to the last byte and frees it; then another connection holds the write lock
 * (a read-only remount is refused while the agent has the file open, and root ignores file
 * modes, so a held lock is how the store becomes unwritable under a running agent). The agent must keep probing and serving /metrics, report the store unhealthy while it is, write
 * everything it buffered once it can, drop nothing, and leave a chain that verify accepts.
 */
const PROBES = 5;
const TROUBLE_MS = 4_000;

const dir = mkdtempSync(join(tmpdir(), "slo-disk-full-"));
const mountPoint = join(dir, "evidence");
mkdirSync(mountPoint);
const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mountPoint]).status === 0;
if (!mounted)
  console.log("disk-full: cannot mount a tmpfs here (not root?); the full-daemon case is skipped");

interface Trouble {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

describe.skipIf(!mounted)("the daemon on a full disk, then on a store another writer holds", () => {
  let api: Loopback;
  const troubles: Trouble[] = [];
  const health: string[] = [];
  let stderr = "";
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  let lastCounted = 0;
  const results = new Map<string, ProbeResult[]>();
  let verify: { code: number | null; stdout: string; stderr: string };

  /** slo_agent_store_healthy and the sum of slo_probe_requests_total from one scrape. */
  async function scrape(url: string): Promise<{ healthy: string; requests: number }> {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const healthy = /^slo_agent_store_healthy(?:\{[^}]*\})? (\S+)/m.exec(text)?.[1] ?? "absent";
    const requests = [...text.matchAll(/^slo_probe_requests_total\{[^}]*\} (\S+)/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
    return { healthy, requests };
  }

  beforeAll(async () => {
    api = await httpServer({ "/ok": (_req, res) => json(res, 200, { status: "AUTHORIZED" }) });
    const probes = Array.from(
      { length: PROBES },
      (_, i) =>
        `  - {id: p${i}, category: payment_request, target: api, every: 1s, path: /ok, timeout_ms: 2000}`,
    );
    writeLoopbackConfig(dir, [`  api: {base_url: "${api.origin}", environment: simulator}`], probes);
    const agent = spawnAgent(["run", "--config", "slo.yaml", "--listen", "127.0.0.1:0"], { cwd: dir });
    try {
      const url = await agent.listening(90_000);
      await sleep(2_000);
      /** Waits (bounded) until /metrics says the store is `wanted` ("0" or "1"); returns what it said last. */
      const healthBecomes = async (wanted: string, withinMs: number) => {
        const deadline = Date.now() + withinMs;
        let said = (await scrape(url)).healthy;
        while (said !== wanted && Date.now() < deadline) {
          await sleep(500);
          said = (await scrape(url)).healthy;
        }
        return said;
      };
      const during = async (name: string, begin: () => void, finish: () => void) => {
        const start = Date.now();
        begin();
        // The health gauge is refreshed every few seconds: the trouble lasts until it shows.
        await sleep(TROUBLE_MS);
        health.push(`${name}: ${await healthBecomes("0", 30_000)}`);
        finish();
        troubles.push({ name, start, end: Date.now() });
        health.push(`after ${name}: ${await healthBecomes("1", 90_000)}`);
      };
      // Fill every free byte: dd stops at ENOSPC.
      const filler = join(mountPoint, "filler");
      await during(
        "disk full",
        () => spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"], { stdio: "ignore" }),
        () => rmSync(filler),
      );
      // Unwritable: another writer (a backup tool, a stuck import) holds the write lock.
      let holder: Database.Database | null = null;
      await during(
        "locked by another writer",
        () => {
          holder = new Database(join(mountPoint, "evidence.sqlite"));
          holder.exec("BEGIN IMMEDIATE");
        },
        () => {
          holder?.exec("ROLLBACK");
          holder?.close();
        },
      );
      lastCounted = (await scrape(url)).requests;
    } finally {
      agent.child.kill("SIGTERM");
      exit = await agent.exited;
      stderr = agent.output().stderr;
    }
    const store = openEvidenceStore({ dataDir: mountPoint, clock: systemClock, readOnly: true });
    try {
      for (const r of store.results({ from: 0, to: Date.now() + 1 })) {
        results.set(r.probe, [...(results.get(r.probe) ?? []), r]);
      }
    } finally {
      store.close();
    }
    verify = await runCli(["verify", "--data-dir", "evidence"], { cwd: dir });
  }, 180_000);

  afterAll(async () => {
    await api?.close();
    spawnSync("umount", ["-l", mountPoint]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("says the store is unhealthy while it is, and healthy again after", () => {
    expect(health).toEqual([
      "disk full: 0",
      "after disk full: 1",
      "locked by another writer: 0",
      "after locked by another writer: 1",
    ]);
    expect(stderr).toMatch(/evidence store unwritable \(SQLITE_FULL/);
    expect(stderr).toMatch(/evidence store unwritable \(SQLITE_BUSY/);
    expect(stderr).toMatch(/"msg":"evidence store writable again: wrote \d+ buffered results"/);
    expect(stderr).not.toMatch(/dropped|dropping/);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it("stores every result, those of the trouble included: no gap", () => {
    const stored = [...results.values()].reduce((n, r) => n + r.length, 0);
    expect(stored).toBeGreaterThanOrEqual(lastCounted);
    for (const trouble of troubles) {
      for (let i = 0; i < PROBES; i++) {
        const inside = (results.get(`p${i}`) ?? []).filter(
          (r) => r.ts >= trouble.start && r.ts < trouble.end,
        );
        expect(inside.length, `p${i} during ${trouble.name}`).toBeGreaterThanOrEqual(2);
      }
    }
    console.log(
      `disk full: ${stored} results stored (>= ${lastCounted} counted on /metrics before stopping), ${troubles.map((t) => `${t.name} ${t.end - t.start} ms`).join(", ")}`,
    );
  });

  it("leaves a chain that verify accepts", () => {
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
