import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock } from "../clock/clock.js";
import type { HttpProbeSpec, Target } from "../model/config.js";
import { createTargetDispatcher } from "./connection.js";
import { runProbe } from "./harness.js";

/**
 * Runs the HTTP probe's code once, unmeasured, against a loopback server of its own, before the
 * first measured run: a thread's first request loads and compiles undici's request path, the
 * HTTP parser and the harness (measured: 40-100 ms before the first request was written, against
 * under a millisecond once warm), time that is the agent's and would otherwise sit in the first
 * result of every target. Nothing from here is recorded; a failure only leaves the code cold.
 */
export async function warmUpHttpProbes(clock: Clock): Promise<void> {
  const server = createServer(answer);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  const target: Target = {
    id: "warm-up",
    baseUrl: `http://127.0.0.1:${port}`,
    environment: "simulator",
    auth: { type: "none" },
    headers: {},
    maxRequestsPerSecond: null,
    keepAlive: true,
    tlsVerify: true,
  };
  const dispatcher = createTargetDispatcher(target, { clock });
  try {
    // A success, a vendor error body and a request with a body; fresh and reused connections.
    for (const spec of [get("/ok"), get("/missing"), post("/ok"), get("/ok"), get("/missing"), post("/ok")]) {
      await runProbe({ spec, target, dispatcher, clock });
    }
  } finally {
    await dispatcher.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on("end", () => {
    if (req.url === "/ok") res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    else
      res
        .writeHead(404, { "content-type": "application/json", "klarna-correlation-id": "warm-up" })
        .end('{"error_code":"NOT_FOUND","error_messages":["warm-up"],"correlation_id":"warm-up"}');
  });
}

function get(path: string): HttpProbeSpec {
  return {
    kind: "http",
    id: "warm-up",
    category: "warm-up",
    target: "warm-up",
    schedule: { kind: "every", intervalMs: 60_000 },
    method: "GET",
    path,
    headers: {},
    body: null,
    timeoutMs: 5_000,
    writes: false,
    followRedirects: 0,
    maxBodyBytes: 1 << 16,
    source: { file: "(warm-up)", line: 0 },
  };
}

function post(path: string): HttpProbeSpec {
  return { ...get(path), method: "POST", body: '{"warm":"up"}' };
}
