import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "../..");
const MAIN = join(REPO, "dist/cli/main.js");
const HOOK = join(import.meta.dirname, "loaded-modules-hook.mjs");
const dir = mkdtempSync(join(tmpdir(), "slo-start-up-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The module URLs `slo-agent ARGS` loads (every CLI test pays for them, CI most of all). */
function modulesLoadedBy(args: readonly string[]): string[] {
  const file = join(dir, `${args.join("_").replace(/\W/g, "-")}.txt`);
  const run = spawnSync(process.execPath, ["--import", HOOK, MAIN, ...args], {
    cwd: REPO,
    env: { ...process.env, LOADED_MODULES_FILE: file },
    encoding: "utf8",
  });
  expect(run.status, run.stderr).toBe(0);
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

/** Heavy at start-up and needed only by the daemon (run, demo) or by one report format. */
const HEAVY = [
  ["the OpenTelemetry SDK", /@opentelemetry\//],
  ["pino", /\/pino(-pretty)?\//],
  ["alerting", /\/dist\/alerts\//],
  ["the simulator", /\/dist\/sim\//],
  ["the PDF renderer's browser driver", /playwright-core/],
] as const;

describe("each command loads only the modules it needs", () => {
  it.each([
    "--version",
    "verify --help",
    "check-config --config slo.yaml",
    "report --help",
    "rules --config slo.yaml",
  ])("slo-agent %s loads none of the daemon's heavy modules", (command) => {
    const loaded = modulesLoadedBy(command.split(" "));
    for (const [what, pattern] of HEAVY) {
      expect(
        loaded.filter((url) => pattern.test(url)),
        what,
      ).toEqual([]);
    }
  });

  it("slo-agent run --help does load them (the daemon needs them; the hook sees every module)", () => {
    const loaded = modulesLoadedBy(["run", "--help"]);
    expect(loaded.some((url) => /@opentelemetry\//.test(url))).toBe(true);
    expect(loaded.some((url) => /\/dist\/alerts\//.test(url))).toBe(true);
  });

  it("slo-agent run loads the OTLP exporter only when agent.otlp is configured (a scraped agent never holds it)", () => {
    const loaded = modulesLoadedBy(["run", "--help"]);
    expect(loaded.filter((url) => /exporter-metrics-otlp-http/.test(url))).toEqual([]);
  });
});
