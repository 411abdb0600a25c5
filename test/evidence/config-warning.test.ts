import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/clock/fake.js";
import { effectiveConfiguration } from "../../src/config/fingerprint.js";
import { loadConfig } from "../../src/config/index.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { slo } from "../reports/cli-run.js";
import { sloYaml } from "../reports/month-scenario.js";
import { hourlyPaymentRequests } from "./store-attack.js";

/**
 * A configuration edited since the agent ran (AUDIT-23e finding 3: payment_request's p99 objective
 * 1500 -> 1 ms, its class's target 99.0 -> 99.99 %) turned the month into "missed" with a warning
 * on stderr only. Now every format names what differs from the configuration the log holds, and a
 * bundle exported with it is refused by `verify --bundle` and disputed by recompute.py.
 */

const SLOW = 240_000;
let base: string;

/** The payment_request objective and its class's target, tightened after the agent ran. */
function forged(yaml: string): string {
  const edited = yaml
    .replace(/(payment_request: \{[^}]*latency_p99_ms: )1500\}/, "$11}")
    .replace(/(transaction_critical: \{[^}]*availability_target_pct: )99\.0\}/, "$199.99}");
  expect(edited).not.toBe(yaml);
  return edited;
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "slo-config-warning-"));
  writeFileSync(join(base, "slo.yaml"), sloYaml("./data"));
  writeFileSync(join(base, "forged.yaml"), forged(sloYaml("./data")));
  const { config } = await loadConfig(join(base, "slo.yaml"));
  const clock = new FakeClock(Date.UTC(2026, 1, 27));
  const store = openEvidenceStore({ dataDir: join(base, "data"), clock, logger: () => {} });
  // What the daemon records when it loads its configuration.
  store.recordInput("config", effectiveConfiguration(config));
  clock.advance(Date.UTC(2026, 3, 3) - clock.now());
  store.importResults(hourlyPaymentRequests(Date.UTC(2026, 1, 27), Date.UTC(2026, 3, 2)));
  store.close();
}, SLOW);

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

const report = (config: string, format: string) =>
  slo(["report", "--month", "2026-03", "--format", format, "--config", config], base);

const DIFFERENCES = [
  "categories.payment_request.latency_p99_ms: report 1, log 1500",
  "service_classes.transaction_critical.availability_target: report 0.9999, log 0.99",
];

