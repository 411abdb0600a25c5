import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { announcedUrl } from "./announced.js";
import { CLI } from "./cli.js";
import { sleep } from "./eventually.js";

export { announcedUrl } from "./announced.js";

/** A child process whose output is kept for error messages and awaited line by line. */
export interface Running {
  readonly child: ChildProcess;
  output(): string;
  /** Everything it wrote on stderr so far (output() keeps only the last 4,000 characters). */
  stderr(): string;
  /** Resolves with the first match of `pattern` on stdout; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** The URL it announced ("listening on URL", plain or as a JSON log line, on stdout or stderr). */
  listening(timeoutMs?: number): Promise<string>;
  /** The URL of the demo's simulator ("simulator on URL"). */
  simulator(timeoutMs?: number): Promise<string>;
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
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const announced = async (what: "listening" | "simulator", timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const url = announcedUrl(stdout, what) ?? announcedUrl(stderr, what);
      if (url) return url;
      if (gone()) throw new Error(`exited with ${child.exitCode} before "${what} on URL"\n${output()}`);
      if (Date.now() > deadline) throw new Error(`no "${what} on URL" within ${timeoutMs} ms\n${output()}`);
      await sleep(50);
    }
  };
  return {
    child,
    output,
    stderr: () => stderr,
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
    listening: (timeoutMs = 60_000) => announced("listening", timeoutMs),
    simulator: (timeoutMs = 60_000) => announced("simulator", timeoutMs),
    async stop() {
      if (gone()) return;
      child.kill("SIGTERM");
      const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!killed) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/**
 * Starts the built agent (`run` or `demo`) listening on a port the OS picks (127.0.0.1:0, unless
 * the arguments give --listen) and resolves once it has said where: never a fixed port, which
 * anything else on the machine may hold.
 */
export async function startAgent(
  command: "run" | "demo",
  args: readonly string[],
  options: { cwd: string; env?: Readonly<Record<string, string>>; timeoutMs?: number },
): Promise<{ agent: Running; url: string }> {
  const listen = args.includes("--listen") ? [] : ["--listen", "127.0.0.1:0"];
  const agent = startProcess(process.execPath, [CLI, command, ...args, ...listen], options.cwd, options.env);
  try {
    return { agent, url: await agent.listening(options.timeoutMs) };
  } catch (error) {
    await agent.stop();
    throw error;
  }
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
