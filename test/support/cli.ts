import { execFile, spawnSync } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "../..");
/** The built CLI, the program users run (the system suites' global setup builds it: test/global-build.ts). */
export const CLI = join(ROOT, "dist/cli/main.js");

export interface CliOutcome {
  /** The exit code; null when killed by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the process had to be killed at the deadline. */
  readonly hung: boolean;
}

export interface CliOptions {
  readonly cwd?: string;
  /** The whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Killed with SIGKILL after this long (default 120 s); reported as `hung`. */
  readonly timeoutMs?: number;
  /** Node options before the script, like --max-old-space-size. */
  readonly nodeArgs?: readonly string[];
}

const MAX_OUTPUT = 64 << 20;

/** Runs `node dist/cli/main.js ARGS` to completion without blocking this process (its servers keep answering). */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliOutcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...(options.nodeArgs ?? []), CLI, ...args],
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        killSignal: "SIGKILL",
        maxBuffer: MAX_OUTPUT,
      },
      (error, stdout, stderr) => {
        const failed = error as (Error & { code?: number | string; killed?: boolean }) | null;
        resolve({
          code: failed ? (typeof failed.code === "number" ? failed.code : null) : 0,
          stdout,
          stderr,
          hung: failed?.killed === true,
        });
      },
    );
  });
}

/** The same, blocking: for suites with no server of their own in this process. */
export function runCliSync(
  args: readonly string[],
  options: CliOptions & { input?: string } = {},
): CliOutcome {
  const run = spawnSync(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    input: options.input,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 120_000,
    killSignal: "SIGKILL",
    maxBuffer: MAX_OUTPUT,
  });
  return {
    code: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
    hung: run.error !== undefined && (run.error as NodeJS.ErrnoException).code === "ETIMEDOUT",
  };
}
