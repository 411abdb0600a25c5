import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliOutcome, CLI as MAIN, runCli as runCliShared } from "../support/cli.js";
import { sleep } from "../support/eventually.js";
import { announcedUrl } from "../support/processes.js";

export type { CliOutcome } from "../support/cli.js";
export { ROOT } from "../support/cli.js";
export { sleep } from "../support/eventually.js";

/** Runs `node dist/cli/main.js ARGS` to completion with only PATH set unless `env` is given. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliOutcome> {
  return runCliShared(args, { ...options, env: options.env ?? { PATH: process.env.PATH ?? "" } });
}

/** A daemon (`run`) as a child process, with its output collected. */
export interface AgentProcess {
  readonly child: ChildProcessWithoutNullStreams;
  output(): { stdout: string; stderr: string };
  /** Resolves with the exit code and signal once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The http://HOST:PORT it printed as "listening on ...". */
  listening(timeoutMs?: number): Promise<string>;
}

export function spawnAgent(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[]; fdLimit?: number } = {},
): AgentProcess {
  const argv = [...(options.nodeArgs ?? []), MAIN, ...args];
  const spawnOptions = { cwd: options.cwd, env: options.env ?? { PATH: process.env.PATH ?? "" } };
  // With an fd limit, a shell sets it and execs node: the pid stays the agent's.
  const child =
    options.fdLimit === undefined
      ? spawn(process.execPath, argv, spawnOptions)
      : spawn(
          "/bin/sh",
          ["-c", `ulimit -n ${options.fdLimit} && exec "$@"`, "sh", process.execPath, ...argv],
          spawnOptions,
        );
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
  return {
    child,
    output: () => ({ stdout, stderr }),
    exited,
    async listening(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
        const url = announcedUrl(stdout) ?? announcedUrl(stderr);
        if (url) return url;
        await sleep(25);
      }
      throw new Error(`the agent did not start listening:\n${stdout}${stderr}`);
    },
  };
}

/** Resident set size of a process in bytes, from /proc/PID/status (0 once it is gone). */
export function rssOf(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

/** Open file descriptors of a process, from /proc/PID/fd (0 once it is gone). */
export function fdsOf(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

export const MIB = 1 << 20;

/**
 * Writes dir/slo.yaml for a reliability case: one category in one class, evidence in
 * dir/evidence, listening on a free loopback port, with the given target and probe lines
 * (each a YAML mapping entry, indented as the file needs).
 */
export function writeLoopbackConfig(
  dir: string,
  targets: readonly string[],
  probes: readonly string[],
): void {
  writeFileSync(
    join(dir, "slo.yaml"),
    [
      "version: 1",
      "agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence}",
      "service_classes:",
      "  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}",
      "categories:",
      "  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}",
      "targets:",
      ...targets,
      "probes:",
      ...probes,
      "",
    ].join("\n"),
  );
}
