import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI } from "../support/cli.js";

const REPO = join(import.meta.dirname, "../..");
const scratch = mkdtempSync(join(tmpdir(), "slo-dashboards-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const cli = (args: string[]) =>
  // The built CLI users run (test/global-build.ts builds it); through tsx it cost twice the CPU.
  spawnSync(process.execPath, [CLI, "dashboards", ...args], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 60_000,
  });

interface Panel {
  title: string;
  type: string;
  fieldConfig: { defaults: { thresholds: { steps: { color: string; value: number | null }[] } } };
}

describe("slo-agent dashboards", { timeout: 120_000 }, () => {
  it("writes the shipped dashboards for the shipped profile", () => {
    const out = join(scratch, "shipped");
    const run = cli(["--config", join(REPO, "slo.yaml"), "--out", out]);
    expect(run.status, run.stderr).toBe(0);
    for (const file of ["slo-overview.json", "slo-category.json"]) {
      expect(readFileSync(join(out, file), "utf8")).toBe(
        readFileSync(join(REPO, "dashboards", file), "utf8"),
      );
    }
  });

  it("takes the availability threshold from the configuration, red below it and amber above", () => {
    const profile = readFileSync(join(REPO, "slo.yaml"), "utf8")
      .replace(/availability_target_pct: 99\.0/g, "availability_target_pct: 99.5")
      .replace(/^probes_dir: .*$/m, `probes_dir: ${JSON.stringify(join(REPO, "probes"))}`);
    writeFileSync(join(scratch, "slo.yaml"), profile);
    const out = join(scratch, "strict");
    const run = cli(["--config", join(scratch, "slo.yaml"), "--out", out]);
    expect(run.status, run.stderr).toBe(0);
    const overview = JSON.parse(readFileSync(join(out, "slo-overview.json"), "utf8")) as { panels: Panel[] };
    const stat = overview.panels.find((p) => p.title === "Availability this month")!;
    expect(stat.fieldConfig.defaults.thresholds.steps).toEqual([
      { color: "red", value: null },
      { color: "orange", value: 0.995 },
      { color: "green", value: 0.9975 },
    ]);
  });

  it("a configuration that does not exist is bad input: exit 2, one line", () => {
    const run = cli(["--config", join(scratch, "missing.yaml"), "--out", join(scratch, "none")]);
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });
});
