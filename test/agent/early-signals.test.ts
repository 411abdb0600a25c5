import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/index.js";

/**
 * AUDIT-23f finding 6: a SIGHUP or SIGTERM in the first half second after `slo-agent run` started
 * (while its modules loaded and the agent started) killed it outright: no clean stop, no `run_end`.
 * Now the command holds them from its first instant: SIGHUP is queued for the reload handler and
 * SIGTERM is honoured as a clean stop once the agent is up. A real process, signalled as soon as
 * the kernel shows it catches SIGHUP (/proc/PID/status SigCgt), before it says "listening on".
 */

const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");
const SIGHUP_BIT = 1n << 0n;
const SIGTERM_BIT = 1n << 14n;

/** The signals the process catches, from /proc (Linux); 0 when it is gone. */
function caught(pid: number): bigint {
  try {
    const line = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return line ? BigInt(`0x${line[1]}`) : 0n;
  } catch {
    return 0n;
  }
}

describe.skipIf(process.platform !== "linux")("signals while slo-agent run is starting", () => {
  let simulator: RunningSimulator;
  let dir: string;

  beforeAll(async () => {
    simulator = await startSimulator();
    dir = await mkdtemp(join(tmpdir(), "slo-early-signals-"));
    await writeFile(
      join(dir, "slo.yaml"),
      `version: 1
agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 150}
targets:
  sim: {base_url: "${simulator.url}", environment: simulator, auth: {type: basic, username: u, password: p}}
probes:
  - {id: payment-request-read, category: payment_request, target: sim, every: 1s, path: /payments/v1/sessions/0}
`,
    );
  });
  afterAll(async () => {
    await simulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("SIGHUP then SIGTERM before it is listening: it starts, stops cleanly (exit 0) and signs its run_end", async () => {
    const child = spawn(process.execPath, [MAIN, "run", "--config", join(dir, "slo.yaml")], { cwd: dir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    const deadline = Date.now() + 30_000;
    // Node catches SIGTERM itself from its start (to restore the terminal, then dies of it): the
    // agent's own hold shows as SIGHUP, which Node leaves at its default action.
    while ((caught(child.pid!) & SIGHUP_BIT) === 0n && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 2));
    const mask = caught(child.pid!);
    const listeningAlready = stdout.includes("listening on");
    // Held before the agent began: its evidence store is not even created yet.
    const storeAlready = existsSync(join(dir, "evidence", "evidence.sqlite"));
    child.kill("SIGHUP");
    child.kill("SIGTERM");
    const done = await exited;
    expect(listeningAlready, "signalled before the agent was listening").toBe(false);
    expect(storeAlready, "signalled before the agent opened its store").toBe(false);
    expect(mask & (SIGHUP_BIT | SIGTERM_BIT)).toBe(SIGHUP_BIT | SIGTERM_BIT);
    expect(done, stderr).toEqual({ code: 0, signal: null });
    expect(stdout).toContain("listening on");
    const db = new Database(join(dir, "evidence", "evidence.sqlite"), { readonly: true });
    const kinds = db.prepare("SELECT kind FROM input_records ORDER BY seq").pluck().all();
    db.close();
    expect(kinds).toContain("run_start");
    expect(kinds.at(-1)).toBe("run_end");
  }, 60_000);
});
