import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/**
 * A long run: RESULTS results through the daemon's result path on a fake clock (about 64
 * simulated days, so every rolling window fills and is pruned), in a child process with
 * --expose-gc. Its RSS after a forced gc at the end must be within 10 % of the RSS after the
 * warm-up (the first 36 simulated days, when the 30-day windows are full).
 */
const RESULTS = 600_000;
const WARM_UP = 360_000;
const CHILD = join(import.meta.dirname, "long-run-child.ts");
const dir = mkdtempSync(join(tmpdir(), "slo-long-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Checkpoint {
  readonly done: number;
  readonly days: number;
  readonly rss: number;
  readonly heapUsed: number;
}

describe("a long run", () => {
  it(`${RESULTS} results: RSS grows less than 10 % after the warm-up`, { timeout: 600_000 }, async () => {
    const child = spawn(
      process.execPath,
      ["--expose-gc", "--import", "tsx", CHILD, dir, String(RESULTS), String(WARM_UP)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code, stderr).toBe(0);
    const points = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Checkpoint);
    const warm = points.find((p) => p.done >= WARM_UP)!;
    const end = points.at(-1)!;
    expect(end.done).toBe(RESULTS);
    expect(warm.days).toBeGreaterThanOrEqual(33);
    const growth = (end.rss - warm.rss) / warm.rss;
    const mib = (b: number) => (b / (1 << 20)).toFixed(1);
    console.log(
      `long run: ${RESULTS} results over ${end.days} simulated days; RSS ${mib(warm.rss)} MiB after ${warm.done} (day ${warm.days}) -> ${mib(end.rss)} MiB at the end (${(growth * 100).toFixed(1)} %); heap ${mib(warm.heapUsed)} -> ${mib(end.heapUsed)} MiB; checkpoints ${points.map((p) => `${p.done}:${mib(p.rss)}`).join(" ")}`,
    );
    expect(growth).toBeLessThan(0.1);
  });
});
