import { connect, type Socket } from "node:net";
import { systemClock } from "../../src/clock/system.js";
import { openEvidenceStore } from "../../src/record/index.js";
import { sleep } from "./process-stats.js";

/**
 * The loads of issue 24 that once became the provider's latency, made against a running agent's
 * own HTTP server for `seconds`: a pipelined /metrics flood, a scrape storm and month summaries.
 */

/** Three connections each sending 3,000 pipelined GET /metrics at once and never reading a reply. */
export async function pipelinedFlood(url: string, seconds: number): Promise<void> {
  const { port } = new URL(url);
  const burst = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(3_000);
  const sockets: Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const socket = connect(Number(port), "127.0.0.1");
    socket.on("error", () => {});
    socket.pause();
    socket.write(burst);
    sockets.push(socket);
  }
  await sleep(seconds * 1000);
  for (const socket of sockets) socket.destroy();
}

/** `scrapers` clients each fetching /metrics again as soon as the last one arrived. */
export async function scrapeStorm(url: string, scrapers: number, seconds: number): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let scrapes = 0;
  const scraper = async () => {
    while (Date.now() < until) {
      await fetch(`${url}/metrics`)
        .then((r) => r.arrayBuffer())
        .then(() => scrapes++)
        .catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: scrapers }, scraper));
  return scrapes;
}

/** The month summary (GET /api/v1/months/YYYY-MM/summary) asked for again as soon as one arrived. */
export async function monthSummaries(url: string, token: string, seconds: number): Promise<number> {
  const month = new Date().toISOString().slice(0, 7);
  const until = Date.now() + seconds * 1000;
  let answered = 0;
  while (Date.now() < until) {
    const response = await fetch(`${url}/api/v1/months/${month}/summary`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await response.arrayBuffer();
    if (response.status === 200) answered++;
  }
  return answered;
}

/** The month so far, one result a minute for each probe, so that a summary has a month to read. */
export function seedMonthSoFar(dataDir: string, probes: readonly { id: string; category: string }[]): void {
  const store = openEvidenceStore({
    dataDir,
    clock: systemClock,
    logger: () => {},
    identity: { agent: "bench-agent", region: "eu" },
  });
  const now = Date.now();
  const start = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  try {
    const batch = [];
    for (let ts = start; ts < now - 60_000; ts += 60_000) {
      for (const [i, probe] of probes.entries()) {
        batch.push({
          ts: ts + i,
          probe: probe.id,
          category: probe.category,
          status: 200,
          durationMs: 1 + (ts % 7),
          error: null,
          errorCode: null,
          correlationId: null,
        });
      }
    }
    store.importResults(batch);
  } finally {
    store.close();
  }
}
