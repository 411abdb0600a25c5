import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpServer, json, type Loopback } from "../probes/loopback.js";
import { fdsOf, sleep, spawnAgent, writeLoopbackConfig } from "./support.js";

/**
 * A slowloris against the agent's own server: CONNECTIONS connections, half idle and half
 * sending a /metrics request one header byte at a time, while a well-behaved scraper asks for
 * /metrics. The agent runs with `ulimit -n 1024`, the limit many containers get: without a
 * connection cap, the held connections take every descriptor.
 * Promised (behaviour, not speed, so a busy machine cannot fail it): every scrape is answered
 * while the slow clients hold their connections, and the server itself cuts every slow client
 * off (headers timeout, or the cap evicting idle ones). SCRAPE_LIMIT_MS only keeps a hung scrape
 * from hanging the test; it is not a latency bound.
 */
const CONNECTIONS = 1_100;
const SCRAPE_LIMIT_MS = 60_000;
const MIN_SCRAPES = 3;

async function firstProbeSeries(origin: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const body = await fetch(`${origin}/metrics`).then((r) => r.text());
    if (body.includes("slo_probe_requests_total")) return;
    await sleep(500);
  }
  throw new Error("the probe's first result never reached /metrics");
}

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

  it(`answers /metrics while ${CONNECTIONS} slow and idle connections are held, and cuts the slow ones off`, {
    timeout: 180_000,
  }, async () => {
    const agent = spawnAgent(["run", "--config", "slo.yaml", "--listen", "127.0.0.1:0"], {
      cwd: dir,
      fdLimit: 1024,
    });
    try {
      const url = new URL(await agent.listening(90_000));
      const port = Number(url.port);
      // The probe's series appear with its first result: wait for it before the attack, so every
      // scrape during it can be held to the same answer.
      await firstProbeSeries(url.origin);
      const slowOpen = new Set<Socket>();
      const cutOffByServer = new Set<Socket>();
      for (let i = 0; i < CONNECTIONS; i++) {
        const socket = connect(port, "127.0.0.1");
        socket.on("error", () => {});
        sockets.push(socket);
        if (i % 2 === 0) {
          // Slow: a request line, then one header byte at a time, never finishing.
          socket.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
          slowOpen.add(socket);
          // We never end or destroy a slow socket before the end: a close is the server's doing.
          socket.on("close", () => {
            slowOpen.delete(socket);
            cutOffByServer.add(socket);
          });
        }
        if (i % 100 === 99) await sleep(50);
      }
      const drip = setInterval(() => {
        for (const s of slowOpen) s.write("a");
      }, 2_000);
      const failed: string[] = [];
      let scrapes = 0;
      let answeredWhileHeld = 0;
      let maxFds = 0;
      try {
        // Scrape until the server has cut off every slow client (and at least MIN_SCRAPES times);
        // bounded by the test's own timeout.
        while (slowOpen.size > 0 || scrapes < MIN_SCRAPES) {
          const held = slowOpen.size > 0;
          const started = Date.now();
          try {
            const response = await fetch(`${url.origin}/metrics`, {
              signal: AbortSignal.timeout(SCRAPE_LIMIT_MS),
            });
            const body = await response.text();
            if (response.status !== 200 || !body.includes("slo_probe_requests_total")) {
              failed.push(`HTTP ${response.status} after ${Date.now() - started} ms`);
            } else if (held) answeredWhileHeld++;
          } catch (error) {
            failed.push(`${(error as Error).message} after ${Date.now() - started} ms`);
          }
          scrapes++;
          maxFds = Math.max(maxFds, fdsOf(agent.child.pid!));
          await sleep(1_000);
        }
      } finally {
        clearInterval(drip);
      }
      console.log(
        `slowloris: ${CONNECTIONS} connections, ${scrapes} scrapes (${answeredWhileHeld} while slow clients held connections), ${cutOffByServer.size} slow clients cut off by the server, agent fds max ${maxFds}, failed: ${failed.length}`,
      );
      expect(failed).toEqual([]);
      expect(answeredWhileHeld).toBeGreaterThan(0);
      expect(cutOffByServer.size).toBe(CONNECTIONS / 2);
    } finally {
      agent.child.kill("SIGTERM");
      await agent.exited;
    }
  });
});
