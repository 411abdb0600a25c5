import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { openEvidenceStore } from "../../src/record/index.js";

const ROUNDS = 20;
const dir = mkdtempSync(join(tmpdir(), "slo-crash-"));
/** crash-writer.ts bundled; beside node_modules/, so that better-sqlite3 (left out) resolves. */
const WRITER = join(
  import.meta.dirname,
  "../../node_modules/.cache/slo-agent-tests",
  `crash-writer-${process.pid}.mjs`,
);

beforeAll(async () => {
  await build({
    entryPoints: [join(import.meta.dirname, "crash-writer.ts")],
    outfile: WRITER,
    bundle: true,
    format: "esm",
    platform: "node",
    external: ["better-sqlite3"],
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
    logLevel: "warning",
  });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(WRITER, { force: true });
});

/** Runs the writer, kills it with SIGKILL `delayMs` after its first acknowledgement, returns what it acknowledged. */
async function writeUntilKilled(startTs: number, delayMs: number): Promise<Set<string>> {
  const child = spawn(process.execPath, [WRITER, dir, String(startTs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const acked = new Set<string>();
  let partial = "";
  let killTimer: NodeJS.Timeout | undefined;
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) if (line.startsWith("ack ")) acked.add(line.slice(4));
    killTimer ??= setTimeout(() => child.kill("SIGKILL"), delayMs);
  });
  const exit = await new Promise<NodeJS.Signals | null>((resolve) =>
    child.on("exit", (_, signal) => resolve(signal)),
  );
  clearTimeout(killTimer);
  expect(exit).toBe("SIGKILL");
  return acked;
}

describe("kill -9 while writing", () => {
  it(`every acknowledged result is there and the chain verifies, over ${ROUNDS} rounds`, {
    timeout: 300_000,
  }, async () => {
    const seed = Date.now();
    console.log(`crash test delays seeded from ${seed}`);
    let state = seed % 2_147_483_647;
    const nextDelay = () => {
      state = (state * 48_271) % 2_147_483_647;
      return state % 300;
    };
    let total = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Rounds in the past (2019 to 2025): the writer signs with the system clock, and records timed
      // beyond its checkpoints by more than a crash leaves fail verify (docs/evidence-store.md).
      const startTs = Date.UTC(2019, 0, 1) + round * 10_000_000_000;
      const acked = await writeUntilKilled(startTs, nextDelay());
      expect(acked.size).toBeGreaterThan(0);
      const store = openEvidenceStore({ dataDir: dir, clock: new FakeClock(startTs), logger: () => {} });
      try {
        const stored = new Set<string>();
        for (const r of store.results({ from: startTs, to: startTs + 10_000_000_000 }))
          stored.add(`${r.ts} ${r.probe}`);
        const lost = [...acked].filter((a) => !stored.has(a));
        expect(lost, `round ${round}: acknowledged but not stored`).toEqual([]);
        total += stored.size;
        expect(store.verify(), `round ${round}`).toMatchObject({ ok: true, records: total });
        const runs = store.runIntervals({ from: startTs - 1, to: startTs + 10_000_000_000 });
        expect(runs.every((r) => !r.clean)).toBe(true);
      } finally {
        store.close();
      }
    }
  });
});
