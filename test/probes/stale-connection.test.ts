import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import type { HttpProbeSpec } from "../../src/model/config.js";
import { createTargetDispatcher, runProbe } from "../../src/probes/index.js";
import { httpSpec, type Loopback, target, tcpServer } from "./loopback.js";

let server: Loopback | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const OK =
  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}";

/**
 * A server that answers the first `answered` requests of each connection, then closes the
 * connection (a FIN, no response) at the next request: an idle kept-alive socket closed by the
 * server at the moment the client reuses it, without the timing race.
 */
async function closingServer(answered: number) {
  const log = { connections: 0, requests: 0 };
  server = await tcpServer((socket: Socket) => {
    log.connections++;
    let served = 0;
    let pending = "";
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      pending += chunk.toString("latin1");
      while (pending.includes("\r\n\r\n")) {
        const end = pending.indexOf("\r\n\r\n") + 4;
        const length = Number(/content-length: *(\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
        pending = pending.slice(end + length);
        log.requests++;
        if (served++ < answered) socket.write(OK);
        else return void socket.end();
      }
    });
  });
  return log;
}

async function probeRuns(origin: string, runs: number, overrides: Partial<HttpProbeSpec> = {}) {
  const t = target(origin);
  const dispatcher = createTargetDispatcher(t, { clock: systemClock });
  try {
    const results = [];
    for (let i = 0; i < runs; i++) {
      const spec = httpSpec("/payments/v1/sessions/0", { timeoutMs: 5_000, ...overrides });
      results.push((await runProbe({ spec, target: t, dispatcher, clock: systemClock })).result);
      // undici returns the connection to its pool in the tick after the response ends; runs
      // 30 s apart always find it there.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return results;
  } finally {
    await dispatcher.close().catch(() => {});
  }
}

describe("a kept-alive connection the server closed as the agent reused it", () => {
  it("is retried once on another connection and the retry's response is the one result recorded", async () => {
    const log = await closingServer(1);
    const results = await probeRuns(server!.origin, 2);
    expect(results.map((r) => [r.status, r.error])).toEqual([
      [200, null],
      [200, null],
    ]);
    expect(results[1]!.detail).toMatch(
      /^retried once: the reused idle connection was closed before any response/,
    );
    expect(results[0]!.detail ?? null).toBeNull();
    // first run, the stale attempt, the retry on a second connection
    expect(log).toEqual({ connections: 2, requests: 3 });
  });

  it("is not retried when the method is not idempotent (a POST may have been processed)", async () => {
    const log = await closingServer(1);
    const results = await probeRuns(server!.origin, 2, { method: "POST", body: "{}" });
    expect(results.map((r) => [r.status, r.error])).toEqual([
      [200, null],
      [null, "reset"],
    ]);
    expect(log).toEqual({ connections: 1, requests: 2 });
  });
});

describe("a fresh connection closed without a response", () => {
  it("stays the server's failure: reset, with no retry", async () => {
    const log = await closingServer(0);
    const [result] = await probeRuns(server!.origin, 1);
    expect(result).toMatchObject({ status: null, error: "reset" });
    expect(result!.detail).not.toMatch(/retried/);
    expect(log).toEqual({ connections: 1, requests: 1 });
  });
});
