import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI } from "../support/cli.js";

/**
 * Attack 24e item 4: with no agent-wide cap, hanging targets hold a socket per run in flight;
 * past the process's open-file limit a connect fails with EMFILE (agent_error, excluded) and
 * /metrics stops answering. check-config (and run, at start) compare the sockets the probes may
 * hold with the soft RLIMIT_NOFILE; max_in_flight has a bound.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function configWith(targets: number, probesPerTarget: number, maxInFlight: number | string): string {
  const lines = [];
  for (let t = 0; t < targets; t++) {
    for (let p = 0; p < probesPerTarget; p++)
      lines.push(
        `  - {id: p${t}-${p}, category: payment_request, target: t${t}, every: 10s, timeout_ms: 9000, path: /x}`,
      );
  }
  const declared = Array.from(
    { length: targets },
    (_, t) =>
      `  t${t}: {base_url: "http://127.0.0.1:${19000 + t}", environment: simulator, max_in_flight: ${maxInFlight}}`,
  );
  return `version: 1
agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
${declared.join("\n")}
probes:
${lines.join("\n")}
`;
}

/** `slo-agent check-config` under a soft open-file limit of `nofile` (prlimit, util-linux). */
function checkUnder(nofile: number, config: string) {
  const dir = mkdtempSync(join(tmpdir(), "slo-nofile-"));
  dirs.push(dir);
  writeFileSync(join(dir, "slo.yaml"), config);
  const run = spawnSync(
    "prlimit",
    [`--nofile=${nofile}:${nofile}`, process.execPath, CLI, "check-config", "--config", "slo.yaml"],
    { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH ?? "" }, timeout: 120_000 },
  );
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

describe("open files against the probes' sockets (attack 24e item 4)", { timeout: 150_000 }, () => {
  it("check-config warns, naming both numbers and the fix, when the runs in flight could pass ulimit -Sn", () => {
    // 10 targets x 8 probes, max_in_flight 8: 80 sockets + 64 kept for /metrics and the store = 144.
    const config = configWith(10, 8, 8);
    const short = checkUnder(120, config);
    expect(short.code, short.out).toBe(0);
    expect(short.out).toMatch(
      /slo\.yaml:\d+:\d+: targets: warning: while targets hang the agent may hold 144 open files .* but its open-file limit \(ulimit -Sn\) is 120: .*EMFILE, agent_error.*raise the limit \(ulimit -n 144/,
    );
    // max_in_flight below the probes counts: 10 x 2 + 64 = 84 fits under 120.
    const capped = checkUnder(120, configWith(10, 8, 2));
    expect(capped.code, capped.out).toBe(0);
    expect(capped.out).not.toMatch(/open-file limit/);
    const roomy = checkUnder(1024, config);
    expect(roomy.code, roomy.out).toBe(0);
    expect(roomy.out).not.toMatch(/open-file limit/);
  });

  it("max_in_flight is bounded (1..1000), with a located error", () => {
    for (const bad of ["1e9", "1001", "0"]) {
      const out = checkUnder(1024, configWith(1, 1, bad));
      expect(out.code, out.out).toBe(2);
      expect(out.out).toMatch(/slo\.yaml:8:\d+: targets\.t0\.max_in_flight: must be between 1 and 1000/);
    }
  });
});
