import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpServer, json, type Loopback } from "../probes/loopback.js";
import { fdsOf, sleep, spawnAgent, writeLoopbackConfig } from "./support.js";

/**
 * A slowloris against the agent's own server: CONNECTIONS connections, half idle and half
 * sending a /metrics request one header byte at a time, held for HOLD_MS while a well-behaved
 * scraper asks for /metrics every second. The agent runs with `ulimit -n 1024`, the limit many
 * containers get: without a connection cap, the held connections take every descriptor.
 * Every scrape must be answered within SCRAPE_BOUND_MS.
 */
const CONNECTIONS = 1_100;
const HOLD_MS = 15_000;
const SCRAPE_BOUND_MS = 5_000;

describe("a slowloris against /metrics", () => {
  let api: Loopback;
  let dir: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    api = await httpServer({ "/ok": (_req, res) => json(res, 200, { status: "AUTHORIZED" }) });
    dir = mkdtempSync(join(tmpdir(), "slo-slowloris-"));
    writeLoopbackConfig(
      dir,
      [`  api: {base_url: "${api.origin}", environment: simulator}`],
      ["  - {id: ok, category: payment_request, target: api, every: 1s, path: /ok, timeout_ms: 2000}"],
    );
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`answers every /metrics scrape within ${SCRAPE_BOUND_MS} ms while ${CONNECTIONS} slow and idle connections are held`, {
    timeout: 120_000,
  }, async () => {
    const agent = spawnAgent(["run", "--config", "slo.yaml", "--listen", "127.0.0.1:0"], {
      cwd: dir,
      fdLimit: 1024,
    });
    try {
      const url = new URL(await agent.listening(90_000));
      const port = Number(url.port);
      for (let i = 0; i < CONNECTIONS; i++) {
        const socket = connect(port, "127.0.0.1");
        socket.on("error", () => {});
        sockets.push(socket);
        if (i % 2 === 0) {
          // Slow: a request line, then one header byte at a time, never finishing.
          socket.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
        }
        if (i % 100 === 99) await sleep(50);
      }
      const drip = setInterval(() => {
        for (const [i, s] of sockets.entries()) if (i % 2 === 0 && !s.destroyed) s.write("a");
      }, 2_000);
      const slow: string[] = [];
      let scrapes = 0;
      let maxFds = 0;
      try {
        const until = Date.now() + HOLD_MS;
        while (Date.now() < until) {
          const started = Date.now();
          try {
            const response = await fetch(`${url.origin}/metrics`, {
              signal: AbortSignal.timeout(SCRAPE_BOUND_MS),
            });
            const body = await response.text();
            if (response.status !== 200 || !body.includes("slo_probe_requests_total")) {
              slow.push(`HTTP ${response.status} after ${Date.now() - started} ms`);
            }
          } catch (error) {
            slow.push(`${(error as Error).message} after ${Date.now() - started} ms`);
          }
          scrapes++;
          maxFds = Math.max(maxFds, fdsOf(agent.child.pid!));
          await sleep(1_000);
        }
      } finally {
        clearInterval(drip);
      }
      const open = sockets.filter((s) => !s.destroyed).length;
      console.log(
        `slowloris: ${CONNECTIONS} connections (${open} still open at the end), ${scrapes} scrapes, agent fds max ${maxFds}, failed: ${slow.length}`,
      );
      expect(scrapes).toBeGreaterThan(5);
      expect(slow).toEqual([]);
    } finally {
      agent.child.kill("SIGTERM");
      await agent.exited;
    }
  });
});
