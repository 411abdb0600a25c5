import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock/system.js";
import { createTargetDispatcher, runProbe } from "../../src/probes/index.js";
import { httpSpec, type Loopback, target, tcpServer } from "./loopback.js";

let server: Loopback | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function probeOnce(origin: string, timeoutMs: number, runs = 1) {
  const t = target(origin);
  const dispatcher = createTargetDispatcher(t, { clock: systemClock });
  try {
    const results = [];
    for (let i = 0; i < runs; i++) {
      const spec = httpSpec("/payments/v1/sessions/0", { timeoutMs });
      results.push((await runProbe({ spec, target: t, dispatcher, clock: systemClock })).result);
    }
    return results;
  } finally {
    await dispatcher.close().catch(() => {});
  }
}

describe("a server that breaks HTTP, not the connection", () => {
  it("classifies a flood of unasked 100 Continue as protocol, with a detail saying so (not reset)", async () => {
    server = await tcpServer((socket: Socket) => {
      socket.on("error", () => {});
      socket.once("data", () => {
        let rounds = 0;
        const flood = () => {
          if (!socket.destroyed && rounds++ < 2000)
            socket.write("HTTP/1.1 100 Continue\r\n\r\n".repeat(50), flood);
        };
        flood();
      });
    });
    const [result] = await probeOnce(server.origin, 5_000);
    expect(result).toMatchObject({ status: null, error: "protocol" });
    expect(result!.detail).toMatch(
      /^UND_ERR_SOCKET: bad response: the server sent a response that was not due/,
    );
  });
});

describe("a run that times out", () => {
  it("opens one connection per run and no extra, empty one", async () => {
    const connections: { bytes: number }[] = [];
    server = await tcpServer((socket: Socket) => {
      const seen = { bytes: 0 };
      connections.push(seen);
      socket.on("error", () => {});
      socket.on("data", (chunk) => {
        seen.bytes += chunk.length; // and never answer
      });
    });
    const results = await probeOnce(server.origin, 200, 3);
    expect(results.map((r) => r.error)).toEqual(["timeout", "timeout", "timeout"]);
    // Give a stray reconnect time to arrive: it came within a few milliseconds of the abort.
    await new Promise((r) => setTimeout(r, 300));
    expect(connections).toHaveLength(3);
    expect(connections.every((c) => c.bytes > 0)).toBe(true);
  });
});
