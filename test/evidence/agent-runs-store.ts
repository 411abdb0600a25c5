import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeResult } from "../../src/model/index.js";
import { type EvidenceStore, openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";

/**
 * Agent runs written into a real store with a fake clock, as the daemon writes them, and the
 * March 2026 report's `unmonitored` read back through the built CLI (test/evidence/runs*.test.ts).
 */

export const SLOW = 180_000;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const MARCH = Date.UTC(2026, 2, 1);
export const APRIL = Date.UTC(2026, 3, 1);

const dirs: string[] = [];

/** Removes every data directory `dataDir` made (for `afterAll`). */
export function removeDataDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function ok(ts: number): ProbeResult {
  return {
    ts,
    probe: "payment-request-read",
    category: "payment_request",
    status: 200,
    durationMs: 100,
    error: null,
    errorCode: null,
    correlationId: null,
  };
}

/** A temporary directory with the month scenario's slo.yaml, its store under ./data. */
export function dataDir(prefix: string, retentionDays = 36500): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  writeFileSync(
    join(dir, "slo.yaml"),
    sloYaml("./data").replace("retention_days: 36500", `retention_days: ${retentionDays}`),
  );
  return dir;
}

export interface Run {
  start: number;
  lastResult: number;
  end: number | null;
  /** Done right after the start, before its first probe result. */
  first?: (store: EvidenceStore, clock: FakeClock) => void;
  /** Done right after its last probe result (a crashed run's last batch). */
  last?: (store: EvidenceStore, clock: FakeClock) => void;
  /** When its store is closed; default an hour into April (a past month needs a checkpoint after it). */
  closeAt?: number;
}

/** An agent run as the daemon makes it: start, probe results from start to lastResult, a clean end unless it crashed. */
export function agentRun(
  dir: string,
  run: Run,
  options: { retentionDays?: number; prune?: boolean } = {},
): void {
  const clock = new FakeClock(run.start);
  const store = openEvidenceStore({
    dataDir: join(dir, "data"),
    clock,
    logger: () => {},
    ...(options.retentionDays === undefined ? {} : { retentionDays: options.retentionDays }),
  });
  store.startRun(run.start);
  run.first?.(store, clock);
  store.flush();
  // A result every half hour and the last one at lastResult: what decides a run's extent is its
  // first and last results, and a result every 5 minutes (each batch signing a checkpoint) made
  // each of these runs cost ~3 CPU-s.
  for (
    let t = run.start;
    t <= run.lastResult;
    t = t === run.lastResult ? t + 1 : Math.min(t + 30 * MINUTE, run.lastResult)
  ) {
    clock.advance(t - clock.now());
    store.record(ok(t));
    store.flush();
  }
  run.last?.(store, clock);
  store.flush();
  if (options.prune) expect(store.prune(clock.now()).pruned).toBeGreaterThan(0);
  if (run.end !== null) {
    clock.advance(run.end - clock.now());
    store.endRun(run.end);
  }
  clock.advance(Math.max(0, (run.closeAt ?? APRIL + HOUR) - clock.now()));
  store.close();
}

export const iso = (ts: number) => new Date(ts).toISOString();

/** `slo-agent report` of March 2026, payment_request, in `dir`. */
export const report = (dir: string, format = "json") =>
  slo(
    [
      "report",
      "--month",
      "2026-03",
      "--format",
      format,
      "--config",
      "slo.yaml",
      "--category",
      "payment_request",
    ],
    dir,
  );

export function unmonitoredOf(dir: string): { start: string; end: string }[] {
  const out = report(dir);
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout).unmonitored;
}
