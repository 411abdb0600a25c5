import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";

const UNDICI = join(import.meta.dirname, "../../node_modules/undici/index.js");

/**
 * The floor under the agent's CPU: a bare Node.js process that only sends the same requests with
 * the same HTTP client (undici, the agent's), at the same rate and spread, and reads the bodies —
 * no scheduling, evidence, windows, metrics or classification. What it costs, the agent cannot
 * cost less; the targets are compared with it in bench/results.md.
 */
const CLIENT = `
const { Agent, request } = await import(process.argv[1]);
const [origin, probes, everyMs, keepAlive] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5] === "1"];
const agent = new Agent({ pipelining: keepAlive ? 1 : 0, keepAliveTimeout: 30000 });
let sent = 0;
for (let i = 0; i < probes; i++) {
  const fire = async () => {
    try {
      const response = await request(origin + "/bench/" + i, { dispatcher: agent, reset: !keepAlive });
      await response.body.text();
      sent++;
    } catch {}
  };
  // Spread over the interval like the agent's scheduler spreads its probes.
  setTimeout(() => { fire(); setInterval(fire, everyMs); }, (i * everyMs) / probes);
}
process.on("message", () => process.send(sent));
`;

export interface FloorRun {
  readonly pid: number;
  /** Requests answered so far. */
  sent(): Promise<number>;
  stop(): Promise<void>;
}

export function startFloorClient(
  origin: string,
  probes: number,
  everySeconds: number,
  keepAlive: boolean,
): FloorRun {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      CLIENT,
      UNDICI,
      origin,
      String(probes),
      String(everySeconds * 1000),
      keepAlive ? "1" : "0",
    ],
    { stdio: ["ignore", "ignore", "inherit", "ipc"] },
  );
  return {
    pid: child.pid!,
    async sent() {
      child.send("sent?");
      const [count] = (await once(child, "message")) as [number];
      return count;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill();
        await once(child, "exit");
      }
    },
  };
}
