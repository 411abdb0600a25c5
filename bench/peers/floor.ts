import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";

const UNDICI = join(import.meta.dirname, "../../node_modules/undici/index.js");

/**
 * The floor under the agent's CPU: a bare Node.js process that only sends the same requests with
 * the same HTTP client (undici, the agent's), at the same rate and spread, and reads the bodies —
 * no scheduling, evidence, windows, metrics or classification. What it costs, the agent cannot
 * cost less; the targets are compared with it in bench/results.md. It times each request the
 * simplest way (performance.now() around request and body), the floor under the agent's
 * measurement overhead too: what this process, alone on its loop, adds to the target's delay.
 */
const CLIENT = `
const { Agent, request } = await import(process.argv[1]);
const [origin, probes, everyMs, keepAlive] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5] === "1"];
const agent = new Agent({ pipelining: keepAlive ? 1 : 0, keepAliveTimeout: 30000 });
let sent = 0;
let durations = [];
for (let i = 0; i < probes; i++) {
  const fire = async () => {
    const started = performance.now();
    try {
      const response = await request(origin + "/bench/" + i, { dispatcher: agent, reset: !keepAlive });
      await response.body.text();
      durations.push(performance.now() - started);
      sent++;
    } catch {}
  };
  // Spread over the interval like the agent's scheduler spreads its probes.
  setTimeout(() => { fire(); setInterval(fire, everyMs); }, (i * everyMs) / probes);
}
process.on("message", () => {
  process.send({ sent, durations });
  durations = [];
});
`;

export interface FloorRun {
  readonly pid: number;
  /** Requests answered so far, and the durations (ms) of those answered since the last call. */
  sample(): Promise<{ sent: number; durationsMs: number[] }>;
  stop(): Promise<void>;
}

export function startFloorClient(
  origin: string,
  probes: number,
  everySeconds: number,
  keepAlive: boolean,
): FloorRun {
  return runFloorScript(CLIENT, [
    UNDICI,
    origin,
    String(probes),
    String(everySeconds * 1000),
    keepAlive ? "1" : "0",
  ]);
}

/**
 * A floor client: `script` (an ES module) in a Node.js process of its own with `args` as its
 * argv, answering each IPC message with `{sent, durations}`. `cleanup` runs once it has exited.
 */
export function runFloorScript(script: string, args: readonly string[], cleanup = () => {}): FloorRun {
  const child: ChildProcess = spawn(process.execPath, ["--input-type=module", "-e", script, ...args], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  return {
    pid: child.pid!,
    async sample() {
      child.send("sample?");
      const [reply] = (await once(child, "message")) as [{ sent: number; durations: number[] }];
      return { sent: reply.sent, durationsMs: reply.durations };
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill();
        await once(child, "exit");
      }
      cleanup();
    },
  };
}
