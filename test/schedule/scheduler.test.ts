import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import type { ProbeSpec } from "../../src/model/config.js";
import { type RunDisposition, Scheduler } from "../../src/schedule/index.js";
import { probeSpec } from "./specs.js";

const T0 = Date.UTC(2026, 9, 1, 0, 0, 0);

/** Lets promise callbacks run between fake-clock steps. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function advance(clock: FakeClock, ms: number, stepMs = 250): Promise<void> {
  for (let done = 0; done < ms; done += stepMs) {
    clock.advance(Math.min(stepMs, ms - done));
    await settle();
  }
}

/** stop() waits for running probes, whose fake work needs fake time to pass. */
async function stopAndDrain(scheduler: Scheduler, clock: FakeClock): Promise<void> {
  const stopping = scheduler.stop();
  await advance(clock, 60_000, 1_000);
  await stopping;
}

interface Run {
  readonly probe: string;
  readonly plannedAt: number;
  readonly startedAt: number;
}

/** An execute that takes `durationMs` of fake time and records when each run started. */
function recordingExecute(clock: FakeClock, durationMs: number, disposition?: RunDisposition) {
  const runs: Run[] = [];
  const active = new Map<string, number>();
  let concurrent = 0;
  let maxConcurrent = 0;
  let maxPerProbe = 0;
  const execute = (spec: ProbeSpec, plannedAt: number) => {
    runs.push({ probe: spec.id, plannedAt, startedAt: clock.now() });
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    active.set(spec.id, (active.get(spec.id) ?? 0) + 1);
    maxPerProbe = Math.max(maxPerProbe, active.get(spec.id)!);
    return new Promise<RunDisposition | undefined>((resolve) => {
      clock.setTimeout(() => {
        concurrent--;
        active.set(spec.id, active.get(spec.id)! - 1);
        resolve(disposition);
      }, durationMs);
    });
  };
  return { execute, runs, max: () => ({ concurrent: maxConcurrent, perProbe: maxPerProbe }) };
}

