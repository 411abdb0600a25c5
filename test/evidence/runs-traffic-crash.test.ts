import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpServer, json, type Loopback } from "../probes/loopback.js";
import { runCli, sleep, spawnAgent } from "../reliability/support.js";

/**
 * The attack of issue #23 on a real daemon: kill -9, restart, and at once post merchant spans
 * (the traffic token's holder can) dated across the crash gap. The new run stores and signs them,
 * yet the crashed run still ends at its own last probe result: spans never extend a run.
 */

const TOKEN = "runs-traffic-token-0123456789abcdef";
let api: Loopback;
let dir: string;
beforeAll(async () => {
  api = await httpServer({ "/ok": (_req, res) => json(res, 200, { status: "AUTHORIZED" }) });
  dir = mkdtempSync(join(tmpdir(), "slo-runs-traffic-"));
  writeFileSync(join(dir, "traffic.token"), `${TOKEN}\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, "slo.yaml"),
    [
      "version: 1",
      "agent: {region: test, listen: 127.0.0.1:0, data_dir: ./evidence}",
      "service_classes:",
      "  transaction_critical: {title: Transactions Critical Services, availability_target_pct: 99.0}",
      "categories:",
      "  payment_request: {title: Payment Request, service_class: transaction_critical, latency_p99_ms: 1500}",
      "targets:",
      `  api: {base_url: "${api.origin}", environment: simulator}`,
      "traffic:",
      "  token_file: traffic.token",
      "  routes:",
      "    - {method: GET, path: /ok, target: api, category: payment_request}",
      "probes:",
      "  - {id: p0, category: payment_request, target: api, every: 1s, path: /ok, timeout_ms: 2000}",
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function onStore<T>(read: (db: Database.Database) => T): T {
  const db = new Database(join(dir, "evidence", "evidence.sqlite"), { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const probeResults = () => {
  try {
    return onStore(
      (db) => db.prepare("SELECT count(*) FROM results WHERE source IS NULL").pluck().get() as number,
    );
  } catch {
    return 0;
  }
};

async function untilProbed(count: number): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (probeResults() < count && Date.now() < deadline) await sleep(100);
  expect(probeResults()).toBeGreaterThanOrEqual(count);
}

/** An OTLP/JSON export of GET /ok spans starting at each of `starts`. */
async function postSpans(agent: string, starts: readonly number[]): Promise<Record<string, unknown>> {
  const spans = starts.map((ms) => ({
    traceId: randomBytes(16).toString("hex"),
    spanId: randomBytes(8).toString("hex"),
    name: "GET",
    kind: 3,
    startTimeUnixNano: `${ms}000000`,
    endTimeUnixNano: `${ms + 50}000000`,
    attributes: [
      { key: "http.request.method", value: { stringValue: "GET" } },
      { key: "url.full", value: { stringValue: `${api.origin}/ok` } },
      { key: "http.response.status_code", value: { intValue: "200" } },
    ],
  }));
  const response = await fetch(`${agent}/v1/traces`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({
      resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: "t" }, spans }] }],
    }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

const run = () => spawnAgent(["run", "--config", "slo.yaml", "--listen", "127.0.0.1:0"], { cwd: dir });
const iso = (ts: number) => new Date(ts).toISOString();

describe("a real agent killed with SIGKILL, then sent spans dated across the gap", () => {
  it("the crashed run still ends at its last probe result: the spans the next run stored do not cover the gap", {
    timeout: 400_000,
  }, async () => {
    const crashed = run();
    await crashed.listening(90_000);
    await untilProbed(3);
    crashed.child.kill("SIGKILL");
    expect((await crashed.exited).signal).toBe("SIGKILL");
    const lastOfCrashed = onStore((db) => db.prepare("SELECT max(ts) FROM results").pluck().get() as number);
    await sleep(4_000);
    const before = probeResults();
    const clean = run();
    const agent = await clean.listening(90_000);
    // Right after "listening": one span every 250 ms from the crash up to now.
    const starts: number[] = [];
    for (let t = lastOfCrashed + 250; t < Date.now() - 100; t += 250) starts.push(t);
    expect(await postSpans(agent, starts)).toEqual({});
    await untilProbed(before + 3);
    clean.child.kill("SIGTERM");
    const stopped = await clean.exited;
    expect(stopped.code, clean.output().stderr).toBe(0);

    const { runStarts, spansInGap } = onStore((db) => ({
      runStarts: db
        .prepare("SELECT ts FROM input_records WHERE kind = 'run_start' ORDER BY seq")
        .pluck()
        .all() as number[],
      spansInGap: db
        .prepare("SELECT count(*) FROM results WHERE source = 'traffic' AND ts > ?")
        .pluck()
        .get(lastOfCrashed) as number,
    }));
    expect(runStarts).toHaveLength(2);
    expect(spansInGap, "the spans were stored").toBe(starts.length);
    const month = iso(runStarts[0]!).slice(0, 7);
    const out = await runCli(["report", "--month", month, "--format", "json", "--config", "slo.yaml"], {
      cwd: dir,
      timeoutMs: 120_000,
    });
    expect(out.code, out.stderr).toBe(0);
    const unmonitored = JSON.parse(out.stdout).unmonitored as { start: string; end: string }[];
    expect(unmonitored).toContainEqual({ start: iso(lastOfCrashed), end: iso(runStarts[1]!) });
  });
});
