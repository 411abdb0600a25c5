import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Running, startProcess } from "../export/live-processes.js";

const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");

function demo(dataDir: string): Running {
  return startProcess(
    process.execPath,
    [MAIN, "demo", "--listen", "127.0.0.1:0", "--data-dir", dataDir],
    dataDir,
  );
}

function exitOf(run: Running): Promise<number | null> {
  return new Promise((resolve) => {
    if (run.child.exitCode !== null || run.child.signalCode !== null) resolve(run.child.exitCode);
    else run.child.once("exit", (code) => resolve(code));
  });
}

describe("one agent per data dir", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "slo-lock-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a second agent on a directory in use with exit 2 naming the holder's pid, and a kill -9 leaves no stuck lock", async () => {
    const first = demo(dir);
    try {
      await first.listening(20_000);
      const second = demo(dir);
      const code = await exitOf(second);
      expect(code, second.output()).toBe(2);
      expect(second.output()).toContain(`in use by another agent (pid ${first.child.pid} `);
      expect(
        second
          .output()
          .trim()
          .split("\n")
          .filter((l) => l.includes("in use")).length,
      ).toBe(1);
      expect(second.output()).not.toMatch(/\n\s+at /);

      first.child.kill("SIGKILL");
      await exitOf(first);
      const third = demo(dir);
      try {
        await third.listening(20_000);
      } finally {
        await third.stop();
      }
      expect(third.child.exitCode).toBe(0);
    } finally {
      await first.stop();
    }
  }, 60_000);
});
