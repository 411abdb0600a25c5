import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, sleep } from "../support/eventually.js";
import { startProcess } from "../support/processes.js";

/**
 * ATTACK-24d, NOT CAUGHT 6 (issue 24, Deliver 4: "a slow target cannot starve the others"): 34
 * hanging targets with 8 probes each fill their default max_in_flight of 8, 272 runs in all. The
 * agent's runs in flight were also capped at 256 overall, so the hanging targets held every slot
 * and a healthy fast target beside them lost its runs as no_slot. Each target must always be able
 * to have its own max_in_flight runs in flight, whatever the others do.
 */

const MAIN = join(import.meta.dirname, "../../dist/cli/main.js");
const HANGING_TARGETS = 34;
const PROBES_EACH = 8;
const HANGING_RUNS = HANGING_TARGETS * PROBES_EACH;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("hanging targets past the old global cap do not take a fast target's runs", {
  timeout: 120_000,
}, () => {
  const sockets = new Set<Socket>();
  let hangingRequests = 0;
  let hang: Server;
  let fast: Server;
  let dir: string;
  let metrics = "";
  let hanging = 0;

  beforeAll(async () => {
    // Never answers: each run holds its slot for its whole 60 s timeout.
    hang = createServer(() => {
      hangingRequests++;
    });
    hang.on("connection", (socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
    fast = createServer((_req, res) => res.writeHead(200).end("ok"));
    const hangUrl = await listen(hang);
    const fastUrl = await listen(fast);
    dir = await mkdtemp(join(tmpdir(), "slo-slow-targets-"));
    const targets = Array.from(
      { length: HANGING_TARGETS },
      (_, k) => `  hang${k}: {base_url: "${hangUrl}", environment: simulator, auth: {type: none}}`,
    );
    const hangingProbes = Array.from({ length: HANGING_RUNS }, (_, i) => {
      const k = Math.floor(i / PROBES_EACH);
      return `  - {id: h${k}x${i % PROBES_EACH}, category: payment_request, target: hang${k}, every: 1s, path: /x, timeout_ms: 60000}`;
    });
    await writeFile(
      join(dir, "slo.yaml"),
      `version: 1
agent: {id: budget-1, region: test, listen: 127.0.0.1:0, data_dir: ./evidence}
service_classes:
  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}
categories:
  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}
targets:
  fast: {base_url: "${fastUrl}", environment: simulator, auth: {type: none}}
${targets.join("\n")}
probes:
  - {id: b0, category: payment_request, target: fast, every: 1s, path: /x, timeout_ms: 500}
  - {id: b1, category: payment_request, target: fast, every: 1s, path: /x, timeout_ms: 500}
${hangingProbes.join("\n")}
sla:
  provider: Example PSP
  credits: [{below_pct: 99.0, credit_pct: 10}]
`,
    );
    const agent = startProcess(process.execPath, [MAIN, "run", "--config", join(dir, "slo.yaml")], dir);
    try {
      const listening = await agent.listening(60_000);
      // The hanging targets hold at least the old cap's 256 runs in flight.
      await eventually(() => hangingRequests >= 256, 60_000, "256 hanging runs", { context: agent.output });
      // Three more due runs of each fast probe while all of them hang, then one refresh of the
      // self-metrics (every 5 s): not a timing measure, a wait for runs to come due, which before
      // the fix had no slot to start in, and for /metrics to count them.
      await sleep(3_000 + 5_000);
      metrics = await (await fetch(`${listening}/metrics`)).text();
      hanging = hangingRequests;
    } finally {
      for (const socket of sockets) socket.destroy();
      await agent.stop();
    }
  }, 120_000);

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => hang?.close(r));
    await new Promise((r) => fast?.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the fast target's runs are all made: none skipped for want of a slot, coverage 1", () => {
    for (const probe of ["b0", "b1"]) {
      const skipped = metrics.match(
        new RegExp(`^slo_agent_skipped_runs_total\\{[^}]*probe="${probe}",reason="no_slot"\\} (\\d+)`, "m"),
      );
      expect(skipped, `no_slot series of ${probe}`).not.toBeNull();
      expect(Number(skipped![1]), `${probe} runs skipped as no_slot`).toBe(0);
      const coverage = metrics.match(
        new RegExp(`^slo_agent_coverage_ratio\\{[^}]*probe="${probe}"[^}]*\\} ([\\d.e+-]+)`, "m"),
      );
      expect(coverage, `coverage of ${probe}`).not.toBeNull();
      expect(Number(coverage![1]), `coverage of ${probe}`).toBe(1);
    }
  });

  it("each hanging target has its whole max_in_flight in flight: all 272 hanging runs started", () => {
    expect(hanging).toBe(HANGING_RUNS);
  });
});
