import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** A child process whose output is kept for error messages and awaited line by line. */
export interface Running {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` on stdout; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

export function startProcess(
  command: string,
  args: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string>> = {},
): Running {
  const child = spawn(command, args, {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const output = () =>
    `${command} ${args.join(" ")}\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`;
  return {
    child,
    output,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = pattern.exec(stdout);
        if (match) return match;
        if (child.exitCode !== null)
          throw new Error(`exited with ${child.exitCode} before ${pattern}\n${output()}`);
        await sleep(100);
      }
      throw new Error(`no ${pattern} within ${timeoutMs} ms\n${output()}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!killed) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port the OS says is free right now (Prometheus takes no port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Polls `probe` until it returns a value, or fails with the last reason after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | null>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(1000);
  }
}

/** Starts /usr/bin/prometheus scraping `target`(s) every second with `rulesFile`, evaluating every second. */
export async function startPrometheus(
  dir: string,
  target: string | readonly string[],
  rulesFile: string,
): Promise<{ url: string; process: Running }> {
  const port = await freePort();
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  evaluation_interval: 1s",
      `rule_files: [${JSON.stringify(rulesFile)}]`,
      "scrape_configs:",
      "  - job_name: slo-agent",
      `    static_configs: [{targets: ${JSON.stringify(typeof target === "string" ? [target] : target)}}]`,
      "",
    ].join("\n"),
  );
  const process = startProcess(
    "/usr/bin/prometheus",
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.console.templates=/dev/null",
      "--web.console.libraries=/dev/null",
    ],
    dir,
  );
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (process.child.exitCode !== null) throw new Error(`prometheus exited\n${process.output()}`);
      const ready = await fetch(`${url}/-/ready`).catch(() => null);
      return ready?.ok ? true : null;
    },
    60_000,
    "prometheus /-/ready",
  );
  return { url, process };
}

export interface QueryAnswer {
  readonly status: "success" | "error";
  readonly error?: string;
  readonly data?: {
    readonly resultType: string;
    readonly result: readonly { metric: Record<string, string> }[];
  };
}

export async function instantQuery(prometheus: string, expr: string): Promise<QueryAnswer> {
  const response = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  return (await response.json()) as QueryAnswer;
}
