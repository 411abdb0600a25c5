import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");

describe("the slo-agent bin (what npx slo-agent and an installed package run)", () => {
  it("starts Node.js with the daemon's young generation size and malloc arenas from its first line", () => {
    const shebang = readFileSync(MAIN, "utf8").split("\n", 1)[0];
    expect(shebang).toBe("#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=2");
    // npm marks a package's bin executable when it installs it; the build does not.
    chmodSync(MAIN, 0o755);
    const run = spawnSync(MAIN, ["--version"], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
