import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ProberThread } from "../../src/agent/prober-thread.js";
import type { Clock, TimerHandle } from "../../src/clock/clock.js";
import { systemClock } from "../../src/clock/system.js";
import type { ProbeResult } from "../../src/model/result.js";
import { Secret } from "../../src/model/secret.js";
import { createTargetDispatcher, runProbe, StallWatch } from "../../src/probes/index.js";
import { automaticReasonOf, ControlTimeline } from "../../src/slo/index.js";
import { startProcess } from "../export/live-processes.js";
import { httpServer, httpSpec, type Loopback, target } from "./loopback.js";

/** Blocks this thread, as a long synchronous task or a full GC would. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

let api: Loopback;
beforeAll(async () => {
  api = await httpServer({
    "/ok": (_req, res) => res.writeHead(200).end("{}"),
    "/later": (_req, res) => void setTimeout(() => res.writeHead(200).end("{}"), 100),
    "/never": () => {},
  });
});
afterAll(() => api.close());

async function probeWith(watch: StallWatch, path: string, during: () => void, timeoutMs = 5_000) {
  const t = target(api.origin);
  const dispatcher = createTargetDispatcher(t, { clock: systemClock });
  try {
    const running = runProbe({
      spec: httpSpec(path, { timeoutMs }),
      target: t,
      dispatcher,
      clock: systemClock,
      stalls: watch,
    });
    setTimeout(during, 20);
    return (await running).result;
  } finally {
    await dispatcher.destroy();
  }
}

const excludedAs = (r: ProbeResult) => automaticReasonOf(r, new ControlTimeline([]));

describe("the stall guard (agent.max_stall_ms)", { timeout: 60_000 }, () => {
  it("a StallWatch finds a blocked loop's lateness inside a span and not outside it", async () => {
    const watch = new StallWatch({ clock: systemClock, maxStallMs: 50 }).start();
    try {
      await new Promise((r) => setTimeout(r, 50));
      const before = performance.now();
      block(300);
      const after = performance.now();
      await new Promise((r) => setTimeout(r, 50));
      expect(watch.lateWithin(before, after)).toBeGreaterThan(200);
      expect(watch.lateWithin(after + 1_000, after + 2_000)).toBe(0);
    } finally {
      watch.stop();
    }
  });

  it("a success whose timing overlapped a stall is agent_error, excluded, never the provider's latency", async () => {
    const watch = new StallWatch({ clock: systemClock, maxStallMs: 50 }).start();
    try {
      const result = await probeWith(watch, "/later", () => block(400));
      expect(result.status).toBe(200);
      expect(result.flags).toContain("agent_error");
      expect(result.detail).toMatch(/agent stall of \d+ ms/);
      expect(excludedAs(result)).toBe("agent_error");
    } finally {
      watch.stop();
    }
  });

  it("a timeout caused by a stall is agent_error, not a provider failure", async () => {
    const watch = new StallWatch({ clock: systemClock, maxStallMs: 50 }).start();
    try {
      const result = await probeWith(watch, "/never", () => block(600), 300);
      expect(result.error).toBe("timeout");
      expect(result.flags).toContain("agent_error");
      expect(excludedAs(result)).toBe("agent_error");
    } finally {
      watch.stop();
    }
  });

  it("a genuine timeout with a short stall in the middle stays the provider's: the stall was over before the deadline", async () => {
    const watch = new StallWatch({ clock: systemClock, maxStallMs: 50 }).start();
    try {
      // A 150 ms stall from 20 ms on, over long before the 1 s deadline: an answer arriving in it
      // would have been read right after it; the target stayed silent for the whole timeout.
      const result = await probeWith(watch, "/never", () => block(150), 1_000);
      expect(result.error).toBe("timeout");
      expect(result.flags ?? []).not.toContain("agent_error");
      expect(excludedAs(result)).toBeNull();
    } finally {
      watch.stop();
    }
  });

  it("a stall shorter than max_stall_ms changes nothing", async () => {
    const watch = new StallWatch({ clock: systemClock, maxStallMs: 5_000 }).start();
    try {
      const result = await probeWith(watch, "/later", () => block(200));
      expect(result.status).toBe(200);
      expect(result.flags ?? []).not.toContain("agent_error");
    } finally {
      watch.stop();
    }
  });
});

/** A clock whose timers run only when the test says the loop got to them: a blocked loop, exactly. */
class LoopClock implements Clock {
  mono = 0;
  busy = 0;
  #due: (() => void) | null = null;
  now = () => this.mono;
  monotonic = () => this.mono;
  setTimeout(callback: () => void): TimerHandle {
    this.#due = callback;
    return { cancel: () => (this.#due = null) };
  }
  /** The loop ran the tick at `at`, having been busy `busyMs` since the last one. */
  tickAt(at: number, busyMs = 0): void {
    this.mono = at;
    this.busy += busyMs;
    const due = this.#due;
    this.#due = null;
    due?.();
  }
}

/**
 * Four 20 ms blocks, each beginning 1 ms after an on-time tick, so the next tick (due 10 ms after
 * the last) runs only 11 ms late: from 0 to 124 ms.
 */
function fourBlocks(clock: LoopClock): void {
  for (let start = 0; start < 124; start += 31) {
    clock.tickAt(start + 10);
    clock.tickAt(start + 31, 20);
  }
}

describe("the stall watch's arithmetic (deterministic)", () => {
  const watchOn = (clock: LoopClock, withBusy: boolean) =>
    new StallWatch({
      clock,
      maxStallMs: 50,
      ...(withBusy ? { loopActiveMs: () => clock.busy } : {}),
    }).start();

  it("sums four 20 ms blocks that each made a tick only 11 ms late, sized by the loop's busy time", () => {
    const clock = new LoopClock();
    const watch = watchOn(clock, true);
    fourBlocks(clock);
    expect(watch.lateWithin(0, 124)).toBeCloseTo(80, 5);
    expect(watch.lateWithin(0, 124)).toBeGreaterThan(watch.maxStallMs);
  });

  it("without a busy meter a stall is the tick's lateness: the same blocks sum to 44 ms", () => {
    const clock = new LoopClock();
    const watch = watchOn(clock, false);
    fourBlocks(clock);
    expect(watch.lateWithin(0, 124)).toBeCloseTo(44, 5);
  });

  it("a thread not scheduled while idle is late by the lateness alone; busy time never sizes a stall past one tick more", () => {
    const clock = new LoopClock();
    const watch = watchOn(clock, true);
    clock.tickAt(25, 0); // 15 ms late, the loop idle: the host did not run it
    clock.tickAt(45, 40); // 10 ms late, "busy" 40: at most lateness + one tick
    expect(watch.lateWithin(0, 25)).toBeCloseTo(15, 5);
    expect(watch.lateWithin(25, 45)).toBeCloseTo(20, 5);
  });

  it("timer jitter under 2 ms is not summed, however long the run", () => {
    const clock = new LoopClock();
    const watch = watchOn(clock, true);
    for (let i = 1; i <= 1_000; i++) clock.tickAt(i * 11.5, 0.2);
    expect(watch.lateWithin(0, 11_500)).toBe(0);
  });

  it("lateness outside a span is not the span's", () => {
    const clock = new LoopClock();
    const watch = watchOn(clock, true);
    clock.tickAt(110, 100); // a 100 ms block from 10 to 110
    clock.tickAt(120);
    expect(watch.lateWithin(110, 120)).toBe(0);
    expect(watch.lateWithin(100, 120)).toBeCloseTo(10, 5);
  });
});

describe("the prober's own thread", { timeout: 60_000 }, () => {
  it("runs and times probes while the main thread is blocked, without the block in any duration; secrets cross intact", async () => {
    // The target in a process of its own: blocking this thread must not delay it.
    const script = `require("node:http").createServer((q, s) => { s.writeHead(q.headers.authorization === "Bearer tok-cross-thread-9" ? 200 : 401); s.end("{}"); })
      .listen(0, "127.0.0.1", function () { console.log("port " + this.address().port); });`;
    const server = startProcess(process.execPath, ["-e", script], process.cwd());
    try {
      const port = (await server.waitFor(/port (\d+)/, 30_000))[1];
      const t = target(`http://127.0.0.1:${port}`, {
        auth: { type: "bearer", token: new Secret("tok-cross-thread-9") },
      });
      const results: ProbeResult[] = [];
      const prober = new ProberThread({
        config: { targets: new Map([[t.id, t]]) },
        probes: [httpSpec("/ok", { schedule: { kind: "every", intervalMs: 1_000 } })],
        controls: [],
        sink: { record: (r) => results.push(r) },
        maxStallMs: 50,
        log: () => {},
        onLag: () => {},
        onLateness: () => {},
      });
      prober.start();
      let blockedFrom = 0;
      let blockedTo = 0;
      try {
        // Let the thread load its modules and run once, then block this thread for 3.5 s.
        await vi.waitFor(() => expect(results.length).toBeGreaterThan(0), { timeout: 30_000 });
        blockedFrom = Date.now();
        block(3_500);
        blockedTo = Date.now();
        await new Promise((r) => setTimeout(r, 1_500));
      } finally {
        await prober.stop();
      }
      expect(new Set(results.map((r) => r.status))).toEqual(new Set([200]));
      // Runs went on while this thread could do nothing...
      const during = results.filter((r) => r.ts >= blockedFrom && r.ts < blockedTo);
      expect(during.length).toBeGreaterThanOrEqual(2);
      // ... and none holds the block: 3.5 s of this thread's time is in no duration.
      for (const r of during) expect(r.durationMs < 1_000 || r.flags?.includes("agent_error")).toBe(true);
      expect(prober.coverage()[0]?.performed).toBeGreaterThan(0);
    } finally {
      await server.stop();
    }
  });
});
