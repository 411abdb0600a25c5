import { describe, expect, it } from "vitest";
import { sampleLatency } from "../../src/sim/faults.js";
import { createRng } from "../../src/sim/rng.js";
import { ask, serverTimingMs, withSimulator } from "./simulator-fixture.js";

const ORDER = "/ordermanagement/v1/orders/00000000-0000-0000-0000-000000000000";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe("latency", () => {
  it("over 300 requests the median Server-Timing is roughly median_ms", async () => {
    await withSimulator(
      "default: {latency: {median_ms: 40, sigma: 0.3}}",
      async (sim, client) => {
        const durations: number[] = [];
        const worker = async () => {
          while (durations.length < 300) durations.push(serverTimingMs(await ask(client, sim.url + ORDER)));
        };
        await Promise.all(Array.from({ length: 20 }, worker));
        // Loose bounds: the sample median of 300 draws is within a few percent; a busy box only adds.
        expect(median(durations)).toBeGreaterThan(34);
        expect(median(durations)).toBeLessThan(120);
      },
      { seed: 7 },
    );
  });

  it("the delay comes before the response headers (time to first byte)", async () => {
    await withSimulator("default: {latency: {median_ms: 150, sigma: 0}}", async (sim, client) => {
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const answer = await ask(client, sim.url + ORDER);
        expect(performance.now() - started).toBeGreaterThanOrEqual(145);
        expect(serverTimingMs(answer)).toBeGreaterThanOrEqual(145);
      }
    });
  });

  it("draws log-normal around the median with a rare tail at tail_ms", () => {
    const rng = createRng(42);
    const latency = { medianMs: 50, sigma: 0.2, tailProbability: 0.02, tailMs: 1000 };
    const samples = Array.from({ length: 20_000 }, () => sampleLatency(latency, rng));
    const tail = samples.filter((ms) => ms > 400).length / samples.length;
    expect(median(samples)).toBeGreaterThan(47);
    expect(median(samples)).toBeLessThan(53);
    expect(tail).toBeGreaterThan(0.015);
    expect(tail).toBeLessThan(0.025);
  });

  it("no latency block means no added delay", () => {
    expect(sampleLatency(undefined, createRng(1))).toBe(0);
  });
});

describe("seeded randomness", () => {
  async function statuses(seed: number): Promise<number[]> {
    return withSimulator(
      "default: {error_rate: 0.5}",
      async (sim, client) => {
        const seen: number[] = [];
        for (let i = 0; i < 40; i++) seen.push((await ask(client, sim.url + ORDER)).status);
        return seen;
      },
      { seed },
    );
  }

  it("the same seed and the same requests give the same faults", async () => {
    const first = await statuses(11);
    expect(await statuses(11)).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 500]));
  });

  it("another seed gives other faults", async () => {
    expect(await statuses(12)).not.toEqual(await statuses(11));
  });
});
