import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import type { ProbeResult } from "../../src/model/result.js";
import { createTargetDispatcher, runProbe, type StallGuard, StallWatch } from "../../src/probes/index.js";
import { automaticReasonOf, ControlTimeline } from "../../src/slo/index.js";
import { httpServer, httpSpec, type Loopback, target } from "./loopback.js";

/**
 * The agent's own delay is never the provider's latency, however it is made up (contract section
 * 14, agent.max_stall_ms 50 here): several short blocks of the prober's loop, each under the limit,
 * or time before the request was even written. The blocks are real busy-waits on the thread the
 * probes are timed on; the tests assert how deliberately delayed runs are classified, never how
 * fast anything was, so a loaded machine cannot fail them.
 */

/** Blocks this thread, as a long synchronous task, a GC or a host not scheduling it would. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

const loopActiveMs = () => performance.eventLoopUtilization().active;
const excludedAs = (r: ProbeResult) => automaticReasonOf(r, new ControlTimeline([]));
/** A guard that sees no stall at all: what is left is the phase rule alone. */
const blindGuard: StallGuard = { maxStallMs: 50, lateWithin: () => 0, stalledBefore: () => 0 };

let api: Loopback;
beforeAll(async () => {
  api = await httpServer({
    "/ok": (_req, res) => res.writeHead(200).end("{}"),
    "/later": (_req, res) => void setTimeout(() => res.writeHead(200).end("{}"), 200),
  });
});
afterAll(() => api.close());

/** Runs `paths` in turn on one dispatcher (the second and later reuse its connection). */
async function probe(stalls: StallGuard, paths: readonly string[]): Promise<ProbeResult[]> {
  const t = target(api.origin);
  const dispatcher = createTargetDispatcher(t, { clock: systemClock });
  const results: ProbeResult[] = [];
  try {
    for (const path of paths) {
      const run = { spec: httpSpec(path), target: t, dispatcher, clock: systemClock, stalls };
      results.push((await runProbe(run)).result);
    }
    return results;
  } finally {
    await dispatcher.destroy();
  }
}

/** Busy-waits of `ms` each time `channel` publishes while `on` is true (undici's own request path). */
function blockOn(channel: string, ms: number, on: () => boolean): () => void {
  const onMessage = () => {
    if (on()) block(ms);
  };
  subscribe(channel, onMessage);
  return () => unsubscribe(channel, onMessage);
}

async function withWatch<T>(use: (watch: StallWatch) => Promise<T>): Promise<T> {
  const watch = new StallWatch({ clock: systemClock, maxStallMs: 50, loopActiveMs }).start();
  try {
    await new Promise((r) => setTimeout(r, 30));
    return await use(watch);
  } finally {
    watch.stop();
  }
}

describe("the agent's delay made of short blocks (agent.max_stall_ms 50)", { timeout: 60_000 }, () => {
  it("four 25 ms blocks of the prober's loop while a response is awaited make the result agent_error", async () => {
    const result = await withWatch(async (watch) => {
      // Each block is half the limit, so no single stall exceeds it; together they are twice it.
      const timers = [20, 60, 100, 140].map((at) => setTimeout(() => block(25), at));
      try {
        return (await probe(watch, ["/later"]))[0]!;
      } finally {
        for (const t of timers) clearTimeout(t);
      }
    });
    expect(result.status).toBe(200);
    expect(result.flags).toContain("agent_error");
    expect(result.detail).toMatch(/^agent stall of \d+ ms during the measurement$/);
    expect(excludedAs(result)).toBe("agent_error");
  });

  it("three 20 ms blocks before a fresh connection's request is written make it agent_error, even unseen by the watch", async () => {
    let armed = true;
    // Before connecting, once connected, and as the request is made: all before it is written.
    const undo = [
      blockOn("undici:client:beforeConnect", 20, () => armed),
      blockOn("undici:client:connected", 20, () => armed),
      blockOn("undici:request:create", 20, () => armed),
    ];
    try {
      const [blind] = await probe(blindGuard, ["/ok"]);
      const [watched] = await withWatch((watch) => probe(watch, ["/ok"]));
      for (const result of [blind!, watched!]) {
        expect(result.status).toBe(200);
        expect(result.flags).toContain("agent_error");
        expect(excludedAs(result)).toBe("agent_error");
      }
      expect(blind!.detail).toMatch(/^agent delay of \d+ ms before the request was written$/);
    } finally {
      armed = false;
      for (const u of undo) u();
    }
  });

  it("a 60 ms delay before the request is written on a reused connection is the agent's, not the target's", async () => {
    const undo = blockOn("undici:request:create", 60, () => true);
    try {
      // undici reuses a connection from about the third run on; the ones without a connection phase reused one.
      const reused = (await probe(blindGuard, ["/ok", "/ok", "/ok", "/ok"])).filter(
        (r) => r.phases?.connectMs === null,
      );
      expect(reused.length).toBeGreaterThan(0);
      for (const result of reused) {
        expect(result.status).toBe(200);
        expect(result.flags).toContain("agent_error");
        expect(result.detail).toMatch(/^agent delay of \d+ ms before the request was written$/);
      }
    } finally {
      undo();
    }
  });

  it("quiet runs stay unflagged: no run is flagged for lateness outside its own timing", async () => {
    const results = await withWatch(async (watch) => {
      // Lateness before the runs (a block between them) belongs to no run.
      block(80);
      const first = await probe(watch, ["/ok", "/ok", "/ok"]);
      block(80);
      return [...first, ...(await probe(watch, ["/ok", "/ok", "/ok"]))];
    });
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    // A run of under 50 ms in all cannot hold 50 ms of the agent's delay, however loaded the host.
    for (const r of results.filter((r) => r.durationMs < 50))
      expect(r.flags ?? []).not.toContain("agent_error");
    expect(results.some((r) => r.durationMs < 50)).toBe(true);
  });

  it("a watch asleep between runs (the prober's) sees no stall outside a run, and the same blocks inside one", async () => {
    const lags: number[] = [];
    const watch = new StallWatch({
      clock: systemClock,
      maxStallMs: 50,
      loopActiveMs,
      onLag: (ms) => lags.push(ms),
      betweenRunsAsleep: true,
    }).start();
    try {
      // No run in flight: the watch does not tick, so this block is nobody's stall.
      block(80);
      await new Promise((r) => setTimeout(r, 30));
      expect(lags).toEqual([]);
      expect(watch.lateWithin(0, performance.now())).toBe(0);
      // During a run it ticks: four 25 ms blocks while the response is awaited, as above.
      const timers = [20, 60, 100, 140].map((at) => setTimeout(() => block(25), at));
      let result: ProbeResult;
      try {
        result = (await probe(watch, ["/later"]))[0]!;
      } finally {
        for (const t of timers) clearTimeout(t);
      }
      expect(result.status).toBe(200);
      expect(result.flags).toContain("agent_error");
      expect(result.detail).toMatch(/^agent stall of \d+ ms during the measurement$/);
      expect(lags.length).toBeGreaterThan(0);
      // Asleep again after the run: another block between runs is not seen.
      const seen = lags.length;
      block(80);
      await new Promise((r) => setTimeout(r, 30));
      expect(lags).toHaveLength(seen);
    } finally {
      watch.stop();
    }
  });
});
