import type { IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock/clock.js";
import { FakeClock } from "../../src/clock/fake.js";
import { systemClock } from "../../src/clock/system.js";
import type { HttpProbeSpec, SloConfig, Target } from "../../src/model/config.js";
import type { ProbeResult } from "../../src/model/result.js";
import { Secret } from "../../src/model/secret.js";
import { ProbeRunner, USER_AGENT } from "../../src/probes/index.js";
import { Scheduler } from "../../src/schedule/index.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";
import { fixtureConfig } from "../support/slo-config.js";
import { httpServer, httpSpec, json, type Loopback, target } from "./loopback.js";

function configOf(targets: Target[], probes: HttpProbeSpec[] = []): SloConfig {
  return fixtureConfig({ targets: new Map(targets.map((t) => [t.id, t])), probes });
}

function runnerFor(t: Target, clock: Clock = systemClock) {
  const results: ProbeResult[] = [];
  const logs: string[] = [];
  const runner = new ProbeRunner({
    clock,
    config: configOf([t]),
    sink: { record: (r) => results.push(r) },
    logger: (line) => logs.push(line),
  });
  return { runner, results, logs };
}

const seen: { headers: IncomingMessage["headers"]; remotePort: number | undefined }[] = [];
let api: Loopback;
let rateLimitedCalls = 0;

beforeAll(async () => {
  api = await httpServer({
    "/ok": (req, res) => {
      seen.push({ headers: req.headers, remotePort: req.socket.remotePort });
      json(res, 200, { ok: true });
    },
    "/limited": (_req, res) => {
      rateLimitedCalls++;
      json(res, 429, { error_code: "TOO_MANY_REQUESTS", correlation_id: "c-429" }, { "retry-after": "120" });
    },
  });
});
afterAll(() => api.close());

describe("ProbeRunner", () => {
  it("records one contract result per performed run, with phases and the probe's ids", async () => {
    const { runner, results } = runnerFor(target(api.origin));
    const before = Date.now();
    expect(await runner.execute(httpSpec("/ok"), before)).toBe("performed");
    await runner.close();
    expect(results).toHaveLength(1);
    const [r] = results;
    expect(r).toMatchObject({
      probe: "probe-under-test",
      category: "payment_request",
      status: 200,
      error: null,
    });
    expect(r!.ts).toBeGreaterThanOrEqual(before);
    expect(r!.phases?.ttfbMs).toBe(r!.durationMs);
    expect(runner.stats()).toEqual([
      { probe: "probe-under-test", performed: 1, paused: 0, throttled: 0, refused: 0 },
    ]);
  });

  it("sends the credential only in the Authorization header, and the User-Agent", async () => {
    const password = "s3cr3t-pa55";
    const auth = { type: "basic" as const, username: new Secret("merchant"), password: new Secret(password) };
    const { runner, results, logs } = runnerFor(target(api.origin, { auth }));
    seen.length = 0;
    await runner.execute(httpSpec("/ok"), Date.now());
    await runner.execute(httpSpec("/nowhere"), Date.now());
    await runner.close();
    expect(seen[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from(`merchant:${password}`).toString("base64")}`,
    );
    expect(seen[0]!.headers["user-agent"]).toBe(USER_AGENT);
    expect(USER_AGENT).toMatch(/^slo-agent\/\d+\.\d+\.\d+/);
    const everything = JSON.stringify(results) + logs.join("\n");
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(Buffer.from(`merchant:${password}`).toString("base64"));
  });

  it("reuses the connection per target, and opens one per request with keepAlive false", async () => {
    for (const [keepAlive, connections] of [
      [true, 1],
      [false, 3],
    ] as const) {
      const { runner, results } = runnerFor(target(api.origin, { keepAlive }));
      seen.length = 0;
      for (let i = 0; i < 3; i++) {
        await runner.execute(httpSpec("/ok"), Date.now());
        // Scheduled runs are spaced in time; back-to-back, undici may still see the socket busy.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await runner.close();
      expect(new Set(seen.map((s) => s.remotePort)).size).toBe(connections);
      if (keepAlive) {
        // A reused connection has no connect phase; serverMs falls back to the target's last RTT.
        expect(results[1]!.phases?.connectMs).toBeNull();
        expect(results[1]!.serverMs).not.toBeNull();
      }
    }
  });

  it("on 429 with Retry-After pauses the target: paused runs are counted, not sent, not failed", async () => {
    const clock = new FakeClock(Date.now());
    const { runner, results, logs } = runnerFor(target(api.origin), clock);
    rateLimitedCalls = 0;
    const spec = httpSpec("/limited");
    expect(await runner.execute(spec, clock.now())).toBe("performed");
    expect(runner.pausedUntil("klarna")).toBe(clock.now() + 120_000);
    clock.advance(60_000);
    expect(await runner.execute(spec, clock.now())).toBe("paused");
    expect(await runner.execute(httpSpec("/ok"), clock.now())).toBe("paused");
    clock.advance(60_000);
    expect(await runner.execute(spec, clock.now())).toBe("performed");
    await runner.close();
    expect(rateLimitedCalls).toBe(2);
    expect(results.map((r) => [r.status, r.errorCode])).toEqual([
      [429, "TOO_MANY_REQUESTS"],
      [429, "TOO_MANY_REQUESTS"],
    ]);
    expect(runner.stats()).toContainEqual({
      probe: "probe-under-test",
      performed: 2,
      paused: 2,
      throttled: 0,
      refused: 0,
    });
    expect(logs[0]).toMatch(/^target klarna: paused until .* \(retry_after\)$/);
  });

  it("refuses a writing probe against a production target, once logged", async () => {
    const { runner, results, logs } = runnerFor(target(api.origin, { environment: "production" }));
    const spec = httpSpec("/ok", { writes: true, method: "POST", body: "{}" });
    expect(await runner.execute(spec, Date.now())).toBe("refused");
    expect(await runner.execute(spec, Date.now())).toBe("refused");
    await runner.close();
    expect(results).toEqual([]);
    expect(logs).toEqual(["probe probe-under-test: not run: writes, and target klarna is production"]);
  });
});

describe("ProbeRunner against the simulated Klarna API", () => {
  // One fake clock for simulator, scheduler and runner: rate-limit windows and schedules agree.
  const clock = new FakeClock(Date.UTC(2026, 9, 1, 0, 0, 0));
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({
      clock,
      scenario: {
        name: "probe-tests",
        default: {},
        categories: {
          settlements: { errorRate: 1, errorStatus: 503 },
          disputes: { rateLimit: { limit: 1, windowMs: 60_000 } },
        },
      },
    });
  });
  afterAll(() => sim.close());

  /** Waits (in real time) until every run the scheduler started has finished. */
  async function settled(scheduler: Scheduler): Promise<void> {
    for (let i = 0; i < 2_000; i++) {
      const s = scheduler.stats();
      const started = s.reduce((n, x) => n + x.started, 0);
      const done = s.reduce(
        (n, x) => n + x.performed + x.paused + x.throttled + x.refused + x.failedToRun,
        0,
      );
      if (started === done) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error("runs did not finish");
  }

  it("probes on schedule and classifies the simulator's answers", async () => {
    const probes = [
      httpSpec("/payments/v1/sessions/abc", {
        id: "session-read",
        schedule: { kind: "every", intervalMs: 10_000 },
      }),
      httpSpec("/settlements/v1/payouts/summary", {
        id: "payouts",
        schedule: { kind: "every", intervalMs: 10_000 },
      }),
      httpSpec("/v2/disputes", {
        id: "disputes",
        target: "limited",
        schedule: { kind: "every", intervalMs: 10_000 },
      }),
    ];
    const t = target(sim.url);
    const limited = target(sim.url, { id: "limited" });
    const results: ProbeResult[] = [];
    const runner = new ProbeRunner({
      clock,
      config: configOf([t, limited], probes),
      sink: { record: (r) => results.push(r) },
    });
    const scheduler = new Scheduler({ clock, probes, execute: (s, at) => runner.execute(s, at) });
    scheduler.start();
    for (let step = 0; step < 30; step++) {
      clock.advance(1_000);
      await settled(scheduler);
    }
    await scheduler.stop();
    await runner.close();
    const byProbe = (id: string) => results.filter((r) => r.probe === id).map((r) => [r.status, r.errorCode]);
    expect(byProbe("session-read")).toEqual([
      [200, null],
      [200, null],
      [200, null],
    ]);
    expect(byProbe("payouts")).toEqual([
      [503, "TEMPORARILY_UNAVAILABLE"],
      [503, "TEMPORARILY_UNAVAILABLE"],
      [503, "TEMPORARILY_UNAVAILABLE"],
    ]);
    // The one dispute request allowed per minute leaves X-Ratelimit-Remaining at 0: its target
    // pauses itself until the window resets instead of collecting 429s; the other target goes on.
    expect(byProbe("disputes")).toEqual([[200, null]]);
    expect(scheduler.stats().map((s) => [s.probe, s.performed, s.paused])).toEqual([
      ["session-read", 3, 0],
      ["payouts", 3, 0],
      ["disputes", 1, 3],
    ]);
  });
});