describe("Scheduler", () => {
  it("spreads probes sharing an interval evenly across it by stable offsets", async () => {
    const clock = new FakeClock(T0);
    const rec = recordingExecute(clock, 10);
    const probes = ["d", "b", "a", "c"].map((id) => probeSpec(id, 60_000));
    const scheduler = new Scheduler({ clock, probes, execute: rec.execute });
    scheduler.start();
    await advance(clock, 60_000);
    await stopAndDrain(scheduler, clock);
    const firstStarts = rec.runs.filter((r) => r.startedAt < T0 + 60_000);
    expect(firstStarts.map((r) => [r.probe, r.startedAt - T0])).toEqual([
      ["a", 0],
      ["b", 15_000],
      ["c", 30_000],
      ["d", 45_000],
    ]);
    expect(["a", "b", "c", "d"].map((id) => scheduler.offsetOf(id))).toEqual([0, 15_000, 30_000, 45_000]);
  });

  it("spreads each interval group on its own and keeps offsets when the probe order changes", () => {
    const clock = new FakeClock(T0);
    const probes = [probeSpec("x", 30_000), probeSpec("y", 30_000), probeSpec("z", 10_000)];
    const one = new Scheduler({ clock, probes, execute: async () => {} });
    const two = new Scheduler({ clock, probes: [...probes].reverse(), execute: async () => {} });
    for (const s of [one, two]) {
      expect([s.offsetOf("x"), s.offsetOf("y"), s.offsetOf("z")]).toEqual([0, 15_000, 0]);
    }
  });

  it("never runs one probe twice at once: a run due while the last one is going is skipped and counted", async () => {
    const clock = new FakeClock(T0);
    const rec = recordingExecute(clock, 15_000);
    const scheduler = new Scheduler({ clock, probes: [probeSpec("slow", 10_000)], execute: rec.execute });
    scheduler.start();
    await advance(clock, 99_000);
    await advance(clock, 20_000); // let the last run finish; slots at 100s and 110s come due too
    await stopAndDrain(scheduler, clock);
    const [stats] = scheduler.stats();
    expect(rec.max().perProbe).toBe(1);
    // Due at 0,10,...,110 s: runs start at 0, 20, 40, 60, 80, 100 s; the slots between are skipped.
    expect(stats).toMatchObject({ expected: 12, performed: 6, skippedOverlap: 6 });
    expect(rec.runs.map((r) => r.startedAt - T0)).toEqual([0, 20_000, 40_000, 60_000, 80_000, 100_000]);
  });

  it("keeps running when the wall clock steps back under it (NTP, or by hand): the plan is taken up from the new time", async () => {
    const clock = new FakeClock(T0);
    const rec = recordingExecute(clock, 10);
    const scheduler = new Scheduler({ clock, probes: [probeSpec("p", 1_000)], execute: rec.execute });
    scheduler.start();
    await advance(clock, 3_000);
    const before = rec.runs.length;
    clock.stepWallClock(-30 * 86_400_000);
    await advance(clock, 5_000);
    await stopAndDrain(scheduler, clock);
    // A run a second on, not a month's silence until the clock is back where it was.
    expect(rec.runs.length - before).toBeGreaterThanOrEqual(4);
    const after = rec.runs.slice(before);
    for (const run of after) expect(run.startedAt).toBeLessThan(T0);
  });

  it("moves changes() whenever stats or coverage change, and only then (the prober thread sends its accounting on it)", async () => {
    const clock = new FakeClock(T0);
    const rec = recordingExecute(clock, 1_000);
    const probes = [probeSpec("a", 10_000), probeSpec("b", 4_000)];
    const scheduler = new Scheduler({ clock, probes, execute: rec.execute, maxConcurrent: 1 });
    const accounting = () => JSON.stringify([scheduler.stats(), scheduler.coverage()]);
    scheduler.start();
    let seen = { changes: scheduler.changes(), accounting: accounting() };
    let moved = 0;
    let still = 0;
    for (let step = 0; step < 240; step++) {
      if (step === 120) scheduler.reconcile([probeSpec("a", 10_000)], (x, y) => x.id === y.id);
      await advance(clock, 250);
      const now = { changes: scheduler.changes(), accounting: accounting() };
      if (now.changes === seen.changes) {
        still++;
        expect(now.accounting, `step ${step}: accounting changed, changes() did not`).toBe(seen.accounting);
      } else moved++;
      seen = now;
    }
    await stopAndDrain(scheduler, clock);
    // Runs came due and ended (it moved), and most quarter-seconds nothing happened (it stood still).
    expect(moved).toBeGreaterThan(20);
    expect(still).toBeGreaterThan(120);
  });

  it("gives coverage as performed over expected runs", async () => {
    const clock = new FakeClock(T0);
    const rec = recordingExecute(clock, 15_000);
    const scheduler = new Scheduler({ clock, probes: [probeSpec("slow", 10_000)], execute: rec.execute });
    scheduler.start();
    await advance(clock, 119_000);
    await advance(clock, 16_000);
    await stopAndDrain(scheduler, clock);
    const [coverage] = scheduler.coverage();
    expect(coverage).toMatchObject({ probe: "slow", performed: 7 });
    expect(coverage!.ratio).toBeCloseTo(7 / 14, 10);
  });

  it("caps runs in flight globally; a run waiting for a slot is late and the lateness is counted", async () => {
    const clock = new FakeClock(T0);
    const rec = recordingExecute(clock, 7_000);
    const probes = [probeSpec("a", 10_000), probeSpec("b", 10_000)];
    const scheduler = new Scheduler({
      clock,
      probes,
      execute: rec.execute,
      maxConcurrent: 1,
      lateAfterMs: 500,
    });
    scheduler.start();
    await advance(clock, 9_000);
    await stopAndDrain(scheduler, clock);
    expect(rec.max().concurrent).toBe(1);
    // a runs 0-7 s; b, due at 5 s, waits for the slot and starts at 7 s.
    expect(rec.runs.map((r) => [r.probe, r.plannedAt - T0, r.startedAt - T0])).toEqual([
      ["a", 0, 0],
      ["b", 5_000, 7_000],
    ]);
    const b = scheduler.stats().find((s) => s.probe === "b")!;
    expect(b).toMatchObject({ late: 1, latenessMaxMs: 2_000, latenessTotalMs: 2_000 });
    expect(scheduler.stats().find((s) => s.probe === "a")).toMatchObject({ late: 0, latenessMaxMs: 0 });
  });

  it("skips a run that cannot get a slot before its next planned run", async () => {
    const clock = new FakeClock(T0);
    const rec = recordingExecute(clock, 25_000);
    const probes = [probeSpec("a", 10_000), probeSpec("b", 10_000)];
    const scheduler = new Scheduler({ clock, probes, execute: rec.execute, maxConcurrent: 1 });
    scheduler.start();
    await advance(clock, 24_000);
    await stopAndDrain(scheduler, clock); // waits for a (0-25 s)
    // b was due at 5 s and 15 s while a held the only slot: the 5 s run was overtaken by the 15 s one.
    const b = scheduler.stats().find((s) => s.probe === "b")!;
    expect(b).toMatchObject({ expected: 2, started: 0, skippedNoSlot: 2 });
  });

  it("counts runs the runner held back (paused) apart from performed ones", async () => {
    const clock = new FakeClock(T0);
    const rec = recordingExecute(clock, 10, "paused");
    const scheduler = new Scheduler({ clock, probes: [probeSpec("p", 10_000)], execute: rec.execute });
    scheduler.start();
    await advance(clock, 35_000);
    await stopAndDrain(scheduler, clock);
    expect(scheduler.stats()[0]).toMatchObject({ expected: 4, performed: 0, paused: 4 });
    expect(scheduler.coverage()[0]).toMatchObject({ expected: 4, performed: 0, ratio: 0 });
  });

  it("counts an execute that throws as failed to run and reports it", async () => {
    const clock = new FakeClock(T0);
    const seen: string[] = [];
    const scheduler = new Scheduler({
      clock,
      probes: [probeSpec("boom", 10_000)],
      execute: async () => {
        throw new Error("sink full");
      },
      onError: (spec, error) => seen.push(`${spec.id}: ${(error as Error).message}`),
    });
    scheduler.start();
    await advance(clock, 15_000);
    await stopAndDrain(scheduler, clock);
    expect(scheduler.stats()[0]).toMatchObject({ expected: 2, failedToRun: 2, performed: 0 });
    expect(seen).toEqual(["boom: sink full", "boom: sink full"]);
  });

  it("stop() waits for running probes and nothing fires afterwards", async () => {
    const clock = new FakeClock(T0);
    const rec = recordingExecute(clock, 5_000);
    const scheduler = new Scheduler({ clock, probes: [probeSpec("p", 10_000)], execute: rec.execute });
    scheduler.start();
    await advance(clock, 1_000);
    let stopped = false;
    const stopping = scheduler.stop().then(() => {
      stopped = true;
    });
    await advance(clock, 3_000);
    expect(stopped).toBe(false);
    await advance(clock, 2_000);
    await stopping;
    expect(stopped).toBe(true);
    await advance(clock, 60_000);
    expect(rec.runs).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it("fires cron probes at the instants the expression names", async () => {
    const start = Date.UTC(2026, 9, 1, 0, 0, 7);
    const clock = new FakeClock(start);
    const rec = recordingExecute(clock, 10);
    const probes = [probeSpec("c", { kind: "cron", expression: "*/20 * * * * *" })];
    const scheduler = new Scheduler({ clock, probes, execute: rec.execute });
    scheduler.start();
    await advance(clock, 60_000);
    await stopAndDrain(scheduler, clock);
    expect(rec.runs.map((r) => new Date(r.startedAt).toISOString())).toEqual([
      "2026-10-01T00:00:20.000Z",
      "2026-10-01T00:00:40.000Z",
      "2026-10-01T00:01:00.000Z",
    ]);
    expect(scheduler.offsetOf("c")).toBe(0);
  });
});

describe("Scheduler budgets per target", () => {
  it("36 slow probes on one target cannot take the slots of another target's probes", async () => {
    const clock = new FakeClock(T0);
    const slowRunning = { now: 0, max: 0 };
    const execute = (spec: ProbeSpec) =>
      new Promise<undefined>((resolve) => {
        const slow = spec.target === "slow";
        if (slow) slowRunning.max = Math.max(slowRunning.max, ++slowRunning.now);
        clock.setTimeout(
          () => {
            if (slow) slowRunning.now--;
            resolve(undefined);
          },
          slow ? 9_500 : 10,
        );
      });
    const slow = Array.from({ length: 36 }, (_, i) => ({
      ...probeSpec(`slow-${i}`, 10_000),
      target: "slow",
    }));
    const fast = Array.from({ length: 10 }, (_, i) => ({
      ...probeSpec(`fast-${i}`, 10_000),
      target: "fast",
    }));
    const scheduler = new Scheduler({
      clock,
      probes: [...slow, ...fast],
      execute,
      maxConcurrent: 32,
      maxInFlightOf: () => 8,
    });
    scheduler.start();
    await advance(clock, 120_000);
    const coverage = new Map(scheduler.coverage().map((c) => [c.probe, c.ratio]));
    for (const probe of fast) expect(coverage.get(probe.id), probe.id).toBe(1);
    expect(slowRunning.max).toBe(8);
    await stopAndDrain(scheduler, clock);
  });

  it("with budgets and no global cap given, 40 slow targets' 320 runs leave another target its own", async () => {
    const clock = new FakeClock(T0);
    const slowRunning = { now: 0, max: 0 };
    const execute = (spec: ProbeSpec) =>
      new Promise<undefined>((resolve) => {
        const slow = spec.target !== "fast";
        if (slow) slowRunning.max = Math.max(slowRunning.max, ++slowRunning.now);
        clock.setTimeout(
          () => {
            if (slow) slowRunning.now--;
            resolve(undefined);
          },
          slow ? 50_000 : 10,
        );
      });
    const slow = Array.from({ length: 320 }, (_, i) => ({
      ...probeSpec(`slow-${i}`, 10_000),
      target: `slow${Math.floor(i / 8)}`,
    }));
    const fast = [0, 1].map((i) => ({ ...probeSpec(`fast-${i}`, 1_000), target: "fast" }));
    const scheduler = new Scheduler({ clock, probes: [...slow, ...fast], execute, maxInFlightOf: () => 8 });
    scheduler.start();
    await advance(clock, 30_000);
    const coverage = new Map(scheduler.coverage().map((c) => [c.probe, c.ratio]));
    for (const probe of fast) expect(coverage.get(probe.id), probe.id).toBe(1);
    expect(slowRunning.max).toBe(320);
    await stopAndDrain(scheduler, clock);
  });
});
