import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

/**
 * The probed target, in a process of its own so its CPU is not counted for either tool: every
 * request is answered after a fixed delay, with keep-alive, like an API whose server takes 20 ms.
 */
const SERVER = `
const http = require("node:http");
const delay = Number(process.argv[1]);
const server = http.createServer((req, res) => {
  setTimeout(() => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"status":"ok"}');
  }, delay);
});
server.keepAliveTimeout = 60000;
server.maxConnections = 20000;
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
`;

export interface DelayedTarget {
  readonly origin: string;
  readonly delayMs: number;
  stop(): void;
}

export async function startDelayedTarget(delayMs: number): Promise<DelayedTarget> {
  const child: ChildProcess = spawn(process.execPath, ["-e", SERVER, String(delayMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
  return { origin: `http://127.0.0.1:${chunk.toString().trim()}`, delayMs, stop: () => child.kill() };
}