describe("a configuration the log does not hold", () => {
  it(
    "the configuration the agent ran with: no warning",
    () => {
      const run = report("slo.yaml", "json");
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).warnings ?? []).toEqual([]);
    },
    SLOW,
  );

  it(
    "an edited one: a warning naming each objective and target that differs, in JSON, Markdown, HTML and CSV",
    () => {
      const json = report("forged.yaml", "json");
      expect(json.code, json.stderr).toBe(0);
      const warnings: string[] = JSON.parse(json.stdout).warnings;
      expect(warnings[0]).toMatch(
        /^the configuration given to this report \(config_sha256 [0-9a-f]{64}\) is none of the configurations the agent recorded for 2026-03 \(input records 1\)/,
      );
      for (const difference of DIFFERENCES) expect(warnings[0]).toContain(difference);
      const md = report("forged.yaml", "md");
      expect(md.stdout).toContain("**Warning:** the configuration given to this report");
      for (const format of ["md", "html", "csv"]) {
        // Markdown escapes the underscores.
        const out = report("forged.yaml", format).stdout.replaceAll("\\_", "_");
        for (const difference of DIFFERENCES) expect(out, format).toContain(difference);
      }
    },
    SLOW,
  );

  it(
    "a bundle exported with it: verify --bundle exit 1 and recompute.py exit 1, each naming the objective",
    () => {
      const exported = slo(
        ["evidence", "export", "--month", "2026-03", "--out", "forged-bundle", "--config", "forged.yaml"],
        base,
      );
      expect(exported.code, exported.stderr).toBe(0);
      const bundle = join(base, "forged-bundle");
      expect(
        JSON.parse(readFileSync(join(bundle, "configuration.json"), "utf8")).categories.payment_request,
      ).toMatchObject({ latencyP99Ms: 1 });
      const verified = slo(["verify", "--bundle", bundle], base);
      expect(verified.code, verified.stdout).toBe(1);
      expect(verified.stderr).toMatch(
        /altered: configuration\.json: configuration\.json is none of the month's configuration records in inputs\.ndjson \(input records 1\): it differs from input record 1 in what decides figures and verdicts: /,
      );
      expect(verified.stderr).toContain(
        "categories.payment_request.latency_p99_ms: configuration.json 1, log 1500",
      );
      const recomputed = spawnSync("python3", ["recompute.py"], {
        cwd: bundle,
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(recomputed.status, recomputed.stderr).toBe(1);
      expect(recomputed.stderr).toContain(
        "configuration.json categories.payment_request.latencyP99Ms: 1, but the configuration the agent last recorded for 2026-03 has 1500",
      );
      expect(recomputed.stderr).toContain(
        "configuration.json serviceClasses.transaction_critical.availabilityTarget: 0.9999, but the configuration the agent last recorded for 2026-03 has 0.99",
      );
    },
    SLOW,
  );

  it(
    "a bundle exported with the configuration the agent ran with: verify --bundle and recompute.py exit 0",
    () => {
      const exported = slo(
        ["evidence", "export", "--month", "2026-03", "--out", "bundle", "--config", "slo.yaml"],
        base,
      );
      expect(exported.code, exported.stderr).toBe(0);
      const bundle = join(base, "bundle");
      const verified = slo(["verify", "--bundle", bundle], base);
      expect(verified.code, verified.stderr).toBe(0);
      expect(verified.stderr).toBe("");
      const recomputed = spawnSync("python3", ["recompute.py"], {
        cwd: bundle,
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(recomputed.status, recomputed.stderr).toBe(0);
    },
    SLOW,
  );
});

/**
 * AUDIT-23f finding 1: a probe's schedule was not compared, so `every: 1s` (5m in the log) turned
 * imported results that sit between two of the agent's own into not-interleaved ones and changed
 * coverage, while the report, `verify --bundle` and recompute.py said nothing.
 */
describe("a configuration whose probe runs on another schedule than the log's", () => {
  const rescheduled = (yaml: string) => {
    const edited = yaml.replace(/(id: payment-request-read, [^}]*every: )5m/, "$11s");
    expect(edited).not.toBe(yaml);
    return edited;
  };

  it(
    "the report names the schedule; verify --bundle and recompute.py exit 1",
    () => {
      writeFileSync(join(base, "every.yaml"), rescheduled(sloYaml("./data")));
      const json = report("every.yaml", "json");
      expect(json.code, json.stderr).toBe(0);
      const warnings: string[] = JSON.parse(json.stdout).warnings;
      expect(warnings.join("\n")).toContain(
        "probes.payment-request-read.schedule.interval_ms: report 1000, log 300000",
      );
      const exported = slo(
        ["evidence", "export", "--month", "2026-03", "--out", "every-bundle", "--config", "every.yaml"],
        base,
      );
      expect(exported.code, exported.stderr).toBe(0);
      const bundle = join(base, "every-bundle");
      const verified = slo(["verify", "--bundle", bundle], base);
      expect(verified.code, verified.stdout).toBe(1);
      expect(verified.stderr).toContain(
        "probes.payment-request-read.schedule.interval_ms: configuration.json 1000, log 300000",
      );
      const recomputed = spawnSync("python3", ["recompute.py"], {
        cwd: bundle,
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(recomputed.status, recomputed.stderr).toBe(1);
      expect(recomputed.stderr).toContain(
        "configuration.json probes.payment-request-read.schedule.intervalMs: 1000, but the configuration the agent last recorded for 2026-03 has 300000",
      );
    },
    SLOW,
  );
});

/**
 * AUDIT-23f finding 4: a forged slo.yaml reloaded for 2 s and then reverted left only its
 * configuration records (`evidence.config_records`); nothing said what changed. Now every format
 * warns, naming each change and how long it was in force.
 */
describe("a configuration changed during the month and changed back", () => {
  let dir: string;
  const FORGED_AT = Date.UTC(2026, 2, 10, 12);
  const CHANGE =
    "categories.payment_request.latency_p99_ms 1500 → 1 from 2026-03-10T12:00:00.000Z for 2 s (input record 2 against input record 1, in force until input record 3)";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "slo-config-change-"));
    writeFileSync(join(dir, "slo.yaml"), sloYaml("./data"));
    writeFileSync(join(dir, "forged.yaml"), forged(sloYaml("./data")));
    const honest = effectiveConfiguration((await loadConfig(join(dir, "slo.yaml"))).config);
    const edited = effectiveConfiguration((await loadConfig(join(dir, "forged.yaml"))).config);
    const clock = new FakeClock(Date.UTC(2026, 1, 27));
    const store = openEvidenceStore({ dataDir: join(dir, "data"), clock, logger: () => {} });
    store.recordInput("config", honest);
    clock.advance(FORGED_AT - clock.now());
    store.recordInput("config", edited);
    clock.advance(2_000);
    store.recordInput("config", honest);
    clock.advance(Date.UTC(2026, 3, 3) - clock.now());
    store.importResults(hourlyPaymentRequests(Date.UTC(2026, 1, 27), Date.UTC(2026, 3, 2)));
    store.close();
  }, SLOW);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "every format names each change, when and for how long it was in force",
    () => {
      const run = (format: string) =>
        slo(["report", "--month", "2026-03", "--format", format, "--config", "slo.yaml"], dir);
      const json = run("json");
      expect(json.code, json.stderr).toBe(0);
      const warnings: string[] = JSON.parse(json.stdout).warnings;
      expect(warnings.filter((w) => w.includes("changed during 2026-03"))).toHaveLength(2);
      expect(warnings.join("\n")).toContain(CHANGE);
      expect(warnings.join("\n")).toContain(
        "categories.payment_request.latency_p99_ms 1 → 1500 from 2026-03-10T12:00:02.000Z",
      );
      for (const format of ["md", "html", "csv"]) {
        const out = run(format).stdout.replaceAll("\\_", "_");
        expect(out, format).toContain(
          "categories.payment_request.latency_p99_ms 1500 → 1 from 2026-03-10T12:00:00.000Z for 2 s",
        );
      }
    },
    SLOW,
  );
});
